"""CPO: the chat-rendered examples and a tiny LoRA run that is merged and saved."""

import pytest
import torch
from conftest import TINY_HPARAMS, TINY_LORA, toy_pool, toy_rows
from transformers import AutoModelForCausalLM, AutoTokenizer

from algharb.io import read_jsonl
from algharb.prompts import render_prompt
from algharb.train.cpo import preference_examples, run_cpo
from algharb.train.preference_data import build_preference_pairs


def test_examples_use_the_shared_prompt_and_end_at_eos(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    pairs, _ = build_preference_pairs(toy_pool(toy_rows(2)), 0.1)
    example = preference_examples(tokenizer, pairs)[0]
    assert example["prompt"] == render_prompt(tokenizer, pairs[0]["src"], pairs[0]["src_lang"], pairs[0]["tgt_lang"])
    assert example["chosen"] == pairs[0]["chosen"] + tokenizer.eos_token
    assert example["rejected"] == pairs[0]["rejected"] + tokenizer.eos_token


def test_cpo_run_saves_a_merged_model_and_its_adapter(tiny_model_dir, tmp_path):
    pairs, _ = build_preference_pairs(toy_pool(toy_rows(16)), 0.1)
    hparams = {**TINY_HPARAMS, **TINY_LORA, "max_steps": 3, "save_steps": 2, "learning_rate": 1e-2}
    out = run_cpo(tiny_model_dir, pairs, tmp_path / "out", tmp_path / "ckpt", hparams,
                  throughput_log=tmp_path / "throughput.jsonl")

    merged = AutoModelForCausalLM.from_pretrained(out)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert not any("lora" in name for name in merged.state_dict())
    weight = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(merged.state_dict()[weight], base.state_dict()[weight])
    assert (out / "adapter" / "adapter_config.json").is_file()
    assert AutoTokenizer.from_pretrained(out).eos_token == "<|im_end|>"

    log = read_jsonl(out / "train_log.jsonl")
    assert [row["step"] for row in log] == [1, 2, 3]
    assert {"loss", "lr", "nll_loss", "rewards/margins", "rewards/accuracies"} <= set(log[0])
    # Each step trains on prompt+chosen and prompt+rejected of 8 pairs; padding is not counted.
    throughput = read_jsonl(tmp_path / "throughput.jsonl")
    assert [row["step"] for row in throughput] == [1, 2, 3]
    assert all(row["tokens"] > 16 and row["tokens_per_s"] is not None for row in throughput)
