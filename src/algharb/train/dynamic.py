"""Dynamic multi-reward optimisation with self-distillation (paper, RL step 2).

Each training example is one source with its candidate pool from the CPO
stage (SFT samples and the teacher's translation, each with a QE score). At
every optimizer step t, for every source in the batch:

1. score all candidates under the current policy (no gradient):
   ``R_self = log Pθ(y|x)`` and ``R_total = (1 − w(t))·R_QE + w(t)·R_self``
   with ``w(t)`` linear from ``w_start`` (0.05) to ``w_end`` (0.8) over the run;
2. re-form the pair: ``y_w = argmax R_total``, ``y_l = argmin R_total`` over
   the candidates whose text differs from y_w (ties → earlier candidate);
3. loss on the pair, with gradients:
   ``CPO: −log σ(β·(log π(y_w) − log π(y_l))) + nll_weight·NLL(y_w)``
   ``+ kl_weight · KL( σ(τ·ΔQE) ‖ σ(Δ log Pθ) )``.

Decisions where the paper is silent (each an hparam):

* ``length_normalise`` (True): R_self and the Δ log Pθ inside the KL use the
  mean per-token log-probability. A sequence sum (tens of nats) would swamp
  R_QE ∈ [0, 1] and saturate σ(Δ log Pθ). The CPO term keeps CPO's summed
  log-probabilities, as in the CPO stage.
* ``qe_scale`` (100): ΔQE inside σ(τ·ΔQE) is taken on a 0–100 scale. Pool
  QE scores are expected on 0–1 (as the QE model outputs them, and as R_QE
  enters R_total); with τ = 0.3 a 0–1 gap would make every target ≈ 0.5,
  while on 0–100 a 5-point gap gives 0.82 and 10 points 0.95.
* the base preference loss is CPO's sigmoid loss with ``beta`` 0.1 and an NLL
  term on y_w weighted ``nll_weight`` 1.0 (the stage before is CPO, so the
  objective only gains the KL term and the dynamic pairs);
* ``kl_weight`` 1.0 (the paper adds L_KL without a weight);
* pairs are re-formed at every step from the full pool (steps 1–2). When the
  self reward dominates late in training, QE may prefer y_l; the KL term is
  unchanged by swapping a pair (σ(−a) = 1 − σ(a) on both sides), so it still
  pulls the policy's preference towards QE's, whichever way the pair points.
* dropout is disabled (as TRL's CPO does by default) so that the log-probs
  used to pick the pair are the ones the loss is computed on.

The loop is a ``transformers.Trainer`` subclass, so checkpointing, resume,
gradient accumulation, the LR schedule and DeepSpeed come from Trainer. The
model is trained through a LoRA adapter (r 64, α 128, lr 1e-6 in the paper)
that is merged into the base at the end.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

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
    stage_config,
    save_merged_model,
    set_threads,
    train_with_resume,
    training_arguments_kwargs,
)
from algharb.train.losses import (
    IGNORE_INDEX,
    mean_token_nll,
    preference_kl_loss,
    self_reward_weight,
    sequence_logprobs,
    total_reward,
)
from algharb.train.config import DynamicConfig
from algharb.train.preference import PREFERENCE_LOSSES
from algharb.train.throughput import attach_throughput_log

logger = logging.getLogger(__name__)

LOSS_SETTINGS = (
    "preference_loss",
    "beta",
    "nll_weight",
    "kl_weight",
    "tau",
    "qe_scale",
    "w_start",
    "w_end",
    "length_normalise",
    "score_batch_size",
)


@dataclass(frozen=True)
class Candidate:
    """One tokenized candidate: prompt+completion ids, where the completion starts, its QE."""

    input_ids: tuple[int, ...]
    start: int
    qe: float


@dataclass(frozen=True)
class PoolBatch:
    """Candidate pools of a micro-batch; an opaque object so Trainer passes it through untouched."""

    pools: tuple[tuple[Candidate, ...], ...]


def tokenize_pools(
    tokenizer, pool_rows: Iterable[Mapping[str, Any]], max_length: int
) -> tuple[list[tuple[Candidate, ...]], dict[str, int]]:
    """Tokenized pools with duplicate texts removed (first kept); sources left with < 2 are dropped.

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
            candidate = _tokenize_candidate(tokenizer, row, raw, max_length)
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


def _tokenize_candidate(tokenizer, row, raw, max_length: int) -> Candidate | None:
    prompt, completion = prompt_and_completion(tokenizer, row, raw["text"])
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    full_ids = tokenizer(prompt + completion, add_special_tokens=False)["input_ids"][:max_length]
    # The completion starts where the two tokenizations diverge (normally at len(prompt_ids)).
    start = next(
        (i for i, (a, b) in enumerate(zip(prompt_ids, full_ids)) if a != b), min(len(prompt_ids), len(full_ids))
    )
    if start >= len(full_ids):
        return None
    return Candidate(tuple(full_ids), start, float(raw["qe"]))


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


def pick_pair(r_total: Sequence[float]) -> tuple[int, int]:
    """(argmax, argmin over the others) of ``r_total``, ties to the earlier index.

    Pools are deduplicated, so any two candidates differ in text.
    """
    chosen = max(range(len(r_total)), key=lambda i: (r_total[i], -i))
    rejected = min((i for i in range(len(r_total)) if i != chosen), key=lambda i: (r_total[i], i))
    return chosen, rejected


