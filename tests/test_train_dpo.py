"""DPO on the CPO pairs: a tiny LoRA run, and a reference model that never learns."""

import torch
from conftest import TINY_HPARAMS, TINY_LORA, toy_pool, toy_rows
from transformers import AutoModelForCausalLM

from algharb.io import read_jsonl
from algharb.train.common import load_tokenizer, train_with_resume
from algharb.train.config import DPOConfig
from algharb.train.cpo import preference_examples
from algharb.train.dpo import dpo_trainer, run_dpo
from algharb.train.preference_data import build_preference_pairs

HPARAMS = {**TINY_HPARAMS, **TINY_LORA, "max_steps": 3, "save_steps": 10, "learning_rate": 1e-2}


def test_dpo_run_saves_a_merged_model_and_logs_dpo_rewards(tiny_model_dir, tmp_path):
    pairs, _ = build_preference_pairs(toy_pool(toy_rows(16)), 0.1)
    out = run_dpo(tiny_model_dir, pairs, tmp_path / "out", tmp_path / "ckpt", HPARAMS,
                  throughput_log=tmp_path / "throughput.jsonl")
    merged = AutoModelForCausalLM.from_pretrained(out)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    weight = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(merged.state_dict()[weight], base.state_dict()[weight])
    assert (out / "adapter" / "adapter_config.json").is_file()
    log = read_jsonl(out / "train_log.jsonl")
    assert [row["step"] for row in log] == [1, 2, 3]
    assert {"loss", "rewards/margins", "rewards/accuracies"} <= set(log[0])
    throughput = read_jsonl(tmp_path / "throughput.jsonl")
    assert [row["step"] for row in throughput] == [1, 2, 3]
    assert all(row["tokens"] > 16 and row["tokens_per_s"] is not None for row in throughput)
    # DPO's implicit reward is β·(log π − log π_ref): zero at the first step, where the policy is the reference.
    assert abs(log[0]["rewards/margins"]) < 1e-4


def test_the_reference_model_receives_no_gradient(tiny_model_dir, tmp_path):
    """The reference (the adapter switched off) is the starting model before and after training."""
    hp = DPOConfig.from_dict({**HPARAMS, "max_steps": 2}, where="dpo")
    tokenizer = load_tokenizer(tiny_model_dir, hp.eos_token)
    pairs, _ = build_preference_pairs(toy_pool(toy_rows(16)), 0.1)
    trainer = dpo_trainer(tiny_model_dir, preference_examples(tokenizer, pairs), tokenizer, tmp_path / "ckpt", hp)
    model = trainer.model
    frozen = {name: p.detach().clone() for name, p in model.named_parameters() if "lora_" not in name}
    assert frozen and not any(p.requires_grad for n, p in model.named_parameters() if n in frozen)
    probe = tokenizer("alpha beta gamma", return_tensors="pt")
    with torch.no_grad(), model.disable_adapter():
        reference_before = model(**probe).logits.clone()

    train_with_resume(trainer, tmp_path / "ckpt")

    for name, param in model.named_parameters():
        if name in frozen:
            assert param.grad is None, name
            assert torch.equal(param.detach(), frozen[name]), name
    with torch.no_grad(), model.disable_adapter():
        assert torch.equal(model(**probe).logits, reference_before)
    with torch.no_grad():
        assert not torch.allclose(model(**probe).logits, reference_before)  # the policy did move
