"""``xcomet``: the mean segment COMET score ×100 (as in Table 2 of the paper) of ``models.evaluation``.

Whatever COMET checkpoint ``models.evaluation`` names is used (XCOMET-XXL in
the paper's config, a stand-in in the demo).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..models import ModelSpec
from .comet import comet_scorer
from .registry import METRICS, MetricInputs


@METRICS.register("xcomet")
class XComet:
    def __init__(self, inputs: MetricInputs):
        if inputs.model is None:
            raise ValueError("metric 'xcomet' needs models.evaluation")
        self.location = ModelSpec.from_dict(inputs.model, where="models.evaluation").location
        self.scorer = comet_scorer(inputs.model, batch_size=inputs.batch_size, threads=inputs.threads)

    def score(self, sources: Sequence[str], hypotheses: Sequence[str], references: Sequence[str]) -> dict:
        segments = self.scorer.score(sources, hypotheses, references)
        return {"metric": "xcomet", "score": 100.0 * float(np.mean(segments)), "signature": f"comet:{self.location}"}
