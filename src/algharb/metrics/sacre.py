"""BLEU and chrF through sacrebleu, with the signature recorded next to every score.

Registered as the evaluation metrics ``chrf`` and ``bleu``; the sentence
scores serve as MBR utilities (:mod:`algharb.decode.utility`). For
significance testing the corpus statistic is recomputed on every bootstrap
resample from per-segment sufficient statistics, as ``sacrebleu
--paired-bs`` does (Koehn 2004, "Statistical significance tests for machine
translation evaluation"); this goes through the same two sacrebleu methods
its own significance module uses, so the numbers agree with it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from sacrebleu.metrics import BLEU, CHRF

import numpy as np

from .registry import METRICS, Metric, MetricInputs, MetricResult, ResamplingStatistic

# Whitespace tokenisation is meaningless for scripts written without spaces.
_BLEU_TOKENIZERS = {"zh": "zh", "ja": "char", "ko": "char"}


def bleu_tokenizer(lang: str | None) -> str:
    return _BLEU_TOKENIZERS.get((lang or "").split("_")[0], "13a")


@lru_cache(maxsize=None)
def _metric(name: str, lang: str | None):
    if name == "chrf":
        return CHRF()
    if name == "bleu":
        return BLEU(tokenize=bleu_tokenizer(lang), effective_order=True)
    raise ValueError(f"unknown sacrebleu metric {name!r}; choose 'bleu' or 'chrf'")


def _check_lengths(hypotheses: Sequence[str], references: Sequence[str]) -> None:
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")


def _corpus_metric(name: str, lang: str | None):
    # Corpus BLEU must not use effective order (a sentence-level smoothing); build a plain one for it.
    return BLEU(tokenize=bleu_tokenizer(lang)) if name == "bleu" else _metric(name, lang)


def corpus_score(name: str, hypotheses: Sequence[str], references: Sequence[str],
                 lang: str | None = None) -> dict:
    """Corpus-level score (0–100) with its sacrebleu signature."""
    _check_lengths(hypotheses, references)
    metric = _corpus_metric(name, lang)
    result = metric.corpus_score(list(hypotheses), [list(references)])
    return {"metric": name, "score": float(result.score), "signature": str(metric.get_signature())}


def corpus_statistic(name: str, hypotheses: Sequence[str], references: Sequence[str],
                     lang: str | None = None) -> ResamplingStatistic:
    """Per-segment sufficient statistics of the corpus metric and the score of any sum of them."""
    _check_lengths(hypotheses, references)
    metric = _corpus_metric(name, lang)
    stats = np.asarray(metric._extract_corpus_statistics(list(hypotheses), [list(references)]), dtype=np.float64)
    return ResamplingStatistic(stats, lambda sums, n: float(metric._compute_score_from_stats(list(sums)).score))


def sentence_scores(name: str, hypotheses: Sequence[str], references: Sequence[str],
                    lang: str | None = None) -> list[float]:
    """Segment-level scores on a 0–1 scale (so they can serve as MBR utilities)."""
    _check_lengths(hypotheses, references)
    metric = _metric(name, lang)
    return [metric.sentence_score(h, [r]).score / 100.0 for h, r in zip(hypotheses, references)]


class SacrebleuMetric(Metric):
    """A sacrebleu corpus metric; the target language picks BLEU's tokenizer.

    Segment scores are sentence-level scores (BLEU with effective order), for
    reading; the corpus score and its resamples use corpus statistics.
    """

    family = "string"

    def __init__(self, inputs: MetricInputs):
        self.tgt_lang = inputs.tgt_lang

    def score(self, sources: Sequence[str], hypotheses: Sequence[str], references: Sequence[str]) -> MetricResult:
        corpus = corpus_score(self.name, hypotheses, references, self.tgt_lang)
        segments = [100.0 * s for s in sentence_scores(self.name, hypotheses, references, self.tgt_lang)]
        return MetricResult(self.name, corpus["score"], corpus["signature"], segments)

    def resampling_statistic(self, hypotheses, references, segments) -> ResamplingStatistic:
        return corpus_statistic(self.name, hypotheses, references, self.tgt_lang)


@METRICS.register("chrf")
class ChrF(SacrebleuMetric):
    name = "chrf"


@METRICS.register("bleu")
class Bleu(SacrebleuMetric):
    name = "bleu"
