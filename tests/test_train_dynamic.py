"""Dynamic multi-reward optimisation: pool handling, a tiny run and resume."""

import json
import shutil

import pytest
from conftest import TINY_HPARAMS, TINY_LORA, toy_pool, toy_rows
from transformers import AutoModelForCausalLM, AutoTokenizer

from algharb.io import read_jsonl
from algharb.train.dynamic import pick_pair, run_dynamic
from algharb.train.pools import Candidate, pad_candidates, tokenize_pools
from algharb.train.losses import IGNORE_INDEX

LOG_KEYS = {"step", "loss", "lr", "w", "r_qe_mean", "r_self_mean", "preference_loss", "nll_loss", "kl_loss"}


def test_pick_pair_takes_extremes_with_ties_to_the_earlier():
    assert pick_pair([0.2, 0.9, 0.9, 0.1, 0.1]) == (1, 3)
    assert pick_pair([0.5, 0.5]) == (0, 1)


def test_pools_drop_duplicate_texts_and_sources_without_two_candidates(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    rows = toy_pool(toy_rows(2))
    rows[1]["candidates"] = rows[1]["candidates"][:2]  # the same text twice
    pools, stats = tokenize_pools(tokenizer, rows, max_length=128)
    assert len(pools) == 1 and len(pools[0]) == 3  # the duplicate reference is gone
    assert stats == {"sources": 2, "kept": 1, "fewer_than_two_distinct": 1, "candidates_too_long": 0}
    candidate = pools[0][0]
    completion = tokenizer.decode(candidate.input_ids[candidate.start :])
    assert completion == rows[0]["candidates"][0]["text"] + tokenizer.eos_token


def test_pad_candidates_labels_only_the_completion():
    batch = pad_candidates([Candidate((5, 6, 7), 2, 0.5), Candidate((5, 8), 1, 0.1)], pad_id=0, device="cpu")
    assert batch["input_ids"].tolist() == [[5, 6, 7], [5, 8, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["labels"].tolist() == [[IGNORE_INDEX, IGNORE_INDEX, 7], [IGNORE_INDEX, 8, IGNORE_INDEX]]


def test_missing_model_dir_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent_model"):
        run_dynamic(tmp_path / "absent_model", toy_pool(toy_rows(2)), tmp_path / "out", tmp_path / "ckpt", {})


def test_dynamic_run_logs_the_schedule_and_saves_a_merged_model(tiny_model_dir, tmp_path):
    hparams = {**TINY_HPARAMS, **TINY_LORA, "max_steps": 4, "save_steps": 10, "learning_rate": 1e-3}
    out = run_dynamic(tiny_model_dir, toy_pool(toy_rows(16)), tmp_path / "out", tmp_path / "ckpt", hparams,
                      throughput_log=tmp_path / "throughput.jsonl")
    log = read_jsonl(out / "train_log.jsonl")
    assert [row["step"] for row in log] == [1, 2, 3, 4]
    assert [(row["step"], row["tokens"]) for row in read_jsonl(tmp_path / "throughput.jsonl")] == [
        (step, None) for step in (1, 2, 3, 4)  # pools are scored and paired inside the loss: seconds only
    ]
    assert all(LOG_KEYS <= set(row) for row in log)
    weights = [row["w"] for row in log]
    assert weights[0] == pytest.approx(0.05) and weights[-1] == pytest.approx(0.8)
    assert weights == sorted(weights)
    for row in log:  # total = preference + nll + KL with unit weights
        assert row["loss"] == pytest.approx(row["preference_loss"] + row["nll_loss"] + row["kl_loss"], abs=1e-3)
    AutoModelForCausalLM.from_pretrained(out)
    assert (out / "adapter" / "adapter_model.safetensors").is_file()


def test_dynamic_resumes_and_keeps_the_schedule(tiny_model_dir, tmp_path):
    pool = toy_pool(toy_rows(16))
    out, ckpt = tmp_path / "out", tmp_path / "ckpt"
    hparams = {**TINY_HPARAMS, **TINY_LORA, "save_steps": 2, "learning_rate": 1e-3}
    run_dynamic(tiny_model_dir, pool, out, ckpt, {**hparams, "max_steps": 2})
    shutil.rmtree(out)
    run_dynamic(tiny_model_dir, pool, out, ckpt, {**hparams, "max_steps": 4})
    log = read_jsonl(out / "train_log.jsonl")
    assert [row["step"] for row in log] == [1, 2, 3, 4]
    assert [row["resumed_from"] for row in log] == [None, None, 2, 2]
    # w(t) of the resumed steps follows the new, longer schedule.
    assert [row["w"] for row in log[2:]] == pytest.approx([0.55, 0.8])
    assert json.loads((ckpt / "checkpoint-4" / "trainer_state.json").read_text())["global_step"] == 4


def test_the_dynamic_stage_takes_its_preference_loss_from_the_registry(tiny_model_dir, tmp_path, monkeypatch):
    """A loss registered under a new name is what the stage optimises when the config names it."""
    import torch

    from algharb.train.preference import PREFERENCE_LOSSES

    calls = []

    def margin_loss(logp_w, logp_l, beta):
        calls.append(len(logp_w))
        return torch.relu(1.0 - beta * (logp_w - logp_l)).mean()

    monkeypatch.setitem(PREFERENCE_LOSSES._entries, "toy_margin", margin_loss)
    hparams = {**TINY_HPARAMS, **TINY_LORA, "max_steps": 1, "save_steps": 10, "preference_loss": "toy_margin"}
    out = run_dynamic(tiny_model_dir, toy_pool(toy_rows(8)), tmp_path / "out", tmp_path / "ckpt", hparams)
    (row,) = read_jsonl(out / "train_log.jsonl")
    assert calls and row["preference_loss"] >= 0
    with pytest.raises(ValueError, match="unknown preference loss 'nope'"):
        run_dynamic(tiny_model_dir, toy_pool(toy_rows(8)), tmp_path / "out2", tmp_path / "ckpt2",
                    {**hparams, "preference_loss": "nope"})
