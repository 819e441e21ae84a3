"""Several training processes on the CPU (torchrun, gloo), started through the project's launch path.

A first multi-GPU job is where bugs in gradient accumulation, data sharding,
rank-0 saving and resume show, hours into an allocation; gloo runs the same
distributed code on CPU processes. Each test trains the tiny model with one
global batch split three ways (1, 2 or 3 processes; accumulation derived from
the process count) and compares step by step.

Why the losses can be compared this closely: each global batch holds the same
examples whatever the process count (the sampler's order is seeded, and the
micro-batches of an optimizer step are dealt to the ranks in order), each
rank's loss is normalised by the token count of the whole global batch, and
gloo sums the gradients. What differs is only the order of float32 sums: a
relative difference around 1e-6 per step. ``REL`` leaves room for that over a
few steps and fails on any real difference (a wrong accumulation halves or
doubles the batch and moves the loss by 1e-2 or more on these models).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import TINY_LORA, toy_pool, toy_rows
from safetensors.torch import load_file

from algharb.io import read_jsonl, write_jsonl
from algharb.launch import launch_command
from algharb.steps.train import run_training_step
from algharb.train.preference_data import build_preference_pairs

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
REL = 2e-5
# 24 examples, a global batch of 6 = 2 per process x accumulation (6, 3 or 2): 4 steps are one epoch.
HPARAMS = {"global_batch_size": 6, "per_device_batch_size": 1, "warmup_ratio": 0.0, "max_length": 128,
           "learning_rate": 1e-3, "lr_scheduler_type": "constant", "save_steps": 100, "max_steps": 4, "seed": 7}
N_ROWS = 24


@pytest.fixture
def nproc(monkeypatch):
    """Run training steps with ``n`` processes through ``algharb.launch`` (ALGHARB_NPROC_PER_NODE)."""

    def use(n: int) -> None:
        monkeypatch.setenv("ALGHARB_NPROC_PER_NODE", str(n))
        monkeypatch.delenv("SLURM_JOB_ID", raising=False)
        monkeypatch.delenv("SLURM_JOBID", raising=False)

    return use


def train(stage, nproc, n, model_dir, data, tmp_path, hparams):
    nproc(n)
    run = tmp_path / f"{stage}_{n}"
    data_path = run / "data.jsonl"
    run.mkdir()
    write_jsonl(data_path, data)
    model = {"path": str(model_dir)} if stage == "sft" else str(model_dir)
    run_training_step(stage, **{"base" if stage == "sft" else "model_dir": model}, data_paths=[str(data_path)],
                      out_dir=str(run / "out"), checkpoint_dir=str(run / "ckpt"), hparams=hparams, threads=1)
    return run


def log_rows(run):
    return read_jsonl(run / "out" / "train_log.jsonl")


def assert_same_steps(reference, other, keys):
    assert [row["step"] for row in other] == [row["step"] for row in reference]
    for ref_row, row in zip(reference, other):
        for key in keys:
            assert row[key] == pytest.approx(ref_row[key], rel=REL), (row["step"], key)


def weights(run):
    files = sorted((run / "out").glob("*.safetensors"))
    tensors = {}
    for path in files:
        tensors.update(load_file(path))
    return tensors


def assert_same_weights(a, b, atol=1e-5):
    first, second = weights(a), weights(b)
    for tensors in (first, second):  # DeepSpeed saves a tied LM head that save_pretrained leaves out
        if "lm_head.weight" in tensors:
            assert torch.equal(tensors.pop("lm_head.weight"), tensors["model.embed_tokens.weight"])
    assert first.keys() == second.keys()
    for name in first:
        torch.testing.assert_close(second[name], first[name], atol=atol, rtol=0, msg=name)


def sft_rows():
    return [{k: row[k] for k in ("src", "tgt", "src_lang", "tgt_lang")} for row in toy_rows(N_ROWS, seed=3)]


def test_sft_steps_match_with_one_two_and_three_processes(tiny_model_dir, tmp_path, nproc):
    runs = {n: train("sft", nproc, n, tiny_model_dir, sft_rows(), tmp_path, HPARAMS) for n in (1, 2, 3)}
    reference = log_rows(runs[1])
    assert len(reference) == 4 and reference[-1]["epoch"] == pytest.approx(1.0)
    for n in (2, 3):
        rows = log_rows(runs[n])
        assert len(rows) == 4, f"{n} processes: one log row per step, from rank 0 only"
        assert_same_steps(reference, rows, ("loss", "grad_norm", "epoch"))
        assert_same_weights(runs[1], runs[n])
        # Rank 0 alone saves: the same files as one process, bar one RNG state per rank in a checkpoint.
        assert sorted(p.name for p in (runs[n] / "out").iterdir()) == sorted(
            p.name for p in (runs[1] / "out").iterdir())
        single = {p.name for p in (runs[1] / "ckpt" / "checkpoint-4").iterdir()} - {"rng_state.pth"}
        several = {p.name for p in (runs[n] / "ckpt" / "checkpoint-4").iterdir()}
        assert several == single | {f"rng_state_{rank}.pth" for rank in range(n)}


@pytest.mark.parametrize("n", [2, 3])
def test_every_example_is_seen_once_per_epoch_across_ranks(tiny_model_dir, tmp_path, n):
    rows_path, hparams_path, out = tmp_path / "rows.jsonl", tmp_path / "hparams.json", tmp_path / "run"
    write_jsonl(rows_path, sft_rows())
    hparams_path.write_text(json.dumps({**HPARAMS, "max_steps": 8}), encoding="utf-8")  # two epochs
    out.mkdir()
    command = launch_command(str(ROOT / "tests" / "distributed_worker.py"),
                             [str(tiny_model_dir), str(rows_path), str(out), str(hparams_path)],
                             env={}, nproc_per_node=n)
    assert command[1:3] == ["-m", "torch.distributed.run"]
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert result.returncode == 0, result.stderr[-3000:]
    seen = {rank: read_jsonl(out / f"seen.rank{rank}.jsonl") for rank in range(n)}
    assert all(seen.values()), "every rank trains on its share"
    steps_per_epoch = N_ROWS // HPARAMS["global_batch_size"]
    for epoch in range(2):
        in_epoch = [tuple(row["ids"]) for rank in range(n) for row in seen[rank]
                    if epoch * steps_per_epoch <= row["step"] < (epoch + 1) * steps_per_epoch]
        assert len(in_epoch) == N_ROWS, f"epoch {epoch}: {len(in_epoch)} examples seen"
        assert len(set(in_epoch)) == N_ROWS, f"epoch {epoch}: an example was seen twice, another never"
        # Ranks see disjoint shares.
        shares = [{tuple(row["ids"]) for row in seen[rank]
                   if epoch * steps_per_epoch <= row["step"] < (epoch + 1) * steps_per_epoch} for rank in range(n)]
        assert sum(map(len, shares)) == len(set().union(*shares))


def preference_hparams(**extra):
    return {**HPARAMS, **TINY_LORA, "learning_rate": 1e-2, **extra}


def test_cpo_steps_match_with_one_two_and_three_processes(tiny_model_dir, tmp_path, nproc):
    pairs, _ = build_preference_pairs(toy_pool(toy_rows(N_ROWS, seed=5)), 0.1)
    assert len(pairs) == N_ROWS
    runs = {n: train("cpo", nproc, n, tiny_model_dir, pairs, tmp_path, preference_hparams()) for n in (1, 2, 3)}
    for n in (2, 3):
        assert_same_steps(log_rows(runs[1]), log_rows(runs[n]), ("loss", "grad_norm", "nll_loss"))
        assert_same_weights(runs[1], runs[n])


def test_dynamic_steps_match_with_one_two_and_three_processes(tiny_model_dir, tmp_path, nproc):
    pools = toy_pool(toy_rows(N_ROWS, seed=6))
    runs = {n: train("dynamic", nproc, n, tiny_model_dir, pools, tmp_path, preference_hparams())
            for n in (1, 2, 3)}
    for n in (2, 3):
        assert_same_steps(log_rows(runs[1]), log_rows(runs[n]), ("loss", "grad_norm", "w"))
        assert_same_weights(runs[1], runs[n])


def rank_pid(marker: str, rank: int) -> int | None:
    """The pid of the torchrun worker of ``rank`` whose command line holds ``marker``."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker.encode() in cmdline and b"algharb.steps.train" in cmdline and f"RANK={rank}".encode() in environ:
            return int(proc.name)
    return None


