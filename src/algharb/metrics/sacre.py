"""BLEU and chrF through sacrebleu, with the signature recorded next to every score.

Registered as the evaluation metrics ``chrf`` and ``bleu``; the sentence
scores serve as MBR utilities (:mod:`algharb.decode.utility`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from sacrebleu.metrics import BLEU, CHRF

from .registry import METRICS, MetricInputs

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


def corpus_score(name: str, hypotheses: Sequence[str], references: Sequence[str],
                 lang: str | None = None) -> dict:
    """Corpus-level score (0–100) with its sacrebleu signature."""
    _check_lengths(hypotheses, references)
    metric = _metric(name, lang)
    # Corpus BLEU must not use effective order; build a plain one for it.
    if name == "bleu":
        metric = BLEU(tokenize=bleu_tokenizer(lang))
    result = metric.corpus_score(list(hypotheses), [list(references)])
    return {"metric": name, "score": float(result.score), "signature": str(metric.get_signature())}


def sentence_scores(name: str, hypotheses: Sequence[str], references: Sequence[str],
                    lang: str | None = None) -> list[float]:
    """Segment-level scores on a 0–1 scale (so they can serve as MBR utilities)."""
    _check_lengths(hypotheses, references)
    metric = _metric(name, lang)
    return [metric.sentence_score(h, [r]).score / 100.0 for h, r in zip(hypotheses, references)]


class SacrebleuMetric:
    """A sacrebleu corpus metric; the target language picks BLEU's tokenizer."""

    name: str

    def __init__(self, inputs: MetricInputs):
        self.tgt_lang = inputs.tgt_lang

    def score(self, sources: Sequence[str], hypotheses: Sequence[str], references: Sequence[str]) -> dict:
        return corpus_score(self.name, hypotheses, references, self.tgt_lang)


@METRICS.register("chrf")
class ChrF(SacrebleuMetric):
    name = "chrf"


@METRICS.register("bleu")
class Bleu(SacrebleuMetric):
    name = "bleu"
