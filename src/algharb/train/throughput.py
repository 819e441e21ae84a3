"""Training throughput and model FLOPs utilisation (MFU), measured while training runs.

MFU is the model's useful FLOPs per second over the accelerator's peak:

    MFU = (6 · N · T + A) / seconds / peak

with ``N`` the parameters every token multiplies through (all parameters
except an untied input embedding, which is a lookup; a tied embedding counts
once, as the LM head), ``T`` the tokens trained on (padding excluded: padded
positions are wasted work, not useful FLOPs) and ``A`` the causal attention
FLOPs, ``6 · layers · heads · head_dim · Σ s²`` over the sequences (documents,
when packed) of length ``s`` in the step: QKᵀ and AV cost ``2·s²·h·d`` each in
the forward pass, causality halves that, and the backward pass costs twice the
forward. Packed documents attend only within themselves, so their lengths,
not the packed row's, enter ``Σ s²``.

Timings vary from run to run, so they are never written into a result: the
workflow writes them under ``results/benchmarks/`` (left out of the run
manifest).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
from transformers import TrainerCallback

from algharb.io import write_json

logger = logging.getLogger(__name__)

# Dense bf16 tensor-core peak in FLOP/s, by a substring of torch.cuda.get_device_name().
# H200 has the H100's compute (more, faster memory), hence the same peak.
PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "H800": 989e12, "A100": 312e12, "A800": 312e12, "L40S": 362e12}


@dataclass(frozen=True)
class ModelShape:
    """What the FLOP count needs to know about a decoder-only transformer."""

    matmul_params: int
    layers: int
    heads: int
    head_dim: int

    @classmethod
    def of(cls, model: torch.nn.Module) -> "ModelShape":
        config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
        heads = config.num_attention_heads
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
        return cls(matmul_params(model), config.num_hidden_layers, heads, head_dim)


def matmul_params(model: torch.nn.Module) -> int:
    """Parameters a token multiplies through: all of them but an untied input embedding.

    ``model.parameters()`` yields a tied weight once, so a tied embedding is
    counted once, as the LM head it also is. LoRA adapters count like any
    other parameter (their few FLOPs are real work).
    """
    total = sum(_numel(parameter) for parameter in model.parameters())
    embedding, head = model.get_input_embeddings(), model.get_output_embeddings()
    tied = head is not None and head.weight is embedding.weight
    return total if tied else total - _numel(embedding.weight)


def _numel(parameter: torch.nn.Parameter) -> int:
    # Under DeepSpeed ZeRO-3 a parameter holds only this rank's shard; ds_numel is the whole.
    return getattr(parameter, "ds_numel", None) or parameter.numel()


def training_flops(shape: ModelShape, tokens: int, sum_squared_lengths: int) -> float:
    """Model FLOPs of one forward + backward pass over ``tokens`` tokens (see the module docstring)."""
    dense = 6.0 * shape.matmul_params * tokens
    attention = 6.0 * shape.layers * shape.heads * shape.head_dim * sum_squared_lengths
    return dense + attention


def peak_flops(override: float | None = None) -> float | None:
    """The accelerator's dense bf16 peak (FLOP/s): ``override``, else looked up by GPU name; None on CPU."""
    if override is not None:
        return float(override)
    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    for key, value in PEAK_BF16_FLOPS.items():
        if key in name:
            return value
    logger.warning("no known bf16 peak for %r; set peak_tflops to report MFU", name)
    return None


def sequence_lengths(batch: Mapping[str, Any]) -> list[int]:
    """Lengths of the sequences a causal-LM batch trains on, padding excluded.

    A padding-free batch (one packed row, ``position_ids`` restarting at 0 for
    each document) is split where the positions restart; a padded batch is
    measured by its attention mask.
    """
    if "attention_mask" in batch and batch["attention_mask"] is not None:
        return [int(n) for n in batch["attention_mask"].sum(dim=-1).tolist()]
    if "position_ids" in batch:
        lengths = []
        for row in batch["position_ids"].tolist():
            starts = [i for i, position in enumerate(row) if position == 0] + [len(row)]
            lengths += [end - start for start, end in zip(starts, starts[1:]) if end > start]
        return lengths
    return [int(batch["input_ids"].shape[-1])] * int(batch["input_ids"].shape[0])


class TokenCountingCollator:
    """Wraps a data collator and counts the tokens (and Σ length²) of the batches it builds.

    The data loader may build a batch ahead of the step that trains on it, so
    one step's count can be off by a batch; sums over many steps are exact.
    """

    def __init__(self, collator: Callable, lengths: Callable[[Mapping[str, Any]], list[int]] = sequence_lengths):
        self.collator = collator
        self.lengths = lengths
        self.tokens = 0
        self.sum_squared_lengths = 0

    def __call__(self, features):
        batch = self.collator(features)
        lengths = self.lengths(batch)
        self.tokens += sum(lengths)
        self.sum_squared_lengths += sum(n * n for n in lengths)
        return batch

    def take(self) -> tuple[int, int]:
        """Tokens and Σ length² counted since the last call."""
        counts = (self.tokens, self.sum_squared_lengths)
        self.tokens = self.sum_squared_lengths = 0
        return counts