def test_a_killed_rank_fails_the_job_and_the_rerun_ends_with_the_same_model(tiny_model_dir, tmp_path, nproc):
    hparams = {**HPARAMS, "max_steps": 48, "save_steps": 8}
    reference = train("sft", nproc, 2, tiny_model_dir, sft_rows(), tmp_path, hparams)

    run = tmp_path / "killed"
    run.mkdir()
    write_jsonl(run / "data.jsonl", sft_rows())
    call = {"base": {"path": str(tiny_model_dir)}, "data_paths": [str(run / "data.jsonl")],
            "out_dir": str(run / "out"), "checkpoint_dir": str(run / "ckpt"), "hparams": hparams, "threads": 1}
    script = "import json, sys; from algharb.steps.train import run_training_step; " \
             "run_training_step('sft', **json.loads(sys.argv[1]))"
    job = subprocess.Popen([sys.executable, "-c", script, json.dumps(call)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env={**os.environ, "ALGHARB_NPROC_PER_NODE": "2"})
    try:
        while not list((run / "ckpt").glob("checkpoint-*/algharb_complete")):
            assert job.poll() is None, "the job ended before its first complete checkpoint"
            time.sleep(0.02)
        pid = rank_pid(str(run / "ckpt"), 1)
        assert pid is not None, "rank 1 not found"
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        output, _ = job.communicate(timeout=120)  # a hang guard, not a speed target
        failed_after = time.monotonic() - killed_at
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode != 0
    assert "rank: 1" in output and "SIGKILL" in output, output[-3000:]  # torchrun's failure summary
    print(f"the job failed {failed_after:.1f} s after rank 1 was killed")
    assert not (run / "out").exists()

    nproc(2)
    run_training_step("sft", **call)
    log = read_jsonl(run / "out" / "train_log.jsonl")
    assert [row["step"] for row in log] == list(range(1, 49))
    resumed = {row["resumed_from"] for row in log if row["resumed_from"] is not None}
    assert len(resumed) == 1 and resumed.pop() % 8 == 0
    assert_same_steps(log_rows(reference), log, ("loss", "grad_norm"))
    assert_same_weights(reference, run, atol=0)


ZERO2 = {"zero_optimization": {"stage": 2}, "train_micro_batch_size_per_gpu": "auto",
         "gradient_accumulation_steps": "auto", "train_batch_size": "auto", "gradient_clipping": "auto"}


def test_deepspeed_zero2_on_two_cpu_processes_matches_plain_data_parallel(tiny_model_dir, tmp_path, nproc):
    config = tmp_path / "zero2.json"
    config.write_text(json.dumps(ZERO2), encoding="utf-8")
    plain = train("sft", nproc, 2, tiny_model_dir, sft_rows(), tmp_path, HPARAMS)
    (tmp_path / "plain").mkdir()
    zero2 = train("sft", nproc, 2, tiny_model_dir, sft_rows(), tmp_path / "plain", {**HPARAMS, "deepspeed": str(config)})
    assert_same_steps(log_rows(plain), log_rows(zero2), ("loss", "grad_norm"))
    assert_same_weights(plain, zero2)


def test_the_papers_zero3_config_trains_on_two_cpu_processes(tiny_model_dir, tmp_path, nproc):
    # config/deepspeed_zero3.json brings DeepSpeed's AdamW and WarmupDecayLR (which needs a warm-up step),
    # so only the first step, taken from the same weights on the same batch, is comparable with plain DDP.
    hparams = {**HPARAMS, "warmup_steps": 1}
    plain = train("sft", nproc, 2, tiny_model_dir, sft_rows(), tmp_path, hparams)
    (tmp_path / "zero3").mkdir()
    zero3 = train("sft", nproc, 2, tiny_model_dir, sft_rows(), tmp_path / "zero3",
                  {**hparams, "deepspeed": str(ROOT / "config" / "deepspeed_zero3.json")})
    rows = log_rows(zero3)
    assert [row["step"] for row in rows] == [1, 2, 3, 4]
    assert rows[0]["loss"] == pytest.approx(log_rows(plain)[0]["loss"], rel=REL)
    # The weights were gathered from their partitions when saved: every tensor at full size.
    saved, initial = weights(zero3), load_file(Path(tiny_model_dir) / "model.safetensors")
    assert {name: t.shape for name, t in saved.items()} == {name: t.shape for name, t in initial.items()
                                                          if name in saved}
    assert not all(torch.equal(saved[name], initial[name]) for name in saved)
