"""How to decode (:class:`Sampling`, the one home of the sampling defaults) and the seeds derived from it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Mapping

from ..config.section import Section, option


@dataclass(frozen=True)
class ChunkedGeneration(Section):
    """What every long generation step (distillation, RL pools, candidates) is given.

    ``sampling`` stays the mapping written in the config: the step fills in
    its run seed and ``n`` before parsing it into a :class:`Sampling`.
    """

    sampling: dict = option(help="sampling settings (Sampling: temperature, top_p, max_new_tokens, ...)",
                            factory=dict)
    chunk_size: int = option(10_000, "sources per resumable chunk in results/cache/<step>")


@dataclass(frozen=True)
class Sampling(Section):
    """How to decode. ``temperature == 0`` means greedy (then ``n`` must be 1)."""

    n: int = option(1, "translations returned per source")
    temperature: float = option(0.0, "softmax temperature; 0: greedy")
    top_p: float = option(1.0, "nucleus sampling's probability mass, in (0, 1]")
    max_new_tokens: int = option(256, "tokens generated per translation at most")
    seed: int = option(0, "seed of the samples (see request_seed and batch_seed)")
    batch_size: int = option(32, "transformers backend: prompts per generate call")

    def __post_init__(self):
        if self.n < 1:
            raise ValueError(f"sampling n must be ≥ 1, got {self.n}")
        if self.temperature < 0:
            raise ValueError(f"sampling temperature must be ≥ 0, got {self.temperature}")
        if self.temperature == 0 and self.n > 1:
            raise ValueError("greedy decoding (temperature 0) cannot return n > 1 distinct samples")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"sampling top_p must be in (0, 1], got {self.top_p}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None, where: str = "sampling") -> "Sampling":
        """The defaults overlaid with ``values``; an unknown key raises naming ``where.key``."""
        return super().from_dict(values, where)

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


def request_seed(seed: int, source: str, src_lang: str, tgt_lang: str) -> int:
    """The seed of one source's request, derived from the configured seed (31 bits, for any server).

    vLLM seeds sample ``i`` of a request with ``seed + i``: one seed for every
    request would make all sources draw the same random numbers, and pools made
    with seeds ``s`` and ``s + 1`` would share ``n - 1`` samples. A per-source
    seed avoids both, and still reproduces a source's samples whatever the
    order or chunking of the sources.
    """
    digest = hashlib.sha256(f"{seed}\0{src_lang}\0{tgt_lang}\0{source}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def batch_seed(seed: int, prompts: list[str]) -> int:
    """The torch seed of one batch of the transformers backend: the configured seed and the batch's prompts.

    Not ``seed + batch number``: every chunk of a chunked run (see
    :func:`~algharb.generation.chunks.translate_in_chunks`) restarts the batch
    count, so all chunks would draw the same random numbers. From the prompts,
    a batch's samples depend only on the settings and what it translates, never
    on the chunks before it.
    """
    digest = hashlib.sha256(json.dumps([seed, prompts], ensure_ascii=False).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1
