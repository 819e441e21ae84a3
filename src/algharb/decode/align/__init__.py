"""Word-alignment faithfulness score ``S_align(x, y)`` for hybrid decoding (Marco-MT-Algharb, WMT25, §2.4).

Aligners are built by :func:`build_aligner` from the ``decode.align`` section
(:class:`algharb.decode.config.AlignConfig`), keyed by ``decode.align.backend``:

- ``none``: no alignment term (:mod:`.base`);
- ``eflomal``: Bayesian IBM-style aligner trained jointly with the clean
  training pairs, seeded for reproducibility (:mod:`.eflomal`);
- ``wspalign``: the paper's span-prediction aligner (:mod:`.wspalign`).

Adding an aligner: a module with a factory ``(AlignConfig, AlignerInputs) ->
aligner`` registered with ``@ALIGNERS.register("name")``, whose ``score(sources,
hypotheses)`` returns one coverage score per pair, and one import line here.
"""

from .base import ALIGNERS, Aligner, AlignerInputs, build_aligner

# Each backend module registers itself in ALIGNERS when imported.
from . import eflomal, wspalign  # noqa: E402,F401  isort: skip

__all__ = ["ALIGNERS", "Aligner", "AlignerInputs", "build_aligner"]
