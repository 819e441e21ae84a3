"""The evaluation metric registry: corpus and segment scores keyed by the names in ``evaluate.metrics``.

A metric is a class registered under its config name, built from a
:class:`MetricInputs`. Its ``score`` returns a :class:`MetricResult`: the
corpus score (0–100), one score per segment (same scale) and the signature
that pins how it was computed::

    @METRICS.register("my_metric")
    class MyMetric(Metric):
        family = "string"

        def __init__(self, inputs: MetricInputs): ...

        def score(self, sources, hypotheses, references) -> MetricResult:
            segments = [...]
            return MetricResult("my_metric", mean(segments), "my_metric:v1", segments)

with its module imported by ``algharb/metrics/__init__.py``.

Significance testing resamples segments (:mod:`.significance`). By default
the corpus score of a resample is the mean of its segment scores (right for
COMET-style metrics); a metric whose corpus score is not a segment mean
(BLEU, chrF) overrides :meth:`Metric.resampling_statistic` to recompute the
corpus statistic from per-segment sufficient statistics.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from ..registry import Registry

# Metric families for the metric-independence view: a gain that shows only
# under the family of the MBR utility is suspect (Kovacs et al. 2024,
# "Mitigating metric bias in minimum Bayes risk decoding").
FAMILIES = ("neural", "string")


@dataclass(frozen=True)
class MetricInputs:
    """What a metric may need: the test set's target language and, for model-based metrics, the model."""

    tgt_lang: str
    model: dict | None  # the ``models.evaluation`` entry
    batch_size: int  # ``evaluate.comet_batch_size``: segments per model batch
    threads: int  # the job's CPU threads
    # Every ``models`` entry by name, for a metric with a model of its own (``bertscore``).
    models: Mapping[str, dict] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricResult:
    """One system's scores on one test set under one metric (all on a 0–100 scale)."""

    metric: str
    score: float
    signature: str
    segments: list[float]
    # Error spans per segment ({text, start, end, severity, confidence}) where
    # the metric's model predicts them (XCOMET); None where it cannot.
    spans: list[list[dict]] | None = None
    # Why there are no spans (e.g. "regression_metric predicts no error spans").
    spans_note: str = ""

    def summary(self) -> dict:
        """The system-level record kept in the evaluation JSON."""
        return {"metric": self.metric, "score": self.score, "signature": self.signature}


@dataclass(frozen=True)
class ResamplingStatistic:
    """Per-segment statistics whose sums give the corpus score of any resample of the segments.

    ``stats`` has one row per segment; ``score_of(sums, n)`` turns the
    column sums of ``n`` (possibly repeated) segments into a 0–100 score.
    """

    stats: np.ndarray
    score_of: Callable[[np.ndarray, int], float] = field(compare=False)

    def scores(self, counts: np.ndarray) -> np.ndarray:
        """The corpus score of each resample; ``counts[r, i]`` is how often resample r drew segment i."""
        sums = counts @ self.stats
        n = int(counts[0].sum()) if len(counts) else 0
        return np.array([self.score_of(row, n) for row in sums])


def segment_mean(segments: Sequence[float]) -> ResamplingStatistic:
    """The corpus score as the mean of segment scores (COMET family: as ``comet-compare`` resamples)."""
    stats = np.asarray(segments, dtype=np.float64).reshape(-1, 1)
    return ResamplingStatistic(stats, lambda sums, n: float(sums[0]) / n)


class Metric(ABC):
    """Base of every evaluation metric: ``score`` plus what significance testing needs."""

    name: str = ""
    # "neural" (a learned model, e.g. the COMET family) or "string" (BLEU, chrF).
    family: str = "neural"
    # The ``models`` entry a metric scores with besides ``models.evaluation`` (None: none), so that
    # the workflow passes it, declares its files as inputs and the config check requires it.
    model_entry: str | None = None

    @abstractmethod
    def score(self, sources: Sequence[str], hypotheses: Sequence[str], references: Sequence[str]) -> MetricResult:
        """Corpus and segment scores (0–100) of ``hypotheses`` against ``references``."""

    def resampling_statistic(
        self, hypotheses: Sequence[str], references: Sequence[str], segments: Sequence[float]
    ) -> ResamplingStatistic:
        """Statistics to recompute the corpus score on bootstrap resamples (default: segment mean)."""
        return segment_mean(segments)


METRICS: Registry[Callable[[MetricInputs], Metric]] = Registry("evaluation metric")


def metric_model_entries(names: Sequence[str]) -> list[str]:
    """The ``models`` entries that the metrics ``names`` need of their own, in order, once each."""
    entries = [getattr(METRICS.get(name, where="evaluate.metrics"), "model_entry", None) for name in names]
    return list(dict.fromkeys(entry for entry in entries if entry))


def build_metric(name: str, inputs: MetricInputs) -> Metric:
    """The metric registered as ``name`` (an entry of ``evaluate.metrics``)."""
    metric = METRICS.build(name, inputs, where="evaluate.metrics")
    if getattr(metric, "family", None) not in FAMILIES:
        raise ValueError(
            f"evaluation metric {name!r}: family must be one of {list(FAMILIES)}, got {getattr(metric, 'family', None)!r}"
        )
    return metric
