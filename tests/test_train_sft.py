"""Supervised fine-tuning: examples, batch layout, learning, checkpoint resume."""

import json
import shutil

import pytest
from conftest import TINY_HPARAMS, toy_rows
from transformers import AutoModelForCausalLM

from algharb.io import read_jsonl
from algharb.prompts import completion_messages, translation_messages
from algharb.train.common import gradient_accumulation_steps, resolve_hparams
from algharb.train.sft import SFT_DEFAULTS, run_sft, sft_examples


def test_examples_are_conversational_prompt_completion_and_seeded():
    rows = toy_rows(10)
    examples = sft_examples(rows, seed=3)
    first = next(e for e in examples if e["completion"] == completion_messages(rows[0]["tgt"]))
    assert first["prompt"] == translation_messages(rows[0]["src"], rows[0]["src_lang"], rows[0]["tgt_lang"])
    assert examples == sft_examples(rows, seed=3)
    assert examples != sft_examples(rows, seed=4)


def test_examples_name_the_missing_key():
    with pytest.raises(ValueError, match="row 1 lacks \\['tgt'\\]"):
        sft_examples([toy_rows(1)[0], {"src": "a", "src_lang": "qaa", "tgt_lang": "qab"}], seed=0)


def test_global_batch_is_split_over_devices_and_accumulation():
    assert gradient_accumulation_steps(64, 8, 1) == 8
    assert gradient_accumulation_steps(64, 4, 2) == 8
    with pytest.raises(ValueError, match="not divisible"):
        gradient_accumulation_steps(64, 6, 1)


def test_unknown_hparam_is_an_error():
    with pytest.raises(ValueError, match="learning_rte"):
        resolve_hparams("sft", SFT_DEFAULTS, {"learning_rte": 1e-5})


def test_world_size_from_environment_enters_the_layout(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "3")
    with pytest.raises(ValueError, match="WORLD_SIZE=3"):
        run_sft(tiny_model_dir, toy_rows(4), tmp_path / "out", tmp_path / "ckpt", {**TINY_HPARAMS, "max_steps": 1})


def test_missing_model_dir_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_model"):
        run_sft(tmp_path / "no_such_model", toy_rows(4), tmp_path / "out", tmp_path / "ckpt", {})


def test_sft_lowers_the_loss_on_a_copy_task(tiny_model_dir, tmp_path):
    rows = [row for row in toy_rows(64, words=4) if row["src"] == row["tgt"]]
    hparams = {
        **TINY_HPARAMS,
        "max_steps": 30,
        "learning_rate": 3e-3,
        "save_steps": 100,
        "lr_scheduler_type": "constant",
    }
    out = run_sft(tiny_model_dir, rows, tmp_path / "out", tmp_path / "ckpt", hparams)
    losses = [row["loss"] for row in read_jsonl(out / "train_log.jsonl")]
    assert len(losses) == 30
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.7 * first, (first, last)
    AutoModelForCausalLM.from_pretrained(out)


def test_sft_resumes_from_the_latest_checkpoint(tiny_model_dir, tmp_path):
    rows = toy_rows(64)
    out, ckpt = tmp_path / "out", tmp_path / "ckpt"
    hparams = {**TINY_HPARAMS, "save_steps": 2, "learning_rate": 1e-3}
    run_sft(tiny_model_dir, rows, out, ckpt, {**hparams, "max_steps": 4})
    assert [row["step"] for row in read_jsonl(out / "train_log.jsonl")] == [1, 2, 3, 4]

    shutil.rmtree(out)  # what Snakemake does to an incomplete output
    (ckpt / "checkpoint-5").mkdir()  # a checkpoint cut short by a kill: no trainer_state.json
    run_sft(tiny_model_dir, rows, out, ckpt, {**hparams, "max_steps": 6})

    log = read_jsonl(out / "train_log.jsonl")
    assert [row["step"] for row in log] == [1, 2, 3, 4, 5, 6]
    assert [row["resumed_from"] for row in log] == [None] * 4 + [4, 4]
    state = json.loads((ckpt / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()
