"""Training on whole candidate pools: what the dynamic multi-reward stage and M2PO share.

Both stages see one source's full candidate list per example and decide the
preference pairs inside the loss, from a static reward and the current
policy's log-probabilities. This module tokenizes the pools
(:func:`tokenize_pools`), pads candidates for a forward pass
(:func:`pad_candidates`), and provides :class:`PoolTrainer`: a
``transformers.Trainer`` that scores every candidate under the policy without
gradient and averages the stage's own metrics into the Trainer's log.
:func:`run_pool_stage` builds the LoRA policy, trains with resume and saves
the merged model.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import torch
from torch.utils.data import Dataset as TorchDataset
from transformers import Trainer

from algharb.train.common import (
    LOG_NAME,
    JsonlStepLog,
    check_model_dir,
    load_tokenizer,
    lora_config,
    model_init_kwargs,
    pool_candidates,
    prompt_and_completion,
    save_merged_model,
    set_threads,
    train_with_resume,
    training_arguments_kwargs,
)
from algharb.train.config import LoraOptions, TrainerConfig
from algharb.train.losses import IGNORE_INDEX, sequence_logprobs
from algharb.train.throughput import attach_throughput_log

logger = logging.getLogger(__name__)

StaticReward = Callable[[Mapping[str, Any]], float]


def qe_reward(candidate: Mapping[str, Any]) -> float:
    """The candidate's pair-picking score (``qe``: the weighted mean of the pool's scorers)."""
    return float(candidate["qe"])


@dataclass(frozen=True)
class Candidate:
    """One tokenized candidate: prompt+completion ids, where the completion starts, its static reward."""

    input_ids: tuple[int, ...]
    start: int
    reward: float


@dataclass(frozen=True)
class PoolBatch:
    """Candidate pools of a micro-batch; an opaque object so Trainer passes it through untouched."""

    pools: tuple[tuple[Candidate, ...], ...]


def tokenize_pools(
    tokenizer, pool_rows: Iterable[Mapping[str, Any]], max_length: int, reward: StaticReward = qe_reward
) -> tuple[list[tuple[Candidate, ...]], dict[str, int]]:
    """Tokenized pools with duplicate texts removed (first kept); sources left with < 2 are dropped.

    ``reward`` maps a pool candidate to its static reward (QE by default).
    A candidate longer than ``max_length`` is cut; one whose prompt alone
    fills ``max_length`` is dropped. Returns the pools and counts of what was
    kept and dropped.
    """
    pools: list[tuple[Candidate, ...]] = []
    stats = {"sources": 0, "kept": 0, "fewer_than_two_distinct": 0, "candidates_too_long": 0}
    for index, row in enumerate(pool_rows):
        stats["sources"] += 1
        seen: set[str] = set()
        candidates = []
        for raw in pool_candidates(row, index):
            if raw["text"] in seen:
                continue
            seen.add(raw["text"])
            candidate = _tokenize_candidate(tokenizer, row, raw["text"], reward(raw), max_length)
            if candidate is None:
                stats["candidates_too_long"] += 1
            else:
                candidates.append(candidate)
        if len(candidates) < 2:
            stats["fewer_than_two_distinct"] += 1
            continue
        pools.append(tuple(candidates))
        stats["kept"] += 1
    return pools, stats


def _tokenize_candidate(tokenizer, row, text: str, reward: float, max_length: int) -> Candidate | None:
    prompt, completion = prompt_and_completion(tokenizer, row, text)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    full_ids = tokenizer(prompt + completion, add_special_tokens=False)["input_ids"][:max_length]
    # The completion starts where the two tokenizations diverge (normally at len(prompt_ids)).
    start = next(
        (i for i, (a, b) in enumerate(zip(prompt_ids, full_ids)) if a != b), min(len(prompt_ids), len(full_ids))
    )
    if start >= len(full_ids):
        return None
    return Candidate(tuple(full_ids), start, float(reward))


class PoolDataset(TorchDataset):
    """Map-style dataset of candidate pools, one per source."""

    def __init__(self, pools: Sequence[tuple[Candidate, ...]]):
        self.pools = list(pools)

    def __len__(self) -> int:
        return len(self.pools)

    def __getitem__(self, index: int) -> tuple[Candidate, ...]:
        return self.pools[index]


def collate_pools(pools: list[tuple[Candidate, ...]]) -> dict[str, PoolBatch]:
    """The Trainer's batch: the pools wrapped whole (tokens are padded per forward, not here)."""
    return {"batch": PoolBatch(tuple(pools))}