class ThroughputLog(TrainerCallback):
    """One JSON row per optimizer step: seconds, tokens/s and MFU, plus a summary at the end.

    The rows go to ``path`` (JSONL) and the summary to ``path`` with suffix
    ``.summary.json``. The summary leaves out the first ``warmup_steps`` steps
    (allocation, kernel selection, compilation). Tokens are those of this
    process; under data parallelism every rank trains as many, so MFU per GPU
    is the same. Without a ``counter`` (a trainer whose batches are not plain
    token tensors) only the seconds per step are logged.
    """

    def __init__(self, path: str | os.PathLike, counter: TokenCountingCollator | None, shape: ModelShape,
                 peak: float | None, warmup_steps: int = 2):
        self.path = Path(path)
        self.counter, self.shape, self.peak, self.warmup_steps = counter, shape, peak, warmup_steps
        self.rows: list[dict[str, Any]] = []
        self._started = 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        self._take()  # batches drawn before training (none, or a sanity check) do not count
        self._started = _synchronized_clock()
        if state.is_world_process_zero:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("", encoding="utf-8")

    def on_step_end(self, args, state, control, **kwargs):
        now = _synchronized_clock()
        seconds, self._started = now - self._started, now
        tokens, sum_squared = self._take()
        counted = tokens is not None and seconds > 0
        flops = training_flops(self.shape, tokens, sum_squared) if counted else 0.0
        row = {
            "step": state.global_step,
            "seconds": round(seconds, 6),
            "tokens": tokens,
            "tokens_per_s": round(tokens / seconds, 2) if counted else None,
            "tflops_per_s": round(flops / seconds / 1e12, 4) if counted else None,
            "mfu": round(flops / seconds / self.peak, 5) if counted and self.peak else None,
        }
        self.rows.append(row)
        if state.is_world_process_zero:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")

    def _take(self) -> tuple[int | None, int | None]:
        return self.counter.take() if self.counter is not None else (None, None)

    def on_train_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero and self.rows:
            summary = {**summarise(self.rows, self.warmup_steps, self.peak), "matmul_params": self.shape.matmul_params}
            write_json(self.path.with_suffix(".summary.json"), summary)
            logger.info("throughput: %s", summary)


def summarise(rows: list[Mapping[str, Any]], warmup_steps: int, peak: float | None) -> dict:
    """Tokens/s and MFU over the steps after ``warmup_steps`` (all steps when there are no more)."""
    timed = list(rows[warmup_steps:]) or list(rows)
    seconds = sum(row["seconds"] for row in timed)
    counted = seconds > 0 and all(row["tokens"] is not None for row in timed)
    tokens = sum(row["tokens"] for row in timed) if counted else None
    flops = sum(row["tflops_per_s"] * row["seconds"] * 1e12 for row in timed) if counted else 0.0
    return {
        "steps_timed": len(timed),
        "warmup_steps": len(rows) - len(timed),
        "seconds": round(seconds, 4),
        "seconds_per_step": round(seconds / len(timed), 4),
        "tokens": tokens,
        "tokens_per_s": round(tokens / seconds, 2) if counted else None,
        "mfu": round(flops / seconds / peak, 5) if counted and peak else None,
        "peak_tflops": peak / 1e12 if peak else None,
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
    }


def _synchronized_clock() -> float:
    # Kernels run asynchronously: wait for them, or the step's time lands in the next one.
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter()


def preference_sequence_lengths(batch: Mapping[str, Any]) -> list[int]:
    """Lengths of the prompt+chosen and prompt+rejected sequences of a TRL CPO batch."""
    return [
        int(n) for key in ("chosen_attention_mask", "rejected_attention_mask") for n in batch[key].sum(dim=-1).tolist()
    ]


def attach_throughput_log(trainer, path: str | os.PathLike | None, peak_tflops: float | None,
                          lengths: Callable[[Mapping[str, Any]], list[int]] | None = sequence_lengths) -> None:
    """Log ``trainer``'s seconds per step to ``path`` and, given ``lengths``, its tokens/s and MFU.

    Nothing happens when ``path`` is None.
    """
    if path is None:
        return
    counter = None
    if lengths is not None:
        counter = TokenCountingCollator(trainer.data_collator, lengths)
        # Swapped in after construction: TRL's SFTTrainer refuses a custom collator when padding-free.
        trainer.data_collator = counter
    peak = peak_flops(None if peak_tflops is None else peak_tflops * 1e12)
    trainer.add_callback(ThroughputLog(path, counter, ModelShape.of(_unwrapped(trainer.model)), peak))


def _unwrapped(model):
    return model.get_base_model() if hasattr(model, "get_base_model") else model
