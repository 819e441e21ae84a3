"""CPO: the pair-selection rule and a tiny LoRA run that is merged and saved."""

import pytest
import torch
from conftest import TINY_HPARAMS, TINY_LORA, toy_pool, toy_rows
from transformers import AutoModelForCausalLM, AutoTokenizer

from algharb.io import read_jsonl
from algharb.prompts import render_prompt
from algharb.train.cpo import build_preference_pairs, cpo_examples, run_cpo


def pool_row(*candidates, row_id="s1"):
    """A pool row from (text, origin, qe) triples."""
    return {
        "id": row_id,
        "src": "alpha beta",
        "src_lang": "qaa",
        "tgt_lang": "qab",
        "candidates": [{"text": t, "origin": o, "qe": q} for t, o, q in candidates],
    }


def test_chosen_is_highest_qe_rejected_lowest_with_provenance():
    pairs, stats = build_preference_pairs(
        [pool_row(("b", "self", 0.5), ("a", "teacher", 0.9), ("c", "self", 0.2))], 0.1
    )
    assert pairs == [
        {
            "id": "s1",
            "src": "alpha beta",
            "src_lang": "qaa",
            "tgt_lang": "qab",
            "chosen": "a",
            "rejected": "c",
            "chosen_origin": "teacher",
            "rejected_origin": "self",
            "chosen_qe": 0.9,
            "rejected_qe": 0.2,
            "margin": pytest.approx(0.7),
        }
    ]
    assert stats["chosen_origin"] == {"teacher": 1} and stats["rejected_origin"] == {"self": 1}


def test_margin_is_inclusive_and_a_smaller_gap_is_skipped():
    kept, _ = build_preference_pairs([pool_row(("a", "self", 0.75), ("b", "self", 0.5))], 0.25)
    skipped, stats = build_preference_pairs([pool_row(("a", "self", 0.7), ("b", "self", 0.5))], 0.25)
    assert len(kept) == 1 and skipped == []
    assert stats["skipped"] == {"no_margin": 1, "fewer_than_two_distinct": 0}


def test_ties_go_to_the_earlier_candidate():
    pairs, _ = build_preference_pairs(
        [pool_row(("low1", "self", 0.1), ("top1", "self", 0.9), ("top2", "teacher", 0.9), ("low2", "teacher", 0.1))],
        0.0,
    )
    assert (pairs[0]["chosen"], pairs[0]["rejected"]) == ("top1", "low1")


def test_identical_texts_are_never_paired():
    # The chosen text also appears with a lower (noisy) score: the rejected must be another text.
    pairs, _ = build_preference_pairs([pool_row(("a", "teacher", 0.9), ("b", "self", 0.5), ("a", "self", 0.2))], 0.0)
    assert (pairs[0]["chosen"], pairs[0]["rejected"]) == ("a", "b")
    none, stats = build_preference_pairs(
        [pool_row(("a", "self", 0.9), ("a", "teacher", 0.1)), pool_row(("a", "self", 0.9))], 0.0
    )
    assert none == []
    assert stats == {
        "sources": 2,
        "pairs": 0,
        "skipped": {"no_margin": 0, "fewer_than_two_distinct": 2},
        "chosen_origin": {},
        "rejected_origin": {},
    }


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="margin"):
        build_preference_pairs([], -0.1)
    with pytest.raises(ValueError, match="lacks \\['candidates'\\]"):
        build_preference_pairs([{"id": 1, "src": "a", "src_lang": "qaa", "tgt_lang": "qab"}], 0.0)
    with pytest.raises(ValueError, match="'s1' candidate 0 qe must be a finite number"):
        build_preference_pairs([pool_row(("a", "self", float("nan")), ("b", "self", 0.1))], 0.0)


def test_examples_use_the_shared_prompt_and_end_at_eos(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    pairs, _ = build_preference_pairs(toy_pool(toy_rows(2)), 0.1)
    example = cpo_examples(tokenizer, pairs)[0]
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
