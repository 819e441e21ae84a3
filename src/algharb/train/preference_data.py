"""Preference pairs from scored candidate pools (ALMA-R's triplets, and its noised-rejected analysis).

A pool row holds one source's candidates from several systems (the policy's
own samples, the teacher, the reference where the RL sources have one), each
with its ``origin``, every scorer's score under ``scores``, the weighted
score the pairs are picked by under ``qe`` (:func:`algharb.train.pairing.
weighted_score`: ALMA-R takes the mean of KIWI-XXL and XCOMET-XXL) and, when
an aligner is configured, ``align`` (S_align).

- :func:`build_preference_pairs`: ALMA-R's triplet rule (Xu et al. 2024,
  "Contrastive Preference Optimization", §3): chosen = the highest-scored
  candidate, rejected = the lowest-scored one with a different text, kept
  when the gap reaches ``margin``. Every score of both is kept beside the pair.
- :func:`noised_pairs`: the same chosen translations with a rejected one made
  by noising them (§6.2, "does the quality of dis-preferred data matter?"):
  each word deleted with p 0.15, adjacent words swapped with p 0.3, seeded
  per source so that the result does not depend on the order of the rows.

Pure: no I/O; randomness only through the seed passed in.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from typing import Any, Iterable, Mapping

from algharb.train.common import pool_candidates
from algharb.train.pairing import noise_translation

SKIP_REASONS = ("no_margin", "fewer_than_two_distinct")
NOISED_ORIGIN = "noised"
PAIR_KEYS = ("id", "src", "src_lang", "tgt_lang")


def select_pair(candidates: list[Mapping[str, Any]]) -> tuple[int, int] | None:
    """Indices (chosen, rejected): highest ``qe``, and lowest ``qe`` among different texts.

    Ties go to the earlier candidate. None when no candidate differs in text
    from the chosen one.
    """
    if not candidates:
        return None
    chosen = max(range(len(candidates)), key=lambda i: (candidates[i]["qe"], -i))
    others = [i for i in range(len(candidates)) if candidates[i]["text"] != candidates[chosen]["text"]]
    if not others:
        return None
    rejected = min(others, key=lambda i: (candidates[i]["qe"], i))
    return chosen, rejected


def candidate_scores(candidate: Mapping[str, Any]) -> dict[str, float]:
    """Every score a candidate carries: each scorer's, the weighted ``qe`` and ``align`` when present."""
    scores = dict(candidate.get("scores", {}))
    scores["qe"] = candidate["qe"]
    if candidate.get("align") is not None:
        scores["align"] = candidate["align"]
    return scores


def build_preference_pairs(
    pool_rows: Iterable[Mapping[str, Any]], margin: float
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One (chosen, rejected) pair per source whose score gap is at least ``margin``.

    Returns the pairs, each with the texts, origins, picking scores (``chosen_qe``,
    ``rejected_qe``), their gap (``margin``) and every score of both
    (``chosen_scores``, ``rejected_scores``), and stats: ``sources``,
    ``pairs``, ``skipped`` by reason (``no_margin``,
    ``fewer_than_two_distinct``) and counts of chosen/rejected origins.
    """
    if margin < 0 or not math.isfinite(margin):
        raise ValueError(f"margin must be a finite number ≥ 0, got {margin}")
    pairs: list[dict[str, Any]] = []
    skipped = Counter({reason: 0 for reason in SKIP_REASONS})
    sources = 0
    for index, row in enumerate(pool_rows):
        sources += 1
        candidates = pool_candidates(row, index)
        selected = select_pair(candidates)
        if selected is None:
            skipped["fewer_than_two_distinct"] += 1
            continue
        chosen, rejected = candidates[selected[0]], candidates[selected[1]]
        gap = chosen["qe"] - rejected["qe"]
        if gap < margin:
            skipped["no_margin"] += 1
            continue
        pairs.append(
            {
                **{key: row[key] for key in PAIR_KEYS},
                "chosen": chosen["text"],
                "rejected": rejected["text"],
                "chosen_origin": chosen["origin"],
                "rejected_origin": rejected["origin"],
                "chosen_qe": chosen["qe"],
                "rejected_qe": rejected["qe"],
                "margin": gap,
                "chosen_scores": candidate_scores(chosen),
                "rejected_scores": candidate_scores(rejected),
            }
        )
    return pairs, {"sources": sources, "pairs": len(pairs), "skipped": dict(skipped), **origin_counts(pairs)}


def origin_counts(pairs: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """How often each system supplied the chosen and the rejected translation."""
    pairs = list(pairs)
    return {
        "chosen_origin": dict(Counter(pair["chosen_origin"] for pair in pairs)),
        "rejected_origin": dict(Counter(pair["rejected_origin"] for pair in pairs)),
    }


def noised_pairs(
    pairs: Iterable[Mapping[str, Any]], seed: int, p_delete: float = 0.15, p_swap: float = 0.3
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The pairs with each rejected translation replaced by a noised copy of the chosen one.

    The noise of a pair is drawn from ``random.Random(f"{seed}/{id}")``, so it
    depends on the seed and the source only. A pair whose noised text equals
    the chosen one (a one-word translation, or no draw fired) prefers nothing
    and is left out, counted as ``unchanged``.
    """
    noised, unchanged, total = [], 0, 0
    for pair in pairs:
        total += 1
        text = noise_translation(pair["chosen"], random.Random(f"{seed}/{pair['id']}"), p_delete, p_swap)
        if text == pair["chosen"]:
            unchanged += 1
            continue
        noised.append({**pair, "rejected": text, "rejected_origin": NOISED_ORIGIN, "rejected_qe": None,
                       "margin": None, "rejected_scores": {}})
    stats = {"sources": total, "pairs": len(noised), "skipped": {"unchanged": unchanged}, **origin_counts(noised)}
    return noised, stats
