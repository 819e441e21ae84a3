"""λ sweeps of hybrid MBR from saved scores: no model is called.

The decoding step saves, per source, the N×N utility matrix and the N
alignment scores; selecting with another λ is then a matter of arithmetic.
For each λ this module re-selects every sentence and reports corpus chrF and
BLEU (sacrebleu) against the references, the mean MBR and alignment scores
of the chosen candidates and the share of sentences whose choice differs
from λ = 0. ``columns`` adds statistics of the chosen outputs computed
elsewhere (the demo adds the share of outputs its oracle finds omitting
source content, :mod:`algharb.demo.omission`).
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from algharb.metrics.sacre import corpus_score

from .config import MBRConfig
from .mbr import select_scored_row

SweepColumn = Callable[[Sequence[dict], Sequence[str], str], float]
"""``column(scored rows, chosen outputs, target language)`` → one value of the table."""


def sweep_pair(rows: Sequence[dict], references: Sequence[str], tgt_lang: str, lambdas: Sequence[float],
               mbr: MBRConfig, columns: Mapping[str, SweepColumn] | None = None) -> pd.DataFrame:
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
        for name, column in (columns or {}).items():
            record[name] = column(rows, hyps, tgt_lang)
        table.append(record)
    return pd.DataFrame(table)


def _selections(rows, lam: float, mbr: MBRConfig) -> list:
    return [select_scored_row(row, lam, mbr) for row in rows]


def _index(selection) -> int | None:
    return None if selection is None else selection.index


def sweep(pairs: Sequence[str], rows_by_pair: dict, references_by_pair: dict, lambdas: Sequence[float],
          mbr: MBRConfig, columns: Mapping[str, SweepColumn] | None = None) -> pd.DataFrame:
    """The sweep of every direction, long format with a ``pair`` column, plus an ``AVG`` block."""
    parts = []
    for pair in pairs:
        tgt_lang = pair.split("-", 1)[1]
        part = sweep_pair(rows_by_pair[pair], references_by_pair[pair], tgt_lang, lambdas, mbr, columns)
        parts.append(part.assign(pair=pair))
    table = pd.concat(parts, ignore_index=True)
    average = table.drop(columns="pair").groupby("lambda", sort=True).mean().reset_index().assign(pair="AVG")
    table = pd.concat([table, average], ignore_index=True)
    return table[["pair", *[c for c in table.columns if c != "pair"]]]
