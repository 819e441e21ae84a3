"""``xcomet``: the mean segment COMET score ×100 (as in Table 2 of the paper) of ``models.evaluation``.

Whatever COMET checkpoint ``models.evaluation`` names is used (XCOMET-XXL in
the paper's config, a stand-in in the demo). A ``UnifiedMetric`` trained with
word-level tags (XCOMET; "xCOMET: Transparent Machine Translation Evaluation
through Fine-grained Error Detection", Guerreiro et al. 2024, §3) also
returns error spans with severities, kept per segment; other COMET classes
return none, and the result says so.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..models import ModelSpec
from .comet import comet_scorer
from .registry import METRICS, Metric, MetricInputs, MetricResult


@METRICS.register("xcomet")
class XComet(Metric):
    family = "neural"

    def __init__(self, inputs: MetricInputs):
        if inputs.model is None:
            raise ValueError("metric 'xcomet' needs models.evaluation")
        self.location = ModelSpec.from_dict(inputs.model, where="models.evaluation").location
        self.scorer = comet_scorer(inputs.model, batch_size=inputs.batch_size, threads=inputs.threads)

    def score(self, sources: Sequence[str], hypotheses: Sequence[str], references: Sequence[str]) -> MetricResult:
        segments, spans = self.scorer.score_with_spans(sources, hypotheses, references)
        segments = [100.0 * s for s in segments]
        note = "" if spans is not None else f"{self.location} ({self.scorer.model_class}) predicts no error spans"
        return MetricResult("xcomet", float(np.mean(segments)) if segments else float("nan"),
                            f"comet:{self.location}", segments, spans=spans, spans_note=note)
