"""``bleu``: sentence BLEU (sacrebleu, effective order, the target language's tokenizer) as the MBR utility."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from algharb.metrics.sacre import sentence_scores

from ..config import MBRConfig
from .base import UTILITIES, UtilityInputs, pairwise_matrices


@UTILITIES.register("bleu")
class BleuUtility:
    """``U = BLEU(hypothesis, pseudo-reference) / 100``, scored pair by pair; the source is not read."""

    def __init__(self, config: MBRConfig, inputs: UtilityInputs):
        self.tgt_lang = inputs.tgt_lang

    def matrices(self, sources: Sequence[str], candidate_lists: Sequence[Sequence[str]]) -> list[np.ndarray]:
        return pairwise_matrices(sources, candidate_lists, self._score)

    def _score(self, sources: list[str], hypotheses: list[str], references: list[str]) -> list[float]:
        return sentence_scores("bleu", hypotheses, references, self.tgt_lang)
