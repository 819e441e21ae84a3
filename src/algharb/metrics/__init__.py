"""Evaluation metrics, keyed by the names in ``evaluate.metrics``, and the COMET backend.

``chrf`` and ``bleu`` come from sacrebleu (:mod:`.sacre`), ``bertscore`` from
bert-score (:mod:`.bertscore`), ``xcomet`` scores
with any COMET checkpoint (:mod:`.xcomet`, through :mod:`.comet`, which also
serves QE filtering, rewards and the MBR utility). :func:`build_metric` is
the one way a metric is built; a new metric is one module registering itself
in :data:`METRICS` (see :mod:`.registry`) and one import line here.
"""

from .registry import (METRICS, Metric, MetricInputs, MetricResult, ResamplingStatistic, build_metric,
                       metric_model_entries)

# Each metric module registers itself in METRICS when imported.
from . import sacre, xcomet, bertscore  # noqa: E402,F401  isort: skip

__all__ = ["METRICS", "Metric", "MetricInputs", "MetricResult", "ResamplingStatistic", "build_metric", "metric_model_entries"]
