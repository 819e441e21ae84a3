"""λ sweeps of hybrid MBR from saved scores: no model is called.

``hybrid_scores`` saves, per source, the N×N utility matrix and the N
alignment scores; selecting with another λ is then a matter of arithmetic.
For each λ this module re-selects every sentence and reports corpus chrF and
BLEU (sacrebleu) against the references, the mean MBR and alignment scores
of the chosen candidates, the share of sentences whose choice differs from
λ = 0 and, where an omission oracle is given (the demo world), the share of
outputs that drop source content.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd

from algharb.decode.mbr import select_scored_row
from algharb.metrics.sacre import corpus_score

DEFAULT_LAMBDAS = (0.0, 0.25, 0.5, 1.0, 2.0)

OmissionOracle = Callable[[str, str], bool]
"""``oracle(source, hypothesis)`` → whether the hypothesis drops source content."""


def sweep_pair(rows: Sequence[dict], references: Sequence[str], tgt_lang: str, lambdas=DEFAULT_LAMBDAS,
               mbr: dict | None = None, omits: OmissionOracle | None = None) -> pd.DataFrame:
    """One row per λ for one direction (see the module docstring for the columns)."""
    if len(rows) != len(references):
        raise ValueError(f"{len(rows)} scored sources but {len(references)} references")
    baseline = [_index(s) for s in _selections(rows, 0.0, mbr)]
    table = []
    for lam in lambdas:
        selections = _selections(rows, lam, mbr)
        # A source without candidates gets an empty output, as in the decoding step.
        hyps = [row["candidates"][s.index] if s else "" for row, s in zip(rows, selections)]
        chosen = [s for s in selections if s]
        record = {
            "lambda": float(lam),
            "chrf": corpus_score("chrf", hyps, references, tgt_lang)["score"],
            "bleu": corpus_score("bleu", hyps, references, tgt_lang)["score"],
            "mbr": float(np.mean([s.mbr[s.index] for s in chosen])) if chosen else float("nan"),
            "align": float(np.mean([s.align[s.index] for s in chosen])) if chosen and chosen[0].align
            else float("nan"),
            "changed_vs_lambda0": float(np.mean([_index(s) != b for s, b in zip(selections, baseline)])),
        }
        if omits is not None:
            record["omission_share"] = float(np.mean([omits(row["src"], hyp) for row, hyp in zip(rows, hyps)]))
        table.append(record)
    return pd.DataFrame(table)


def _selections(rows, lam: float, mbr: dict | None) -> list:
    return [select_scored_row(row, lam, mbr) for row in rows]


def _index(selection) -> int | None:
    return None if selection is None else selection.index


def sweep(pairs: Sequence[str], rows_by_pair: dict, references_by_pair: dict, lambdas=DEFAULT_LAMBDAS,
          mbr: dict | None = None, oracles: dict | None = None) -> pd.DataFrame:
    """The sweep of every direction, long format with a ``pair`` column, plus an ``AVG`` block."""
    parts = []
    for pair in pairs:
        tgt_lang = pair.split("-", 1)[1]
        part = sweep_pair(rows_by_pair[pair], references_by_pair[pair], tgt_lang, lambdas, mbr,
                          (oracles or {}).get(pair))
        parts.append(part.assign(pair=pair))
    table = pd.concat(parts, ignore_index=True)
    average = table.drop(columns="pair").groupby("lambda", sort=True).mean().reset_index().assign(pair="AVG")
    table = pd.concat([table, average], ignore_index=True)
    return table[["pair", *[c for c in table.columns if c != "pair"]]]
