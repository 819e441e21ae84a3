"""Pure functions that turn scored candidate lists into preference pairs (ALMA-R, M2PO).

- ALMA-R (Xu et al. 2024, "Contrastive Preference Optimization: Pushing the
  Boundaries of LLM Performance in Machine Translation", §3 and §6.2): each
  candidate is scored by a weighted mean of metrics; its analysis of
  dis-preferred data builds the rejected translation by noising the chosen
  one (:func:`noise_translation`).
- M2PO ("Beyond Single-Reward: Multi-Pair, Multi-Perspective Preference
  Optimization for Machine Translation", §3): a static reward (QE plus a
  faithfulness term) and the policy's own log-probability are z-scored
  within the source's candidates and mixed with a weight that rises over
  training (:func:`fused_scores`, :func:`linear_schedule`); the ranked
  candidates are paired head to tail (:func:`head_to_tail_pairs`).

No I/O here, and randomness only through the ``random.Random`` passed in.
"""

from __future__ import annotations

import math
import random
from typing import Mapping, Sequence


def weighted_score(scores: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """``Σ w_m·s_m / Σ w_m`` over the weighted metrics (ALMA-R: the mean of KIWI-XXL and XCOMET-XXL)."""
    missing = sorted(set(weights) - set(scores))
    if missing:
        raise KeyError(f"candidate lacks the score(s) {missing} its weights name")
    total = sum(weights.values())
    if total <= 0:
        raise ValueError(f"scorer weights must sum to a positive number, got {dict(weights)}")
    return sum(weights[name] * scores[name] for name in weights) / total


def noise_translation(text: str, rng: random.Random, p_delete: float = 0.15, p_swap: float = 0.3) -> str:
    """A dis-preferred translation made from a good one (ALMA-R's analysis of rejected data).

    First every word is deleted with probability ``p_delete`` (at least one
    word is kept: the first survivor, or the first word when none survive);
    then, left to right, each pair of adjacent words is swapped with
    probability ``p_swap``, and a swapped word is not swapped again. One
    ``rng.random()`` draw per word, then one per adjacent pair considered.
    """
    words = text.split()
    if not words:
        return text
    kept = [word for word in words if rng.random() >= p_delete] or words[:1]
    index = 0
    while index < len(kept) - 1:
        if rng.random() < p_swap:
            kept[index], kept[index + 1] = kept[index + 1], kept[index]
            index += 2
        else:
            index += 1
    return " ".join(kept)


def zscores(values: Sequence[float]) -> list[float]:
    """``(v − mean) / std`` within one candidate list (population std); all zeros when the values are equal."""
    if not values:
        return []
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    if std == 0:
        return [0.0] * len(values)
    return [(v - mean) / std for v in values]


def fused_scores(static: Sequence[float], dynamic: Sequence[float], alpha: float) -> list[float]:
    """M2PO's ``r_fused = (1 − α)·z(r_s) + α·z(r_d)`` for the candidates of one source."""
    if len(static) != len(dynamic):
        raise ValueError(f"{len(static)} static but {len(dynamic)} dynamic rewards")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    return [(1 - alpha) * s + alpha * d for s, d in zip(zscores(static), zscores(dynamic))]


def linear_schedule(step: int, total_steps: int, start: float, end: float) -> float:
    """``start`` at step 0 rising linearly to ``end`` at the last step (``total_steps − 1``)."""
    if total_steps <= 1:
        return end
    return start + (end - start) * min(max(step, 0), total_steps - 1) / (total_steps - 1)


def head_to_tail_pairs(scores: Sequence[float]) -> list[tuple[int, int]]:
    """M2PO's multi-pair rule: rank by score, pair best with worst, second with second-worst, …

    Returns ``len(scores) // 2`` (chosen, rejected) index pairs; ties keep
    the earlier candidate ahead, and a pair whose two scores are equal is
    left out (it prefers nothing).
    """
    ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    pairs = []
    for k in range(len(ranked) // 2):
        best, worst = ranked[k], ranked[-1 - k]
        if scores[best] > scores[worst]:
            pairs.append((best, worst))
    return pairs
