"""The decoding sections: candidates, MBR utility, word alignment (Marco-MT-Algharb, WMT25, §2.4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from algharb.config.section import Section, option
from algharb.generation.sampling import ChunkedGeneration


@dataclass(frozen=True)
class CandidatesConfig(ChunkedGeneration):
    """The N sampled candidates of hybrid decoding (chunks in results/cache/candidates)."""

    n: int = option(100, "candidates sampled per source (N of hybrid MBR)")
    chunk_size: int = option(1000, "sources per resumable chunk in results/cache/candidates")


@dataclass(frozen=True)
class MBRConfig(Section):
    utility: str = option("comet", "MBR utility by registry name (algharb.decode.utility): comet, chrf, bleu")
    # The paper writes S_MBR as a sum over 100 candidates, which would swamp a
    # coverage in [0, 1] at λ = 0.5: the expected utility (mean) is the default.
    aggregate: str = option("mean", "'mean' (expected utility) or 'sum' over the pseudo-references")
    include_self: bool = option(False, "compare a candidate with itself as a pseudo-reference")
    batch_size: int = option(64, "sentences per COMET encoder batch")
    precision: str | None = option(None, "COMET encoder autocast: fp32, bf16, fp16; None: bf16 on GPU, fp32 on CPU")

    def scoring(self) -> dict[str, Any]:
        """What the saved utility matrices depend on (the ``hybrid_scores`` rule)."""
        return {"utility": self.utility, "batch_size": self.batch_size, "precision": self.precision}

    def selection(self) -> dict[str, Any]:
        """What selection from saved scores depends on."""
        return {"aggregate": self.aggregate, "include_self": self.include_self}


@dataclass(frozen=True)
class AlignConfig(Section):
    backend: str = option("none", "aligner by registry name (algharb.decode.align): none, eflomal, wspalign")
    symmetrize: str = option("intersection", "eflomal: 'intersection' or 'union' of the two directions")
    reference_pairs: int = option(10000, "eflomal: clean training pairs aligned alongside the candidates")
    model: dict | None = option(None, "wspalign: a WSPAlign QA checkpoint ({path} or {hub})")
    threshold: float = option(0.1, "wspalign: bidirectional span score threshold")
    batch_size: int = option(64, "wspalign: questions per batch")
    # Filled with the run's top-level seed by the workflow when the key is absent.
    seed: int | None = option(None, "eflomal: sampler seed (workflow default: the top-level seed); None: unseeded")