def pad_candidates(candidates: Sequence[Candidate], pad_id: int, device) -> dict[str, torch.Tensor]:
    """Right-padded input ids, attention mask and labels (IGNORE_INDEX on prompt and padding)."""
    length = max(len(c.input_ids) for c in candidates)
    input_ids = torch.full((len(candidates), length), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(candidates), length), dtype=torch.long)
    labels = torch.full((len(candidates), length), IGNORE_INDEX, dtype=torch.long)
    for row, candidate in enumerate(candidates):
        ids = torch.tensor(candidate.input_ids, dtype=torch.long)
        input_ids[row, : len(ids)] = ids
        attention_mask[row, : len(ids)] = 1
        labels[row, candidate.start : len(ids)] = ids[candidate.start :]
    return {"input_ids": input_ids.to(device), "attention_mask": attention_mask.to(device), "labels": labels.to(device)}


class PoolTrainer(Trainer):
    """Trainer over candidate pools; subclasses write ``compute_loss`` from the pools of ``inputs["batch"]``."""

    def __init__(self, *args, settings: Mapping[str, Any], **kwargs):
        super().__init__(*args, **kwargs)
        self.settings = dict(settings)
        self._step_metrics: dict[str, list[float]] = defaultdict(list)

    def forward_candidates(self, model, candidates: Sequence[Candidate]):
        """Logits, labels and (summed, mean) completion log-probs of ``candidates``, with gradient."""
        batch = pad_candidates(candidates, self.processing_class.pad_token_id, self.args.device)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False).logits
        sums, means = sequence_logprobs(logits, batch["labels"])
        return logits, batch["labels"], sums, means

    @torch.no_grad()
    def score_pools(self, model, pools) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Summed and mean log-probs of every candidate under the current policy, per pool."""
        flat = [candidate for pool in pools for candidate in pool]
        sums, means = [], []
        size = self.settings["score_batch_size"]
        for begin in range(0, len(flat), size):
            _, _, chunk_sums, chunk_means = self.forward_candidates(model, flat[begin : begin + size])
            sums.append(chunk_sums.float().cpu())
            means.append(chunk_means.float().cpu())
        sums_flat, means_flat = torch.cat(sums), torch.cat(means)
        out, begin = [], 0
        for pool in pools:
            out.append((sums_flat[begin : begin + len(pool)], means_flat[begin : begin + len(pool)]))
            begin += len(pool)
        return out

    def record(self, **values: float) -> None:
        for key, value in values.items():
            self._step_metrics[key].append(float(value))

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        """Add the step's averaged stage metrics (averaged over processes too) to the Trainer's log."""
        if "loss" in logs:
            for key, values in self._step_metrics.items():
                local = torch.tensor(sum(values) / len(values), dtype=torch.float64, device=self.args.device)
                logs[key] = self.accelerator.gather_for_metrics(local.reshape(1)).mean().item()
            self._step_metrics.clear()
        super().log(logs, *args, **kwargs)


def policy_model(model_dir: Path, hp: TrainerConfig):
    """The base model wrapped in a fresh LoRA adapter, dropout off.

    Dropout is off (as TRL's preference trainers do by default) so that the
    log-probs used to pick the pairs are the ones the loss is computed on.
    """
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, set_seed

    set_seed(hp.seed)  # LoRA's A matrices are initialised at random
    model = AutoModelForCausalLM.from_pretrained(model_dir, **model_init_kwargs(hp))
    if hp.gradient_checkpointing:
        model.enable_input_require_grads()
    model = get_peft_model(model, lora_config(hp))
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    return model


def run_pool_stage(
    trainer_class: type[PoolTrainer],
    hp: LoraOptions,
    settings: Mapping[str, Any],
    model_dir: str | os.PathLike,
    pool_rows: Iterable[Mapping[str, Any]],
    out_dir: str | os.PathLike,
    checkpoint_dir: str | os.PathLike,
    throughput_log: str | os.PathLike | None = None,
    reward: StaticReward = qe_reward,
    stage: str = "pool",
) -> Path:
    """Train ``trainer_class`` on the tokenized pools; save the merged model to ``out_dir``."""
    from transformers import TrainingArguments

    set_threads(hp.threads)
    model_dir = check_model_dir(model_dir)
    tokenizer = load_tokenizer(model_dir, hp.eos_token)
    pools, stats = tokenize_pools(tokenizer, pool_rows, hp.max_length, reward)
    logger.info("%s: candidate pools %s", stage, stats)
    if not pools:
        raise ValueError(f"{stage}: no source has two distinct candidates ({stats})")

    args = TrainingArguments(**training_arguments_kwargs(hp, checkpoint_dir), remove_unused_columns=False)
    trainer = trainer_class(
        model=policy_model(model_dir, hp),
        args=args,
        train_dataset=PoolDataset(pools),
        data_collator=collate_pools,
        processing_class=tokenizer,
        callbacks=[JsonlStepLog(Path(checkpoint_dir) / LOG_NAME)],
        settings=settings,
    )
    attach_throughput_log(trainer, throughput_log, hp.peak_tflops, None)
    train_with_resume(trainer, checkpoint_dir)
    return save_merged_model(trainer, model_dir, out_dir, checkpoint_dir, hp.merged_dtype)
