"""The evaluation metric registry: corpus scores keyed by the names in ``evaluate.metrics``.

A metric is a class registered under its config name, built from a
:class:`MetricInputs`, whose ``score`` gives one corpus score (0–100) with
the signature that pins how it was computed::

    @METRICS.register("my_metric")
    class MyMetric:
        def __init__(self, inputs: MetricInputs): ...

        def score(self, sources, hypotheses, references) -> dict:
            return {"metric": "my_metric", "score": ..., "signature": "my_metric:v1"}

with its module imported by ``algharb/metrics/__init__.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

from ..registry import Registry


class Metric(Protocol):
    def score(self, sources: Sequence[str], hypotheses: Sequence[str], references: Sequence[str]) -> dict:
        """``{"metric", "score", "signature"}`` of one system's output on one test set."""


@dataclass(frozen=True)
class MetricInputs:
    """What a metric may need: the test set's target language and, for model-based metrics, the model."""

    tgt_lang: str
    model: dict | None  # the ``models.evaluation`` entry
    batch_size: int  # ``evaluate.comet_batch_size``: segments per model batch
    threads: int  # the job's CPU threads


METRICS: Registry[Callable[[MetricInputs], Metric]] = Registry("evaluation metric")


def build_metric(name: str, inputs: MetricInputs) -> Metric:
    """The metric registered as ``name`` (an entry of ``evaluate.metrics``)."""
    return METRICS.build(name, inputs, where="evaluate.metrics")
