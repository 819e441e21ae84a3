"""The MBR utility registry, :func:`build_utility`, and the exact pairwise path.

An MBR utility turns a batch of candidate lists into one N×N matrix per
source, ``U[i, j] = U(source, hypothesis = cand_i, pseudo-reference = cand_j)``
(duplicates included, on a 0–1 scale). Sampling at N = 100 repeats
candidates often, so every utility scores each distinct pair once and expands
the result back (:func:`unique_candidates`, :func:`expand_matrices`), which
selects exactly what the full N×N computation would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import numpy as np

from algharb.registry import Registry

from ..config import MBRConfig


class Utility(Protocol):
    def matrices(self, sources: Sequence[str], candidate_lists: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """One N×N float64 utility matrix per source, N = its number of candidates."""


@dataclass(frozen=True)
class UtilityInputs:
    """What a utility may need besides its ``decode.mbr`` section."""

    tgt_lang: str
    model: dict | None  # the ``models.utility`` entry (neural utilities)
    threads: int  # the job's CPU threads


UtilityFactory = Callable[[MBRConfig, UtilityInputs], Utility]
UTILITIES: Registry[UtilityFactory] = Registry("MBR utility")


def build_utility(config: MBRConfig, inputs: UtilityInputs) -> Utility:
    """The utility named by ``decode.mbr.utility``, built from its section."""
    return UTILITIES.build(config.utility, config, inputs, where="decode.mbr.utility")


def unique_candidates(candidates: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Distinct candidates in first-seen order and, per candidate, its index among them."""
    index: dict[str, int] = {}
    inverse = np.empty(len(candidates), dtype=np.int64)
    for position, text in enumerate(candidates):
        inverse[position] = index.setdefault(text, len(index))
    return list(index), inverse


def expand_matrices(flat: np.ndarray, sentences: Sequence[tuple[int, np.ndarray]]) -> list[np.ndarray]:
    """Cut flat scores of distinct pairs into per-sentence matrices over all candidates.

    ``sentences`` holds, per source, the number ``m`` of distinct candidates and
    each candidate's index among them (:func:`unique_candidates`); ``flat``
    holds each source's m×m distinct-pair scores row-major, source after source.
    """
    matrices, offset = [], 0
    for m, inverse in sentences:
        small = flat[offset : offset + m * m].reshape(m, m)
        offset += m * m
        matrices.append(small[np.ix_(inverse, inverse)])
    return matrices


TripleUtility = Callable[[list[str], list[str], list[str]], list[float]]
"""Scores (source, hypothesis, pseudo-reference) triples element-wise, in one batch."""


def pairwise_matrices(sources: Sequence[str], candidate_lists: Sequence[Sequence[str]],
                      utility: TripleUtility) -> list[np.ndarray]:
    """One N×N utility matrix per source from a single batched call scoring every distinct triple.

    The exact path: any element-wise utility (``CometScorer.score``, sacrebleu
    sentence scores) through it is the reference the faster utilities are
    tested against. Batching across sentences matters: a neural utility pays
    a fixed cost per call.
    """
    if len(sources) != len(candidate_lists):
        raise ValueError(f"{len(sources)} sources but {len(candidate_lists)} candidate lists")
    sentences, srcs, hyps, refs = [], [], [], []
    for source, candidates in zip(sources, candidate_lists):
        distinct, inverse = unique_candidates(candidates)
        sentences.append((len(distinct), inverse))
        for hyp in distinct:
            for ref in distinct:
                srcs.append(source)
                hyps.append(hyp)
                refs.append(ref)
    flat = np.asarray(utility(srcs, hyps, refs) if hyps else [], dtype=np.float64)
    return expand_matrices(flat, sentences)
