"""The λ sweep's ``omission_share`` column: outputs that drop source content, judged by the demo world's oracle.

Only the demo world knows which content words a translation must carry, so
this column exists only there; the production sweep
(:mod:`algharb.decode.sweep`) takes it as an extra column.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .world import load_world


def omission_share_columns(world: dict) -> dict:
    """``{"omission_share": column}`` for :func:`algharb.decode.sweep.sweep` in the world of ``world``.

    ``world`` is the demo world's full config (with its seed and pairs).
    """
    oracle = load_world(world)

    def omission_share(rows: Sequence[dict], hypotheses: Sequence[str], tgt_lang: str) -> float:
        return float(np.mean([bool(oracle.omitted_content(row["src"], hyp, tgt_lang))
                              for row, hyp in zip(rows, hypotheses)]))

    return {"omission_share": omission_share}
