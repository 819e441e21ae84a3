"""Pure tensor maths of the dynamic multi-reward optimisation stage.

Marco-MT-Algharb (WMT25) step-2 RL, "Dynamic Multi-Reward Optimization with
Self-Distillation":

* ``R_total(x, y, t) = (1 − w(t))·R_QE(x, y) + w(t)·R_self(x, y)`` with
  ``R_self = log Pθ(y | x)`` and ``w(t)`` annealed linearly from 0.05 to 0.8;
* ``L_KL = KL( σ(τ·ΔQE) ‖ σ(Δ log Pθ) )``, a KL divergence between two
  Bernoulli distributions over "y_w beats y_l" for a pair (y_w, y_l);
* the objective adds ``L_KL`` to a preference-optimisation loss chosen by
  name (:mod:`algharb.train.preference`; CPO's
  ``−log σ(β·(log π(y_w) − log π(y_l)))`` by default) plus a weighted NLL on y_w.

Every function here is side-effect free and differentiable where it should be;
the training loop in :mod:`algharb.train.dynamic` decides what to detach.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100


def self_reward_weight(step: int, total_steps: int, start: float = 0.05, end: float = 0.8) -> float:
    """w(t): linear from ``start`` at step 0 to ``end`` at step ``total_steps − 1``.

    Steps are 0-based optimizer steps, so the first update uses ``start`` and
    the last one ``end`` exactly; steps outside the range are clamped.
    """
    if total_steps < 1:
        raise ValueError(f"total_steps must be ≥ 1, got {total_steps}")
    fraction = min(max(step / max(total_steps - 1, 1), 0.0), 1.0)
    return start + (end - start) * fraction


def total_reward(r_qe: torch.Tensor, r_self: torch.Tensor, w: float) -> torch.Tensor:
    """R_total = (1 − w)·R_QE + w·R_self, elementwise."""
    return (1.0 - w) * r_qe + w * r_self


def bernoulli_kl(p_target: torch.Tensor, p_model: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """KL(Bern(p_target) ‖ Bern(p_model)), elementwise, in nats.

    ``p log(p/q) + (1 − p) log((1 − p)/(1 − q))``; 0·log 0 counts as 0 and the
    model probability is clamped away from 0 and 1 to stay finite.
    """
    q = p_model.clamp(eps, 1.0 - eps)
    p = p_target
    return torch.xlogy(p, p) - p * torch.log(q) + torch.xlogy(1.0 - p, 1.0 - p) - (1.0 - p) * torch.log1p(-q)


def preference_kl_loss(delta_qe: torch.Tensor, delta_logp: torch.Tensor, tau: float = 0.3) -> torch.Tensor:
    """Mean over pairs of KL( σ(τ·ΔQE) ‖ σ(Δ log Pθ) ).

    Written with log-sigmoids of the model margin so that large margins do not
    saturate to log 0. The target carries no gradient. Swapping y_w and y_l
    negates both deltas and leaves the value unchanged.
    """
    p = torch.sigmoid(tau * delta_qe).detach()
    log_q = F.logsigmoid(delta_logp)
    log_not_q = F.logsigmoid(-delta_logp)
    per_pair = torch.xlogy(p, p) - p * log_q + torch.xlogy(1.0 - p, 1.0 - p) - (1.0 - p) * log_not_q
    return per_pair.mean()


def sequence_logprobs(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum and per-token mean of log p(label) over each sequence of a causal LM.

    ``logits``: (batch, length, vocab) as returned by the model for the same
    input ids whose labels are given; ``labels``: (batch, length) with
    ``IGNORE_INDEX`` on prompt and padding positions. Position t's logits
    predict label t+1. Returns two (batch,) tensors; a sequence without any
    labelled token has sum 0 and mean 0.
    """
    if logits.shape[:-1] != labels.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and labels {tuple(labels.shape)} do not align")
    shifted_logits = logits[:, :-1, :].float()
    targets = labels[:, 1:]
    mask = targets != IGNORE_INDEX
    safe_targets = targets.masked_fill(~mask, 0)
    # log_softmax(x)[y] = x[y] − logsumexp(x): avoids a second vocab-sized tensor.
    picked = shifted_logits.gather(-1, safe_targets.unsqueeze(-1)).squeeze(-1)
    token_logps = (picked - torch.logsumexp(shifted_logits, dim=-1)) * mask
    total = token_logps.sum(-1)
    count = mask.sum(-1)
    mean = total / count.clamp(min=1)
    return total, mean


def mean_token_nll(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Token-level NLL averaged over all labelled tokens of the batch (CPO's NLL term)."""
    total, _ = sequence_logprobs(logits, labels)
    count = (labels[:, 1:] != IGNORE_INDEX).sum()
    return -total.sum() / count.clamp(min=1)
