"""M2PO: the static faithfulness reward, head-to-tail multi-pairs under the fused reward, a tiny run."""

import pytest
from conftest import TINY_HPARAMS, TINY_LORA, toy_pool, toy_rows
from transformers import AutoModelForCausalLM

from algharb.io import read_jsonl
from algharb.train.m2po import faithfulness_reward, multi_pairs, run_m2po
from algharb.train.pools import Candidate

LOG_KEYS = {"step", "loss", "lr", "alpha", "pairs_per_source", "chosen_static_mean", "rejected_static_mean",
            "preference_loss", "nll_loss"}


def aligned_pool(rows):
    pool = toy_pool(rows)
    for row in pool:
        for candidate, align in zip(row["candidates"], (1.0, 1.0, 0.6, 0.1)):
            candidate["align"] = align
    return pool


def test_static_reward_adds_weighted_alignment_and_needs_it():
    assert faithfulness_reward(0.5)({"qe": 0.6, "align": 0.8}) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="S_align.*decode.align.backend"):
        faithfulness_reward(1.0)({"qe": 0.6})


def test_multi_pairs_follow_the_static_reward_first_and_the_policy_later():
    pool = tuple(Candidate((1,), 0, reward) for reward in (0.9, 0.1, 0.5, 0.3))
    r_d = [-4.0, -1.0, -3.0, -2.0]  # the policy prefers exactly the reverse order
    assert multi_pairs(pool, r_d, alpha=0.0) == [(0, 1), (2, 3)]
    assert multi_pairs(pool, r_d, alpha=1.0) == [(1, 0), (3, 2)]


def test_m2po_run_logs_its_curriculum_and_saves_a_merged_model(tiny_model_dir, tmp_path):
    hparams = {**TINY_HPARAMS, **TINY_LORA, "max_steps": 3, "save_steps": 10, "learning_rate": 1e-3,
               "alpha_start": 0.0, "alpha_end": 0.4}
    out = run_m2po(tiny_model_dir, aligned_pool(toy_rows(16)), tmp_path / "out", tmp_path / "ckpt", hparams)
    log = read_jsonl(out / "train_log.jsonl")
    assert [row["step"] for row in log] == [1, 2, 3]
    assert all(LOG_KEYS <= set(row) for row in log)
    assert [row["alpha"] for row in log] == pytest.approx([0.0, 0.2, 0.4])
    # Three distinct candidates per source (the duplicate reference is dropped): one head-to-tail pair each.
    assert all(row["pairs_per_source"] == 1 for row in log)
    assert log[0]["chosen_static_mean"] == pytest.approx(1.9)  # qe 0.9 + align 1.0 of the reference
    for row in log:
        assert row["loss"] == pytest.approx(row["preference_loss"] + row["nll_loss"], abs=1e-3)
    AutoModelForCausalLM.from_pretrained(out)
    assert (out / "adapter" / "adapter_model.safetensors").is_file()


def test_m2po_on_pools_without_alignment_fails_before_training(tiny_model_dir, tmp_path):
    with pytest.raises(ValueError, match="S_align"):
        run_m2po(tiny_model_dir, toy_pool(toy_rows(4)), tmp_path / "out", tmp_path / "ckpt", {**TINY_HPARAMS})