class DynamicRewardTrainer(Trainer):
    """Trainer whose loss re-forms preference pairs from candidate pools at every step."""

    def __init__(self, *args, settings: Mapping[str, Any], **kwargs):
        super().__init__(*args, **kwargs)
        self.settings = dict(settings)
        self.preference_loss = PREFERENCE_LOSSES.get(self.settings["preference_loss"],
                                                     where="rl.dynamic.preference_loss")
        self._step_metrics: dict[str, list[float]] = defaultdict(list)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        pools = inputs["batch"].pools
        s = self.settings
        w = self_reward_weight(self.state.global_step, self.state.max_steps, s["w_start"], s["w_end"])
        scores = self._score_pools(model, pools)
        pairs, r_self_all, r_qe_all = [], [], []
        for pool, (sums, means) in zip(pools, scores):
            r_self = means if s["length_normalise"] else sums
            r_qe = torch.tensor([c.qe for c in pool])
            r_total = total_reward(r_qe, r_self, w)
            pairs.append(pick_pair(r_total.tolist()))
            r_self_all.append(r_self)
            r_qe_all.append(r_qe)

        chosen = [pool[i] for pool, (i, _) in zip(pools, pairs)]
        rejected = [pool[j] for pool, (_, j) in zip(pools, pairs)]
        batch = pad_candidates(chosen + rejected, self.processing_class.pad_token_id, self.args.device)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False).logits
        sums, means = sequence_logprobs(logits, batch["labels"])
        n = len(pools)
        preference = self.preference_loss(sums[:n], sums[n:], s["beta"])
        nll = mean_token_nll(logits[:n], batch["labels"][:n])
        kl_logp = means if s["length_normalise"] else sums
        qe_w = torch.tensor([c.qe for c in chosen], device=logits.device)
        qe_l = torch.tensor([c.qe for c in rejected], device=logits.device)
        kl = preference_kl_loss(s["qe_scale"] * (qe_w - qe_l), kl_logp[:n] - kl_logp[n:], s["tau"])
        loss = preference + s["nll_weight"] * nll + s["kl_weight"] * kl

        self._record(
            w=w,
            r_qe_mean=torch.cat(r_qe_all).mean().item(),
            r_self_mean=torch.cat(r_self_all).mean().item(),
            chosen_qe_mean=qe_w.mean().item(),
            rejected_qe_mean=qe_l.mean().item(),
            preference_loss=preference.item(),
            nll_loss=nll.item(),
            kl_loss=kl.item(),
        )
        return (loss, {"logits": logits}) if return_outputs else loss

    @torch.no_grad()
    def _score_pools(self, model, pools) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Summed and mean log-probs of every candidate under the current policy, per pool."""
        flat = [candidate for pool in pools for candidate in pool]
        sums, means = [], []
        size = self.settings["score_batch_size"]
        for begin in range(0, len(flat), size):
            batch = pad_candidates(flat[begin : begin + size], self.processing_class.pad_token_id, self.args.device)
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False).logits
            chunk_sums, chunk_means = sequence_logprobs(logits, batch["labels"])
            sums.append(chunk_sums.float().cpu())
            means.append(chunk_means.float().cpu())
        sums_flat, means_flat = torch.cat(sums), torch.cat(means)
        out, begin = [], 0
        for pool in pools:
            out.append((sums_flat[begin : begin + len(pool)], means_flat[begin : begin + len(pool)]))
            begin += len(pool)
        return out

    def _record(self, **values: float) -> None:
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


def _policy_model(model_dir: Path, hp: DynamicConfig):
    """The base model wrapped in a fresh LoRA adapter, dropout off."""
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


def run_dynamic(
    model_dir: str | os.PathLike,
    pool_rows: Iterable[Mapping[str, Any]],
    out_dir: str | os.PathLike,
    checkpoint_dir: str | os.PathLike,
    hparams: DynamicConfig | Mapping[str, Any] | None = None,
    throughput_log: str | os.PathLike | None = None,
) -> Path:
    """Dynamic multi-reward optimisation of ``model_dir`` on candidate pools; merged model to ``out_dir``.

    ``pool_rows`` are the CPO stage's pools ({id, src, src_lang, tgt_lang,
    candidates: [{text, origin, qe}]}). ``out_dir/adapter`` holds the LoRA
    adapter; ``out_dir/train_log.jsonl`` has per step: loss (total), lr, w,
    r_qe_mean, r_self_mean, chosen/rejected_qe_mean, preference_loss,
    nll_loss, kl_loss. ``throughput_log`` gets the seconds per step.
    """
    from transformers import TrainingArguments

    hp = stage_config(DynamicConfig, hparams, "dynamic")
    set_threads(hp.threads)
    model_dir = check_model_dir(model_dir)
    tokenizer = load_tokenizer(model_dir, hp.eos_token)
    pools, stats = tokenize_pools(tokenizer, pool_rows, hp.max_length)
    logger.info("dynamic: candidate pools %s", stats)
    if not pools:
        raise ValueError(f"dynamic: no source has two distinct candidates ({stats})")

    args = TrainingArguments(**training_arguments_kwargs(hp, checkpoint_dir), remove_unused_columns=False)
    trainer = DynamicRewardTrainer(
        model=_policy_model(model_dir, hp),
        args=args,
        train_dataset=PoolDataset(pools),
        data_collator=collate_pools,
        processing_class=tokenizer,
        callbacks=[JsonlStepLog(Path(checkpoint_dir) / LOG_NAME)],
        settings={key: getattr(hp, key) for key in LOSS_SETTINGS},
    )
    attach_throughput_log(trainer, throughput_log, hp.peak_tflops, None)
    train_with_resume(trainer, checkpoint_dir)
    return save_merged_model(trainer, model_dir, out_dir, checkpoint_dir, hp.merged_dtype)
