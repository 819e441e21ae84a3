"""Minimum Bayes risk selection with the paper's hybrid alignment term.

Marco-MT-Algharb, WMT25, §2.4, eq. 3–5::

    S_MBR(y_i)    = Σ_j U(y_i, y_j)
    S_hybrid(y_i) = S_MBR(y_i) + λ · S_align(x, y_i)

The paper writes S_MBR as a *sum* over the N = 100 candidates, which would
make a coverage score in [0, 1] weighted by λ = 0.5 irrelevant (a sum of 100
utilities is ~100× larger). We read S_MBR as the *expected* utility (the mean
over pseudo-references), the usual MBR definition, so that both terms live
on the same [0, 1] scale; ``aggregate: sum`` restores the literal formula.
Self-comparison U(y_i, y_i) is excluded by default, since it only rewards a
candidate for agreeing with itself. The utility matrices come from
:mod:`algharb.decode.utility`, the alignment scores from :mod:`algharb.decode.align`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import MBRConfig

AGGREGATES = ("mean", "sum")


def mbr_scores(utility: np.ndarray, include_self: bool, aggregate: str) -> np.ndarray:
    """Expected (or summed) utility of each hypothesis row against all pseudo-references.

    ``utility[i, j] = U(hypothesis y_i, pseudo-reference y_j)``; ``include_self``
    and ``aggregate`` are those of ``decode.mbr`` (``MBRConfig``).
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


def hybrid_score(mbr: np.ndarray, align: np.ndarray | None, lam: float) -> np.ndarray:
    """``S_MBR + λ·S_align`` per candidate; without an alignment term the MBR score alone."""
    mbr = np.asarray(mbr, dtype=np.float64)
    if align is None or lam == 0:
        return mbr.copy()
    align = np.asarray(align, dtype=np.float64)
    if align.shape != mbr.shape:
        raise ValueError(f"alignment scores {align.shape} do not match MBR scores {mbr.shape}")
    return mbr + lam * align


TIE_TOLERANCE = 1e-9


def argmax_earliest(scores: np.ndarray) -> int:
    """Index of the best score; ties go to the earliest candidate (deterministic).

    Scores within a relative 1e-9 of the best count as tied, so the choice does
    not depend on floating-point summation order (batched vs. pairwise, CPU vs. GPU).
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        raise ValueError("cannot select from an empty candidate list")
    best = scores.max()
    return int(np.flatnonzero(scores >= best - TIE_TOLERANCE * max(1.0, abs(best)))[0])


@dataclass
class Selection:
    """The chosen candidate's index and every candidate's scores (kept for λ sweeps)."""

    index: int
    mbr: list[float]
    align: list[float] | None
    hybrid: list[float]


def select_candidate(utility: np.ndarray, align: np.ndarray | None, lam: float, mbr: MBRConfig) -> Selection:
    """The candidate with the best ``S_MBR + λ·S_align`` (``mbr`` gives ``include_self`` and ``aggregate``)."""
    mbr_score = mbr_scores(utility, include_self=mbr.include_self, aggregate=mbr.aggregate)
    hybrid = hybrid_score(mbr_score, align, lam)
    return Selection(
        index=argmax_earliest(hybrid),
        mbr=mbr_score.tolist(),
        align=None if align is None else np.asarray(align, dtype=np.float64).tolist(),
        hybrid=hybrid.tolist(),
    )


def select_scored_row(row: dict, lam: float, mbr: MBRConfig) -> Selection | None:
    """Select from a row saved by the decoding step (``utility`` N×N, ``align`` N or None).

    The one selection path of the decoding step and the λ sweep; a row
    without candidates gives None.
    """
    if not row["candidates"]:
        return None
    align = None if row.get("align") is None else np.asarray(row["align"], dtype=np.float64)
    return select_candidate(np.asarray(row["utility"], dtype=np.float64), align, lam, mbr)
