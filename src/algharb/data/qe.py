"""The QE cut: which scored pairs a direction's QE settings reject (reason ``qe``).

The pairs that survived the rule filters and dedup are scored by a QE model
(CometKiwi in the paper) and cut over all shards of a direction together:
below a threshold, or the lowest share (quantile). The settings are a
:class:`~algharb.data.config.QEConfig`, checked there.
"""

from __future__ import annotations

import math

import numpy as np

from algharb.config.section import ConfigError
from algharb.data.config import QEConfig

QE_REASON = "qe"


def qe_cutoff(scores, qe: QEConfig, where: str = "clean.qe") -> np.ndarray:
    """Return a boolean mask of the scores to reject.

    Mode ``threshold``: reject scores strictly below it. Mode ``quantile``:
    reject the lowest ``floor(quantile * n)`` scores (ties broken by
    position, earlier first, so exactly that many go). ``qe`` must ask for
    a cut; scores must be finite.
    """
    cut = qe.check(where)
    if cut is None:
        raise ConfigError(f"{where}: no QE cut: set mode and its threshold or quantile")
    scores = np.asarray(scores, dtype=float)
    bad = np.flatnonzero(~np.isfinite(scores))
    if bad.size:
        raise ValueError(f"qe: score #{bad[0]} is {scores[bad[0]]}; scores must be finite")
    mode, value = cut
    if mode == "threshold":
        return scores < value
    rejected = np.zeros(scores.size, dtype=bool)
    # The epsilon keeps e.g. 0.29 * 100 = 28.999... from flooring to 28.
    rejected[np.argsort(scores, kind="stable")[: math.floor(value * scores.size + 1e-9)]] = True
    return rejected
