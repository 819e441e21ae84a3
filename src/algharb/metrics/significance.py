"""Paired bootstrap resampling: confidence intervals and p-values for differences between systems.

The method is Koehn (2004), "Statistical significance tests for machine
translation evaluation", as ``sacrebleu --paired-bs`` implements it: draw
``resamples`` test sets of the same size with replacement, the *same* draws
for every system (the test is paired), recompute each system's corpus score
on every draw, and

- the confidence interval of a score is the percentile interval of its
  resampled scores;
- the p-value of a difference is the share of resampled absolute
  differences, centred on their mean (the null hypothesis), that reach the
  observed absolute difference, with the +1 correction:
  ``p = (#{|Δ*| − mean|Δ*| >= |Δ|} + 1) / (R + 1)``.

sacrebleu counts strictly greater differences; counting ties as reaching
the observed one is the conservative choice and gives p = 1 for a system
compared with itself (sacrebleu reports 1/(R+1) there). For continuous
scores the two agree. The draws come from ``numpy.random.default_rng(seed)``
exactly as in sacrebleu, so with sacrebleu's seed the draws are identical.

Corpus scores that are not segment means (BLEU, chrF) are recomputed from
sufficient statistics (:class:`~.registry.ResamplingStatistic`); COMET-style
scores are segment means, resampled as ``comet-compare`` does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


def pair_seed(seed: int, name: str) -> int:
    """A seed for one test set derived from the run's seed: directions draw independently, reproducibly."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def bootstrap_counts(n_segments: int, resamples: int, seed: int) -> np.ndarray:
    """``counts[r, i]``: how often resample ``r`` drew segment ``i`` (each row sums to ``n_segments``)."""
    if n_segments < 1:
        raise ValueError("bootstrap: the test set is empty")
    if resamples < 1:
        raise ValueError(f"bootstrap: resamples must be >= 1, got {resamples}")
    draws = np.random.default_rng(seed).choice(n_segments, size=(resamples, n_segments), replace=True)
    counts = np.zeros((resamples, n_segments), dtype=np.float64)
    np.add.at(counts, (np.arange(resamples)[:, None], draws), 1.0)
    return counts


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` interval of bootstrap values."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def paired_p_value(resampled: np.ndarray, resampled_other: np.ndarray, observed_difference: float) -> float:
    """Two-sided paired bootstrap p-value of ``observed_difference`` (see the module docstring)."""
    sample_differences = np.abs(np.asarray(resampled) - np.asarray(resampled_other))
    centred = sample_differences - sample_differences.mean()
    reached = int(np.sum(centred >= abs(observed_difference)))
    return (reached + 1) / (len(centred) + 1)


@dataclass(frozen=True)
class Comparison:
    """System minus other system: the observed difference, its interval and p-value."""

    delta: float
    low: float
    high: float
    p_value: float

    def significant(self, alpha: float) -> bool:
        return self.p_value < alpha


def compare(
    observed: float, resampled: np.ndarray, other_observed: float, other_resampled: np.ndarray, confidence: float
) -> Comparison:
    """Paired comparison of two systems' scores on the same bootstrap draws."""
    differences = np.asarray(resampled) - np.asarray(other_resampled)
    low, high = percentile_interval(differences, confidence)
    delta = observed - other_observed
    return Comparison(delta, low, high, paired_p_value(resampled, other_resampled, delta))
