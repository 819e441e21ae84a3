"""M2PO: multi-perspective, multi-pair preference optimisation ("Beyond Single-Reward: Multi-Pair,
Multi-Perspective Preference Optimization for Machine Translation", ACL 2026, §3).

QE models miss partial errors (omissions, partial hallucinations), so each
candidate's static reward adds a faithfulness term, the word-alignment
coverage that hybrid decoding also uses::

    r_s = r_QE + λ_f · S_align

At every optimizer step t, for each source of the batch:

1. score every candidate under the current policy without gradient:
   ``r_d`` = its log-probability (mean per token by default);
2. fuse: ``r_fused = (1 − α_t)·z(r_s) + α_t·z(r_d)``, z-scored within the
   source's candidates (:func:`algharb.train.pairing.fused_scores`), with
   ``α_t`` linear from ``alpha_start`` to ``alpha_end`` over the run: the
   curriculum trusts the external, faithfulness-aware reward first;
3. rank by ``r_fused`` and pair head to tail, best with worst, second with
   second-worst, … (:func:`algharb.train.pairing.head_to_tail_pairs`):
   ⌊K/2⌋ pairs per source, all in the preference loss;
4. loss = the mean preference loss over all pairs of the batch
   (``preference_loss``, CPO's sigmoid term by default) + ``nll_weight`` ·
   NLL of each source's best candidate.

Where the paper is silent (each an option of ``rl.m2po``): α_t linear 0 →
0.5 (the static reward never weighs less than the policy's own view);
λ_f 1.0 (QE and S_align are both on 0–1); CPO's loss with β 0.1 as the base
loss, so that M2PO and CPO differ in the pairs and rewards, not the loss;
the NLL term on the best candidate with weight 1 (CPO's); no reference model.
Pairs are re-formed at every step from the full pool, as in the dynamic
stage (:mod:`algharb.train.dynamic`), whose pool handling this shares.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Mapping

import torch

from algharb.train.common import stage_config
from algharb.train.config import M2POConfig
from algharb.train.losses import mean_token_nll
from algharb.train.pairing import fused_scores, head_to_tail_pairs, linear_schedule
from algharb.train.pools import Candidate, PoolTrainer, run_pool_stage
from algharb.train.preference import PREFERENCE_LOSSES

LOSS_SETTINGS = ("preference_loss", "beta", "nll_weight", "alpha_start", "alpha_end", "length_normalise",
                 "score_batch_size")


def faithfulness_reward(faithfulness_weight: float):
    """``r_s = qe + λ_f·align`` of a pool candidate; a pool scored without an aligner is an error."""

    def reward(candidate: Mapping[str, Any]) -> float:
        if candidate.get("align") is None:
            raise ValueError(
                "M2PO's static reward needs S_align for every candidate, but a pool candidate has none: "
                "score the pools with an aligner (decode.align.backend other than 'none')"
            )
        return float(candidate["qe"]) + faithfulness_weight * float(candidate["align"])

    return reward


def multi_pairs(pool: tuple[Candidate, ...], r_d: list[float], alpha: float) -> list[tuple[int, int]]:
    """Head-to-tail (chosen, rejected) pairs of one source, ranked by the fused reward."""
    return head_to_tail_pairs(fused_scores([c.reward for c in pool], r_d, alpha))


class M2POTrainer(PoolTrainer):
    """Trainer whose loss pairs every pool head to tail under the fused reward at every step."""

    def __init__(self, *args, settings: Mapping[str, Any], **kwargs):
        super().__init__(*args, settings=settings, **kwargs)
        self.preference_loss = PREFERENCE_LOSSES.get(self.settings["preference_loss"], where="rl.m2po.preference_loss")

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        pools = inputs["batch"].pools
        s = self.settings
        alpha = linear_schedule(self.state.global_step, self.state.max_steps, s["alpha_start"], s["alpha_end"])
        chosen, rejected, best_rows = [], [], []
        for pool, (sums, means) in zip(pools, self.score_pools(model, pools)):
            r_d = (means if s["length_normalise"] else sums).tolist()
            pairs = multi_pairs(pool, r_d, alpha)
            if pairs:
                best_rows.append(len(chosen))  # the first pair's chosen is the source's best candidate
            chosen += [pool[i] for i, _ in pairs]
            rejected += [pool[j] for _, j in pairs]
        if not chosen:  # every pool tied: nothing to prefer in this micro-batch
            loss = sum(p.sum() for p in model.parameters() if p.requires_grad) * 0.0
            return (loss, {}) if return_outputs else loss

        logits, labels, sums, _ = self.forward_candidates(model, chosen + rejected)
        n = len(chosen)
        preference = self.preference_loss(sums[:n], sums[n:], s["beta"])
        nll = mean_token_nll(logits[best_rows], labels[best_rows])
        loss = preference + s["nll_weight"] * nll

        self.record(
            alpha=alpha,
            pairs_per_source=n / len(pools),
            chosen_static_mean=sum(c.reward for c in chosen) / n,
            rejected_static_mean=sum(c.reward for c in rejected) / n,
            preference_loss=preference.item(),
            nll_loss=nll.item(),
        )
        return (loss, {"logits": logits}) if return_outputs else loss


def run_m2po(
    model_dir: str | os.PathLike,
    pool_rows: Iterable[Mapping[str, Any]],
    out_dir: str | os.PathLike,
    checkpoint_dir: str | os.PathLike,
    hparams: M2POConfig | Mapping[str, Any] | None = None,
    throughput_log: str | os.PathLike | None = None,
) -> Path:
    """M2PO on candidate pools scored with QE and S_align; merged model to ``out_dir``.

    ``pool_rows``: ``{id, src, src_lang, tgt_lang, candidates: [{text, origin,
    qe, align}]}``. ``out_dir/train_log.jsonl`` has per step: loss, lr,
    alpha, pairs_per_source, chosen/rejected_static_mean, preference_loss,
    nll_loss.
    """
    hp = stage_config(M2POConfig, hparams, "m2po")
    settings = {key: getattr(hp, key) for key in LOSS_SETTINGS}
    return run_pool_stage(M2POTrainer, hp, settings, model_dir, pool_rows, out_dir, checkpoint_dir, throughput_log,
                          reward=faithfulness_reward(hp.faithfulness_weight), stage="m2po")
