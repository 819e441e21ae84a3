"""The aligner registry, :func:`build_aligner`, and the coverage score every aligner reports.

The score follows the WSPAlign repository's sentence-pair coverage::

    S_align = (aligned_src / |src| + aligned_tgt / |tgt|) / 2

so a candidate that drops source content (an omission) leaves source words
unaligned and scores lower.

Tokenisation for alignment: whitespace words with punctuation split off for
spaced scripts; characters for Chinese, Japanese and Korean script runs
(never whitespace, which would make a whole clause one "word").
Punctuation tokens are left out of the coverage denominators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

from algharb.registry import Registry

from ..config import AlignConfig

CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{CJK}]|[^\s{CJK}\W]+|[^\w\s]", re.UNICODE)
_WORD = re.compile(r"\w", re.UNICODE)

Links = set[tuple[int, int]]


class Aligner(Protocol):
    def score(self, sources: Sequence[str], hypotheses: Sequence[str]) -> list[float] | None:
        """``S_align`` of each (source, hypothesis) pair, in input order; None: no alignment term."""


@dataclass(frozen=True)
class AlignerInputs:
    """What an aligner may need besides its ``decode.align`` section."""

    tgt_lang: str
    reference_path: str | None  # clean training pairs (JSONL with src/tgt), eflomal's lexical statistics


AlignerFactory = Callable[[AlignConfig, AlignerInputs], Aligner]
ALIGNERS: Registry[AlignerFactory] = Registry("aligner")


def build_aligner(config: AlignConfig, inputs: AlignerInputs) -> Aligner:
    """The aligner named by ``decode.align.backend``, built from its section."""
    return ALIGNERS.build(config.backend, config, inputs, where="decode.align.backend")


class NoAligner:
    """``backend: none``: hybrid decoding without the alignment term (plain MBR)."""

    def score(self, sources: Sequence[str], hypotheses: Sequence[str]) -> None:
        return None


@ALIGNERS.register("none")
def no_aligner(config: AlignConfig, inputs: AlignerInputs) -> NoAligner:
    return NoAligner()


def alignment_tokens(text: str) -> list[str]:
    """Lower-cased tokens; each CJK character is its own token."""
    return _TOKEN.findall(text.lower())


def is_word(token: str) -> bool:
    return bool(_WORD.search(token))


def coverage(links: Links, src_tokens: Sequence[str], tgt_tokens: Sequence[str]) -> float:
    """WSPAlign-style coverage of the content (non-punctuation) tokens on both sides."""
    src_words = [i for i, t in enumerate(src_tokens) if is_word(t)]
    tgt_words = [j for j, t in enumerate(tgt_tokens) if is_word(t)]
    if not src_words or not tgt_words:
        return 0.0
    aligned_src = {i for i, _ in links}
    aligned_tgt = {j for _, j in links}
    src_share = sum(i in aligned_src for i in src_words) / len(src_words)
    tgt_share = sum(j in aligned_tgt for j in tgt_words) / len(tgt_words)
    return (src_share + tgt_share) / 2


def check_lengths(sources: Sequence[str], hypotheses: Sequence[str]) -> None:
    if len(sources) != len(hypotheses):
        raise ValueError(f"{len(sources)} sources but {len(hypotheses)} hypotheses")
