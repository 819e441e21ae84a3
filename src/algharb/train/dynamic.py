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

import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import torch

from algharb.train.common import stage_config
from algharb.train.config import DynamicConfig
from algharb.train.losses import mean_token_nll, preference_kl_loss, self_reward_weight, total_reward
from algharb.train.pools import PoolTrainer, run_pool_stage
from algharb.train.preference import PREFERENCE_LOSSES

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


def pick_pair(r_total: Sequence[float]) -> tuple[int, int]:
    """(argmax, argmin over the others) of ``r_total``, ties to the earlier index.

    Pools are deduplicated, so any two candidates differ in text.
    """
    chosen = max(range(len(r_total)), key=lambda i: (r_total[i], -i))
    rejected = min((i for i in range(len(r_total)) if i != chosen), key=lambda i: (r_total[i], i))
    return chosen, rejected


class DynamicRewardTrainer(PoolTrainer):
    """Trainer whose loss re-forms preference pairs from candidate pools at every step."""

    def __init__(self, *args, settings: Mapping[str, Any], **kwargs):
        super().__init__(*args, settings=settings, **kwargs)
        self.preference_loss = PREFERENCE_LOSSES.get(self.settings["preference_loss"],
                                                     where="rl.dynamic.preference_loss")

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        pools = inputs["batch"].pools
        s = self.settings
        w = self_reward_weight(self.state.global_step, self.state.max_steps, s["w_start"], s["w_end"])
        scores = self.score_pools(model, pools)
        pairs, r_self_all, r_qe_all = [], [], []
        for pool, (sums, means) in zip(pools, scores):
            r_self = means if s["length_normalise"] else sums
            r_qe = torch.tensor([c.reward for c in pool])
            r_total = total_reward(r_qe, r_self, w)
            pairs.append(pick_pair(r_total.tolist()))
            r_self_all.append(r_self)
            r_qe_all.append(r_qe)

        chosen = [pool[i] for pool, (i, _) in zip(pools, pairs)]
        rejected = [pool[j] for pool, (_, j) in zip(pools, pairs)]
        logits, labels, sums, means = self.forward_candidates(model, chosen + rejected)
        n = len(pools)
        preference = self.preference_loss(sums[:n], sums[n:], s["beta"])
        nll = mean_token_nll(logits[:n], labels[:n])
        kl_logp = means if s["length_normalise"] else sums
        qe_w = torch.tensor([c.reward for c in chosen], device=logits.device)
        qe_l = torch.tensor([c.reward for c in rejected], device=logits.device)
        kl = preference_kl_loss(s["qe_scale"] * (qe_w - qe_l), kl_logp[:n] - kl_logp[n:], s["tau"])
        loss = preference + s["nll_weight"] * nll + s["kl_weight"] * kl

        self.record(
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
    hp = stage_config(DynamicConfig, hparams, "dynamic")
    settings = {key: getattr(hp, key) for key in LOSS_SETTINGS}
    return run_pool_stage(DynamicRewardTrainer, hp, settings, model_dir, pool_rows, out_dir, checkpoint_dir,
                          throughput_log, stage="dynamic")
