"""Throughput and MFU accounting: FLOP counts on hand-computed inputs, token counting, the log."""

import json

import pytest
import torch
from transformers import Qwen3Config, Qwen3ForCausalLM

from algharb.train.throughput import (
    ModelShape,
    TokenCountingCollator,
    matmul_params,
    sequence_lengths,
    summarise,
    training_flops,
)


def tiny_qwen3(tied: bool) -> Qwen3ForCausalLM:
    config = Qwen3Config(vocab_size=100, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=8, tie_word_embeddings=tied)
    return Qwen3ForCausalLM(config)


def test_a_tied_embedding_counts_once_as_the_head_an_untied_one_not_at_all():
    tied, untied = tiny_qwen3(True), tiny_qwen3(False)
    total_tied = sum(p.numel() for p in tied.parameters())
    assert matmul_params(tied) == total_tied
    # Untied: one more 100×16 matrix (the head) exists, and the 100×16 input lookup does not count.
    assert sum(p.numel() for p in untied.parameters()) == total_tied + 1600
    assert matmul_params(untied) == total_tied


def test_training_flops_by_hand():
    shape = ModelShape(matmul_params=1000, layers=2, heads=4, head_dim=8)
    # Two documents of 3 and 5 tokens: 6·1000·8 dense + 6·2·4·8·(9 + 25) attention.
    assert training_flops(shape, tokens=8, sum_squared_lengths=34) == 48_000 + 13_056


def test_shape_of_a_qwen3_reads_heads_and_head_dim():
    shape = ModelShape.of(tiny_qwen3(True))
    assert (shape.layers, shape.heads, shape.head_dim) == (2, 2, 8)


def test_lengths_of_padded_packed_and_plain_batches():
    padded = {"input_ids": torch.zeros(2, 5), "attention_mask": torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])}
    packed = {"input_ids": torch.zeros(1, 7), "position_ids": torch.tensor([[0, 1, 2, 0, 1, 0, 1]])}
    plain = {"input_ids": torch.zeros(3, 4)}
    assert sequence_lengths(padded) == [3, 5]
    assert sequence_lengths(packed) == [3, 2, 2]
    assert sequence_lengths(plain) == [4, 4, 4]


def test_counting_collator_counts_what_it_builds_and_resets():
    counter = TokenCountingCollator(lambda features: {"input_ids": torch.zeros(1, 5),
                                                      "position_ids": torch.tensor([[0, 1, 2, 0, 1]])})
    batch = counter(["ignored"])
    assert batch["input_ids"].shape == (1, 5)
    counter(["ignored"])
    assert counter.take() == (10, 2 * (9 + 4))
    assert counter.take() == (0, 0)


def test_summary_leaves_out_warmup_steps():
    rows = [
        {"step": 1, "seconds": 5.0, "tokens": 100, "tflops_per_s": 1.0},
        {"step": 2, "seconds": 1.0, "tokens": 300, "tflops_per_s": 2.0},
        {"step": 3, "seconds": 1.0, "tokens": 100, "tflops_per_s": 4.0},
    ]
    summary = summarise(rows, warmup_steps=1, peak=10e12)
    assert summary["steps_timed"] == 2 and summary["warmup_steps"] == 1
    assert summary["tokens_per_s"] == 200.0
    assert summary["mfu"] == pytest.approx((2.0 + 4.0) / 2 / 10)
    assert summarise(rows, warmup_steps=1, peak=None)["mfu"] is None


def test_summary_of_a_short_run_times_every_step():
    rows = [{"step": 1, "seconds": 2.0, "tokens": 10, "tflops_per_s": 1.0}]
    assert summarise(rows, warmup_steps=2, peak=None)["tokens_per_s"] == 5.0


def test_throughput_rows_are_valid_json(tmp_path):
    from algharb.train.throughput import ThroughputLog

    counter = TokenCountingCollator(lambda features: {"input_ids": torch.zeros(2, 3)})
    log = ThroughputLog(tmp_path / "t.jsonl", counter, ModelShape(10, 1, 1, 1), peak=1e12, warmup_steps=0)

    class State:
        is_world_process_zero = True
        global_step = 0

    state = State()
    log.on_train_begin(None, state, None)
    for step in (1, 2):
        counter(None)
        state.global_step = step
        log.on_step_end(None, state, None)
    log.on_train_end(None, state, None)
    rows = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [(row["step"], row["tokens"]) for row in rows] == [(1, 6), (2, 6)]
    summary = json.loads((tmp_path / "t.summary.json").read_text())
    assert (summary["tokens"], summary["matmul_params"]) == (12, 10)
