"""Decoding stage of algharb: hybrid MBR (Marco-MT-Algharb, WMT25, §2.4).

- :mod:`.config`: the ``decode.candidates``, ``decode.mbr`` and ``decode.align`` sections;
- :mod:`.utility`: MBR utility matrices, one registry (``decode.mbr.utility``);
- :mod:`.align`: alignment scores ``S_align``, one registry (``decode.align.backend``);
- :mod:`.mbr`: ``S_MBR``, ``S_MBR + λ·S_align`` and the choice of one candidate;
- :mod:`.sweep`: λ sweeps from saved scores.
"""
