"""``wspalign``: the paper's aligner, word alignment as span prediction.

A WSPAlign checkpoint runs through transformers' question-answering
pipeline: each word, marked with ``¶`` in its sentence, is the question and
the other sentence the context; both directions; a link is kept when the two
directions' span scores (each divided by the span's word count) sum above
``decode.align.threshold`` (0.1 by default, as in the WSPAlign inference code).
"""

from __future__ import annotations

import re
from typing import Sequence

from algharb.models import local_model_dir

from ..config import AlignConfig
from .base import ALIGNERS, CJK, AlignerInputs, Links, check_lengths, coverage

WORD_SPAN = re.compile(rf"[{CJK}]|[^\s{CJK}]+", re.UNICODE)
MARK = " \u00b6 "  # WSPAlign marks the query word with pilcrows


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the words of ``text`` (CJK characters one by one)."""
    return [m.span() for m in WORD_SPAN.finditer(text)]


def marked_queries(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """One query per word: the sentence with that word wrapped in pilcrows."""
    return [text[:a] + MARK + text[a:b] + MARK + text[b:] for a, b in spans]


def words_in_span(start: int, end: int, spans: list[tuple[int, int]]) -> list[int]:
    """Indices of the words lying entirely inside the predicted character span."""
    return [i for i, (a, b) in enumerate(spans) if a >= start and b <= end]


def merge_directions(forward: list[dict], backward: list[dict], src_spans, tgt_spans, threshold: float) -> Links:
    """WSPAlign's bidirectional rule on QA predictions ({start, end, score}).

    A source word's prediction spreads its score over the target words of its
    span (so long spans do not dominate); the reverse direction adds to pairs
    the forward direction proposed; pairs whose summed score exceeds
    ``threshold`` are links (src index, tgt index).
    """
    scores: dict[tuple[int, int], float] = {}
    for i, pred in enumerate(forward):
        hits = words_in_span(pred["start"], pred["end"], tgt_spans)
        for j in hits:
            scores[(i, j)] = pred["score"] / len(hits)
    for j, pred in enumerate(backward):
        hits = words_in_span(pred["start"], pred["end"], src_spans)
        for i in hits:
            if (i, j) in scores:
                scores[(i, j)] += pred["score"] / len(hits)
    return {pair for pair, score in scores.items() if score > threshold}


class WSPAlignAligner:
    """Coverage scores from WSPAlign span-prediction alignments (both directions).

    ``model`` is a local checkpoint directory; ``config`` gives ``threshold``
    and ``batch_size``; ``device`` defaults to the first GPU when one is visible.
    """

    def __init__(self, model: str, config: AlignConfig, device: int | str | None = None):
        from transformers import pipeline

        if device is None:
            import torch

            device = 0 if torch.cuda.is_available() else -1
        self.pipe = pipeline("question-answering", model=model, tokenizer=model, device=device)
        self.threshold = config.threshold
        self.batch_size = config.batch_size

    def score(self, sources: Sequence[str], hypotheses: Sequence[str]) -> list[float]:
        check_lengths(sources, hypotheses)
        return [self._score_pair(s, h) for s, h in zip(sources, hypotheses)]

    def _score_pair(self, source: str, hypothesis: str) -> float:
        src_spans, tgt_spans = word_spans(source), word_spans(hypothesis)
        if not src_spans or not tgt_spans:
            return 0.0
        forward = self._predict(marked_queries(source, src_spans), hypothesis)
        backward = self._predict(marked_queries(hypothesis, tgt_spans), source)
        links = merge_directions(forward, backward, src_spans, tgt_spans, self.threshold)
        src_tokens = [source[a:b] for a, b in src_spans]
        tgt_tokens = [hypothesis[a:b] for a, b in tgt_spans]
        return coverage(links, src_tokens, tgt_tokens)

    def _predict(self, questions: list[str], context: str) -> list[dict]:
        out = self.pipe(question=questions, context=[context] * len(questions), batch_size=self.batch_size,
                        handle_impossible_answer=False)
        return out if isinstance(out, list) else [out]


@ALIGNERS.register("wspalign")
def wspalign_aligner(config: AlignConfig, inputs: AlignerInputs) -> WSPAlignAligner:
    """The WSPAlign checkpoint of ``decode.align.model`` (fetched into the HF cache for a hub id)."""
    if config.model is None:
        raise ValueError("decode.align.model is required for the wspalign backend")
    return WSPAlignAligner(local_model_dir(config.model), config)
