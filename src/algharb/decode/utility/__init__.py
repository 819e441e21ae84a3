"""MBR utilities (Marco-MT-Algharb, WMT25, §2.4): one N×N utility matrix per source, for a batch of sources.

Built by :func:`build_utility` from the ``decode.mbr`` section
(:class:`algharb.decode.config.MBRConfig`), keyed by ``decode.mbr.utility``:

- ``comet``: COMET of ``models.utility``, factorised over sentence embeddings
  where the model allows it (:mod:`.comet`);
- ``chrf``: sentence chrF, every pair at once (:mod:`.chrf`);
- ``bleu``: sentence BLEU, pair by pair (:mod:`.bleu`).

Every utility answers ``matrices(sources, candidate_lists)``;
:func:`pairwise_matrices` with an element-wise scorer is the exact reference path.
Adding a utility: a module with a class ``(MBRConfig, UtilityInputs)``
registered with ``@UTILITIES.register("name")``, and one import line here.
"""

from .base import (UTILITIES, TripleUtility, Utility, UtilityInputs, build_utility, expand_matrices,
                   pairwise_matrices, unique_candidates)

# Each utility module registers itself in UTILITIES when imported.
from . import bleu, chrf, comet  # noqa: E402,F401  isort: skip

__all__ = ["UTILITIES", "TripleUtility", "Utility", "UtilityInputs", "build_utility", "expand_matrices",
           "pairwise_matrices", "unique_candidates"]
