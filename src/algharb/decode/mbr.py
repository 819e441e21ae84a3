"""Minimum Bayes risk selection with the paper's hybrid alignment term.

Seed 000, eq. 3–5::

    S_MBR(y_i)    = Σ_j U(y_i, y_j)
    S_hybrid(y_i) = S_MBR(y_i) + λ · S_align(x, y_i)

The paper writes S_MBR as a *sum* over the N = 100 candidates, which would
make a coverage score in [0, 1] weighted by λ = 0.5 irrelevant (a sum of 100
utilities is ~100× larger). We read S_MBR as the *expected* utility (the mean
over pseudo-references), the usual MBR definition, so that both terms live
on the same [0, 1] scale; ``aggregate: sum`` restores the literal formula.
Self-comparison U(y_i, y_i) is excluded by default, since it only rewards a
candidate for agreeing with itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

AGGREGATES = ("mean", "sum")


def mbr_scores(utility: np.ndarray, include_self: bool = False, aggregate: str = "mean") -> np.ndarray:
    """Expected (or summed) utility of each hypothesis row against all pseudo-references.

    ``utility[i, j] = U(hypothesis y_i, pseudo-reference y_j)``.
    """
    utility = np.asarray(utility, dtype=np.float64)
    if utility.ndim != 2 or utility.shape[0] != utility.shape[1]:
        raise ValueError(f"utility matrix must be square, got shape {utility.shape}")
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {AGGREGATES}, got {aggregate!r}")
    n = utility.shape[0]
    if n == 0:
        return np.zeros(0)
    mask = np.ones((n, n), dtype=bool)
    if not include_self:
        np.fill_diagonal(mask, False)
    if not mask.any():  # a single candidate without self-comparison: nothing to compare to
        return np.zeros(n)
    totals = np.where(mask, utility, 0.0).sum(axis=1)
    if aggregate == "sum":
        return totals
    return totals / mask.sum(axis=1)


def hybrid_scores(mbr: np.ndarray, align: np.ndarray | None, lam: float) -> np.ndarray:
    """``S_MBR + λ·S_align``; without an alignment term the MBR score alone."""
    mbr = np.asarray(mbr, dtype=np.float64)
    if align is None or lam == 0:
        return mbr.copy()
    align = np.asarray(align, dtype=np.float64)
    if align.shape != mbr.shape:
        raise ValueError(f"alignment scores {align.shape} do not match MBR scores {mbr.shape}")
    return mbr + lam * align


TIE_TOLERANCE = 1e-9


def select(scores: np.ndarray) -> int:
    """Index of the best score; ties go to the earliest candidate (deterministic).

    Scores within a relative 1e-9 of the best count as tied, so the choice does
    not depend on floating-point summation order (batched vs. pairwise, CPU vs. GPU).
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        raise ValueError("cannot select from an empty candidate list")
    best = scores.max()
    return int(np.flatnonzero(scores >= best - TIE_TOLERANCE * max(1.0, abs(best)))[0])


def unique_candidates(candidates: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Distinct candidates in first-seen order and, per candidate, its index among them.

    Sampling at N = 100 repeats candidates often; utilities are computed once
    per distinct pair and expanded back, which selects exactly what the full
    N×N computation would.
    """
    index: dict[str, int] = {}
    inverse = np.empty(len(candidates), dtype=np.int64)
    for position, text in enumerate(candidates):
        inverse[position] = index.setdefault(text, len(index))
    return list(index), inverse


TripleUtility = Callable[[list[str], list[str], list[str]], list[float]]
"""Scores (source, hypothesis, pseudo-reference) triples element-wise, in one batch."""


def utility_matrices(sources: Sequence[str], candidate_lists: Sequence[Sequence[str]],
                     utility: TripleUtility) -> list[np.ndarray]:
    """One N×N utility matrix per source sentence, from a single batched utility call.

    Batching across sentences matters: a neural utility pays a fixed cost per
    call, and each matrix is computed on distinct candidates only.
    """
    if len(sources) != len(candidate_lists):
        raise ValueError(f"{len(sources)} sources but {len(candidate_lists)} candidate lists")
    plans, srcs, hyps, refs = [], [], [], []
    for source, candidates in zip(sources, candidate_lists):
        distinct, inverse = unique_candidates(candidates)
        plans.append((len(distinct), inverse))
        for hyp in distinct:
            for ref in distinct:
                srcs.append(source)
                hyps.append(hyp)
                refs.append(ref)
    flat = np.asarray(utility(srcs, hyps, refs) if hyps else [], dtype=np.float64)
    matrices, offset = [], 0
    for m, inverse in plans:
        small = flat[offset : offset + m * m].reshape(m, m)
        offset += m * m
        matrices.append(small[np.ix_(inverse, inverse)])
    return matrices


@dataclass
class Selection:
    index: int
    mbr: list[float]
    align: list[float] | None
    hybrid: list[float]


def select_scored_row(row: dict, lam: float, mbr: dict | None = None) -> Selection | None:
    """Select from a row saved by the decoding step (``utility`` N×N, ``align`` N or None).

    ``mbr`` holds ``include_self``/``aggregate``; a row without candidates gives None.
    """
    if not row["candidates"]:
        return None
    mbr = mbr or {}
    align = None if row.get("align") is None else np.asarray(row["align"], dtype=np.float64)
    return hybrid_select(np.asarray(row["utility"], dtype=np.float64), align, lam,
                         include_self=mbr.get("include_self", False), aggregate=mbr.get("aggregate", "mean"))


def hybrid_select(utility: np.ndarray, align: np.ndarray | None, lam: float,
                  include_self: bool = False, aggregate: str = "mean") -> Selection:
    """Score and select one candidate; keeps every score for later λ sweeps."""
    mbr = mbr_scores(utility, include_self=include_self, aggregate=aggregate)
    hybrid = hybrid_scores(mbr, align, lam)
    return Selection(
        index=select(hybrid),
        mbr=mbr.tolist(),
        align=None if align is None else np.asarray(align, dtype=np.float64).tolist(),
        hybrid=hybrid.tolist(),
    )
