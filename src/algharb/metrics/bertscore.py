"""``bertscore``: BERTScore F1 ×100 (Zhang et al. 2020, "BERTScore: Evaluating Text Generation with BERT").

The Collab-MT paper reports it beside BLEU (Table 6). Its model is the
config's ``models.bertscore`` entry, not ``models.evaluation`` (that one is
the COMET checkpoint). The options are given as ``models.bertscore.options``:
``num_layers`` (required for a local path: bert-score's own table of
defaults only knows hub names) and ``idf`` (default false). Scores are not
rescaled with a baseline, which would need a file downloaded per model.
The corpus score is the mean of the segment F1, so resampling uses the
segment mean (the ``Metric`` default).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..config.section import ConfigError
from ..models import ModelSpec
from .registry import METRICS, Metric, MetricInputs, MetricResult

MODEL_KEY = "models.bertscore"
OPTIONS = ("num_layers", "idf")


@METRICS.register("bertscore")
class BertScore(Metric):
    family = "neural"
    model_entry = "bertscore"

    def __init__(self, inputs: MetricInputs):
        import bert_score
        import torch

        spec = _model_spec(inputs)
        options = dict(spec.options)
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise ConfigError(f"{MODEL_KEY}.options: unknown key(s) {unknown}; allowed: {list(OPTIONS)}")
        if spec.path is not None and options.get("num_layers") is None:
            raise ConfigError(f"{MODEL_KEY}.options.num_layers is required for a local model ({spec.path})")
        torch.set_num_threads(inputs.threads)
        self.location = spec.location
        self.idf = bool(options.get("idf", False))
        self.num_layers = options.get("num_layers")
        self.scorer = bert_score.BERTScorer(
            model_type=spec.reference(), num_layers=self.num_layers, batch_size=inputs.batch_size,
            nthreads=inputs.threads, idf=False, lang=inputs.tgt_lang,
            device="cuda" if torch.cuda.is_available() else "cpu")
        self.version = bert_score.__version__

    def score(self, sources: Sequence[str], hypotheses: Sequence[str], references: Sequence[str]) -> MetricResult:
        if len(hypotheses) != len(references):
            raise ValueError(f"bertscore: {len(hypotheses)} hypotheses but {len(references)} references")
        if self.idf:
            # IDF weights come from the references being scored, as bert-score computes them.
            self.scorer.compute_idf(list(references))
        segments = self._f1(list(hypotheses), list(references)) if hypotheses else []
        corpus = float(np.mean(segments)) if segments else float("nan")
        return MetricResult("bertscore", corpus, self.signature(), segments)

    def _f1(self, hypotheses: list[str], references: list[str]) -> list[float]:
        _, _, f1 = self.scorer.score(hypotheses, references, batch_size=self.scorer.batch_size)
        return [100.0 * float(value) for value in f1]

    def signature(self) -> str:
        name = Path(self.location).name if Path(self.location).exists() else self.location
        idf = "yes" if self.idf else "no"
        return f"bertscore|model:{name}|layers:{self.num_layers or 'default'}|idf:{idf}|rescale:no|version:{self.version}"


def _model_spec(inputs: MetricInputs) -> ModelSpec:
    entry = inputs.models.get(BertScore.model_entry)
    if entry is None:
        raise ConfigError(f"metric 'bertscore' needs {MODEL_KEY} ({{path|hub, options: {{num_layers}}}})")
    spec = ModelSpec.from_dict(entry, where=MODEL_KEY)
    if spec.path is not None and not Path(spec.path).exists():
        raise ConfigError(f"{MODEL_KEY}.path: {spec.path} does not exist")
    return spec
