"""Supervised fine-tuning: examples, batch layout, learning, checkpoint resume."""

import json
import shutil
from pathlib import Path

import pytest
from conftest import TINY_HPARAMS, toy_rows
from transformers import AutoModelForCausalLM

from algharb.io import read_jsonl
from algharb.prompts import completion_messages, translation_messages
from algharb.config import ConfigError
from algharb.train.common import (CHECKPOINT_COMPLETE, gradient_accumulation_steps, latest_checkpoint,
                                  leave_process_group, stage_config)
from algharb.train.config import SFTConfig
from algharb.train.sft import run_sft, sft_examples


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
    with pytest.raises(ConfigError, match=r"unknown key 'sft\.learning_rte' \(did you mean 'learning_rate'\?\)"):
        stage_config(SFTConfig, {"learning_rte": 1e-5}, "sft")


def test_stage_hyperparameters_default_from_their_section():
    hp = stage_config(SFTConfig, {"max_steps": 3}, "sft")
    assert hp.max_steps == 3 and hp.learning_rate == 2e-5 and hp.adam_beta2 == 0.99
    assert stage_config(SFTConfig, hp, "sft") is hp


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
    # One whose main process finished while another rank was still writing: never marked complete.
    shutil.copytree(ckpt / "checkpoint-4", ckpt / "checkpoint-7")
    (ckpt / "checkpoint-7" / CHECKPOINT_COMPLETE).unlink()
    assert latest_checkpoint(ckpt) == str(ckpt / "checkpoint-4")
    assert not (ckpt / "checkpoint-5").exists() and (ckpt / "checkpoint-7").is_dir()
    shutil.rmtree(ckpt / "checkpoint-7")
    run_sft(tiny_model_dir, rows, out, ckpt, {**hparams, "max_steps": 6})

    log = read_jsonl(out / "train_log.jsonl")
    assert [row["step"] for row in log] == [1, 2, 3, 4, 5, 6]
    assert [row["resumed_from"] for row in log] == [None] * 4 + [4, 4]
    state = json.loads((ckpt / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()


def test_packed_examples_attend_only_within_themselves(tiny_model_dir, tmp_path):
    """The trainer's loss on a packed row equals the loss of its examples each run alone.

    Attention leaking across examples would change it. (The model's own
    forward would leak with its default ``use_cache=True``, which disables
    transformers' packed-sequence mask; TRL's loss passes ``use_cache=False``.)
    """
    import torch

    from algharb.train.sft import build_sft_trainer

    hparams = {**TINY_HPARAMS, "packing": True, "max_length": 96, "max_steps": 1}
    trainer = build_sft_trainer(tiny_model_dir, toy_rows(12), tmp_path / "ckpt", hparams)
    batch = next(iter(trainer.get_train_dataloader()))
    assert "attention_mask" not in batch  # padding-free: nothing is padded
    positions = batch["position_ids"][0].tolist()
    starts = [i for i, p in enumerate(positions) if p == 0] + [len(positions)]
    assert len(starts) > 2, "the row should hold several examples"
    model = trainer.model.eval()
    with torch.no_grad():
        packed_loss = trainer.compute_loss(model, dict(batch))
        nll, tokens = 0.0, 0
        for start, end in zip(starts, starts[1:]):
            logits = model(input_ids=batch["input_ids"][:, start:end], use_cache=False).logits[0, :-1]
            labels = batch["labels"][0, start + 1 : end]
            nll += torch.nn.functional.cross_entropy(logits, labels, ignore_index=-100, reduction="sum").item()
            tokens += int((labels != -100).sum())
    assert packed_loss.item() == pytest.approx(nll / tokens, rel=1e-5)


def test_packed_training_logs_its_tokens_per_step(tiny_model_dir, tmp_path):
    rows = toy_rows(16)
    log = tmp_path / "throughput.jsonl"
    hparams = {**TINY_HPARAMS, "packing": True, "max_length": 128, "max_steps": 2, "save_steps": 10}
    run_sft(tiny_model_dir, rows, tmp_path / "out", tmp_path / "ckpt", hparams, throughput_log=log)
    steps = read_jsonl(log)
    assert [row["step"] for row in steps] == [1, 2]
    assert all(row["tokens"] > 0 and row["tokens_per_s"] is not None for row in steps)
    summary = json.loads(log.with_suffix(".summary.json").read_text())
    assert summary["tokens"] == sum(row["tokens"] for row in steps) and summary["mfu"] is None  # CPU: no peak


def test_packing_and_length_grouping_exclude_each_other(tiny_model_dir, tmp_path):
    from algharb.train.sft import build_sft_trainer

    with pytest.raises(ValueError, match="packing and group_by_length"):
        build_sft_trainer(tiny_model_dir, toy_rows(4), tmp_path / "ckpt",
                          {**TINY_HPARAMS, "packing": True, "group_by_length": True})


def test_liger_kernel_without_the_package_or_a_gpu_is_a_clear_error(tiny_model_dir, tmp_path):
    with pytest.raises((ImportError, RuntimeError), match="use_liger_kernel"):
        run_sft(tiny_model_dir, toy_rows(4), tmp_path / "out", tmp_path / "ckpt",
                {**TINY_HPARAMS, "use_liger_kernel": True, "max_steps": 1})


def test_a_killed_sft_job_resumes_from_its_last_checkpoint(tiny_model_dir, tmp_path):
    """SIGKILL a training process after its first checkpoint; the rerun continues from there."""
    import os
    import signal
    import subprocess
    import sys
    import time

    rows_path, ckpt, out = tmp_path / "rows.json", tmp_path / "ckpt", tmp_path / "out"
    rows_path.write_text(json.dumps(toy_rows(64)))
    hparams = {**TINY_HPARAMS, "save_steps": 2, "learning_rate": 1e-3, "lr_scheduler_type": "constant"}
    script = (
        "import json, sys; from algharb.train.sft import run_sft; "
        "run_sft(sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4], json.loads(sys.argv[5]))"
    )
    job = subprocess.Popen([sys.executable, "-c", script, str(tiny_model_dir), str(rows_path), str(out), str(ckpt),
                            json.dumps({**hparams, "max_steps": 10_000})],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        # Any complete checkpoint: older ones are rotated away (save_total_limit).
        while not list(ckpt.glob(f"checkpoint-*/{CHECKPOINT_COMPLETE}")):
            assert job.poll() is None, "the training job ended before its first checkpoint"
            assert time.monotonic() < deadline, "no checkpoint within 5 minutes"
            time.sleep(0.2)
    finally:
        os.killpg(job.pid, signal.SIGKILL)
        job.wait()
    assert not out.exists()
    resumed = max(int(p.name.split("-")[1]) for p in ckpt.glob("checkpoint-*") if (p / CHECKPOINT_COMPLETE).is_file())

    run_sft(tiny_model_dir, toy_rows(64), out, ckpt, {**hparams, "max_steps": resumed + 2})
    log = read_jsonl(out / "train_log.jsonl")
    assert [row["step"] for row in log] == list(range(1, resumed + 3))
    assert {row["resumed_from"] for row in log[resumed:]} == {resumed}


def test_a_deepspeed_warmup_scheduler_without_warmup_is_refused_early(tiny_model_dir, tmp_path):
    with pytest.raises(ValueError, match="WarmupDecayLR, which needs warm-up steps"):
        run_sft(tiny_model_dir, toy_rows(4), tmp_path / "out", tmp_path / "ckpt",
                {**TINY_HPARAMS, "max_steps": 1,
                 "deepspeed": str(Path(__file__).resolve().parents[1] / "config" / "deepspeed_zero3.json")})


def test_a_rerun_with_other_data_or_hyperparameters_does_not_resume_the_old_checkpoints(tiny_model_dir, tmp_path):
    from algharb.io import write_jsonl
    from algharb.steps.train import run_training_step

    data = tmp_path / "rows.jsonl"
    out, ckpt = tmp_path / "out", tmp_path / "ckpt"
    hparams = {**TINY_HPARAMS, "max_steps": 4, "save_steps": 2, "learning_rate": 1e-3}

    def step(rows, **changes):
        write_jsonl(data, [{k: r[k] for k in ("src", "tgt", "src_lang", "tgt_lang")} for r in rows])
        shutil.rmtree(out, ignore_errors=True)  # what Snakemake does to an output it reruns
        run_training_step("sft", base={"path": str(tiny_model_dir)}, data_paths=[str(data)], out_dir=str(out),
                          checkpoint_dir=str(ckpt), hparams={**hparams, **changes}, threads=1)
        return read_jsonl(out / "train_log.jsonl")

    first = step(toy_rows(32, seed=1))
    shutil.rmtree(ckpt / "checkpoint-4")  # as if killed after step 3
    resumed = step(toy_rows(32, seed=1))  # the same run: resumed from its checkpoint
    assert [row["resumed_from"] for row in resumed] == [None, None, 2, 2]
    assert [row["loss"] for row in resumed] == [row["loss"] for row in first]
    for rows, changes in [(toy_rows(32, seed=2), {}), (toy_rows(32, seed=2), {"learning_rate": 2e-3})]:
        log = step(rows, **changes)
        assert [row["resumed_from"] for row in log] == [None] * 4, changes  # trained afresh
        assert [row["loss"] for row in log] != [row["loss"] for row in first]


def test_a_worker_leaves_its_process_group_before_exit_and_twice_is_harmless(tmp_path):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        leave_process_group()
        assert not dist.is_initialized()
        leave_process_group()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
