"""The ``clean`` section: the data stage's settings with their defaults and meanings.

Filter options are typed by each filter class (the filter registry); this
section holds what is common to a direction's cleaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from algharb.config.section import Section, option


@dataclass(frozen=True)
class NormalizeConfig(Section):
    enabled: bool = option(True, "language-aware Unicode, punctuation and spacing normalisation")
    fix_casing: bool = option(False, "lower-case lines written in ALL CAPS")


@dataclass(frozen=True)
class QEConfig(Section):
    """The QE filter (CometKiwi in the paper): a score threshold or a per-direction quantile."""

    mode: str | None = option(None, "'threshold' (reject below `threshold`) or 'quantile' (reject the lowest share); None: no QE filter")
    threshold: float | None = option(None, "mode threshold: pairs scoring below it are rejected")
    quantile: float | None = option(None, "mode quantile: share of the direction's pairs rejected, in [0, 1]")
    batch_size: int = option(64, "pairs per QE model batch")

    def cut(self) -> dict[str, Any]:
        """Only what decides the cut (batch size left out, so it triggers no rerun of the cut)."""
        return {"mode": self.mode, "threshold": self.threshold, "quantile": self.quantile}


@dataclass(frozen=True)
class CleanConfig(Section):
    shard_size: int = option(1_000_000, "raw lines per shard (one cleaning job each)")
    filters: dict = option(help="filter name → options, applied in order (see algharb.data.filters)", factory=dict)
    normalize: NormalizeConfig = option(help="text normalisation before the filters", factory=NormalizeConfig)
    per_pair: dict = option(help="direction → filter (and qe) overrides", factory=dict)
    qe: QEConfig = option(help="the QE filter", factory=QEConfig)
