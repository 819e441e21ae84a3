"""Metric backends keyed by the names used in config.

``chrf`` and ``bleu`` come from sacrebleu; ``comet`` wraps unbabel-comet for
any checkpoint (hub id or local path). :func:`triple_utility` turns any of them
into an element-wise (source, hypothesis, reference) scorer for MBR.
"""

from __future__ import annotations

from typing import Callable

SACREBLEU_METRICS = ("chrf", "bleu")


def triple_utility(name: str, lang: str | None = None,
                   comet_scorer=None) -> Callable[[list[str], list[str], list[str]], list[float]]:
    """An element-wise utility U(source, hypothesis, pseudo-reference) on a 0–1 scale.

    sacrebleu metrics ignore the source; ``comet`` needs a loaded CometScorer
    of a reference-based model.
    """
    if name in SACREBLEU_METRICS:
        from .sacre import sentence_scores

        return lambda srcs, hyps, refs: sentence_scores(name, hyps, refs, lang)
    if name == "comet":
        if comet_scorer is None:
            raise ValueError("the comet utility needs a CometScorer")
        return lambda srcs, hyps, refs: comet_scorer.score(srcs, hyps, refs)
    raise ValueError(f"unknown utility {name!r}; choose one of {list(SACREBLEU_METRICS) + ['comet']}")
