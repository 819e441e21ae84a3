"""``bertscore``: BERTScore F1 ×100 (Zhang et al. 2020, "BERTScore: Evaluating Text Generation with BERT").

The Collab-MT paper reports it beside BLEU (Table 6). Its model is the
config's ``models.bertscore`` entry, not ``models.evaluation`` (that one is
the COMET checkpoint). The options are given as ``models.bertscore.options``:
``num_layers`` (required unless the model is a hub id in bert-score's own
table of defaults, which knows no local paths) and ``idf`` (default false;
when true the IDF weights come from the references being scored, as
``bert_score.score`` computes them). Scores are not rescaled with a
baseline, which would need a file per model and language. The corpus score
is the mean of the segment F1, so resampling uses the segment mean (the
``Metric`` default). An empty hypothesis (or reference) scores 0: bert-score
sets its raw scores to 0 and warns on stderr.
"""

from __future__ import annotations

import warnings
from functools import cached_property
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
    """BERTScore F1 of each hypothesis against its reference, ×100."""

    name = "bertscore"
    family = "neural"
    model_entry = "bertscore"

    def __init__(self, inputs: MetricInputs):
        import bert_score
        from bert_score.utils import model2layers

        # Only the entry is checked here: the significance step builds every metric for its family and
        # resampling statistic (a segment mean) and must not load a model (see ``scorer``).
        self.spec = _model_spec(inputs)
        options = _options(self.spec)
        self.inputs = inputs
        self.model_name = _display_name(self.spec)
        self.idf = bool(options.get("idf", False))
        self.num_layers = options.get("num_layers", model2layers.get(self.spec.hub))
        self.version = bert_score.__version__

    @cached_property
    def scorer(self):
        """The BERTScorer, loaded on first use, once."""
        import bert_score
        import torch

        # The job's thread budget, not torch's default of every core.
        torch.set_num_threads(self.inputs.threads)
        return bert_score.BERTScorer(
            model_type=self.spec.reference(), num_layers=self.num_layers, batch_size=self.inputs.batch_size,
            nthreads=self.inputs.threads, idf=self.idf, lang=self.inputs.tgt_lang, rescale_with_baseline=False,
            device="cuda" if torch.cuda.is_available() else "cpu")

    def score(self, sources: Sequence[str], hypotheses: Sequence[str], references: Sequence[str]) -> MetricResult:
        if len(hypotheses) != len(references):
            raise ValueError(f"bertscore: {len(hypotheses)} hypotheses but {len(references)} references")
        segments = self._f1(list(hypotheses), list(references)) if hypotheses else []
        corpus = float(np.mean(segments)) if segments else float("nan")
        return MetricResult("bertscore", corpus, self.signature(), segments)

    def _f1(self, hypotheses: list[str], references: list[str]) -> list[float]:
        if self.idf:
            # Recomputed per call: the weights belong to the references scored, as in bert_score.score.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Overwriting the previous importance weights")
                self.scorer.compute_idf(references)
        _, _, f1 = self.scorer.score(hypotheses, references, batch_size=self.scorer.batch_size)
        return [100.0 * float(value) for value in f1]

    def signature(self) -> str:
        idf = "yes" if self.idf else "no"
        return f"bertscore|model:{self.model_name}|layers:{self.num_layers}|idf:{idf}|rescale:no|version:{self.version}"


def _model_spec(inputs: MetricInputs) -> ModelSpec:
    """The ``models.bertscore`` entry, its local path checked before transformers sees it."""
    entry = inputs.models.get(BertScore.model_entry)
    if entry is None:
        raise ConfigError(f"metric 'bertscore' needs {MODEL_KEY} ({{path|hub, options: {{num_layers}}}})")
    spec = ModelSpec.from_dict(entry, where=MODEL_KEY)
    if spec.path is None and spec.hub is None:
        raise ConfigError(f"{MODEL_KEY}: needs 'path' or 'hub'")
    if spec.path is not None and not Path(spec.path).exists():
        raise ConfigError(f"{MODEL_KEY}.path: {spec.path} does not exist")
    return spec


def _options(spec: ModelSpec) -> dict:
    """``options`` checked: known keys only, and a layer count wherever bert-score has no default."""
    from bert_score.utils import model2layers

    options = dict(spec.options)
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ConfigError(f"{MODEL_KEY}.options: unknown key(s) {unknown}; allowed: {list(OPTIONS)}")
    layers = options.get("num_layers")
    if layers is None and (spec.path is not None or spec.hub not in model2layers):
        raise ConfigError(f"{MODEL_KEY}.options.num_layers is required for {spec.location} "
                          "(bert-score's table of default layers does not know it)")
    if layers is not None and (isinstance(layers, bool) or not isinstance(layers, int) or layers < 0):
        raise ConfigError(f"{MODEL_KEY}.options.num_layers: expected an integer >= 0, got {layers!r}")
    return options


def _display_name(spec: ModelSpec) -> str:
    # A local path's directory name, not the full path: the signature should not change with the machine.
    return Path(spec.path).name if spec.path is not None else str(spec.hub)
