"""The comparison table of logit-fusion decoding, in the layout of Collab-MT's Table 6.

Per model size, the rows are: the untuned model (Original) and the same model
fine-tuned for the direction (Fine-tuning); then, for the large sizes, the
proxy-tuning rows (Liu et al. 2024, "Tuning language models by proxy":
``L_M + (S_MT − S_M)``) and the Collab-MT rows (``L_M + Σ_k w_k·S_k``), each
with its formula. One column per direction and metric (BLEU and BERTScore F1
in the paper).

A row is described by the workflow (its id, size, method and formula); this
module only checks that every cell has exactly one score and lays the table
out, so a missing decode can never show up as an empty cell.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

# How the paper names its metrics in the column heads.
METRIC_NAMES = {"bleu": "BLEU", "bertscore": "BERTScore F1", "chrf": "chrF", "xcomet": "XCOMET"}
ROW_KEYS = ("row", "size", "method", "formula")


def formula(base: str, terms: Mapping[str, float]) -> str:
    """The paper's notation for ``base`` plus weighted ``terms``, e.g. ``L_M + (S_MT − S_M)``.

    Weight 1 is written bare, −1 as a minus, others as ``0.5·S``. Experts
    come first and anti-experts (negative weights) last, each in the given
    order, so the formula does not depend on how a config writer ordered
    the mapping (YAML dumpers sort keys); with an anti-expert the terms are
    bracketed, as proxy-tuning writes its offset.
    """
    if not terms:
        return base
    ordered = [item for item in terms.items() if item[1] >= 0] + [item for item in terms.items() if item[1] < 0]
    parts = []
    for index, (symbol, weight) in enumerate(ordered):
        sign = "−" if weight < 0 else "+"
        size = abs(weight)
        text = symbol if size == 1 else f"{size:g}·{symbol}"
        parts.append(text if index == 0 and sign == "+" else f"{sign} {text}")
    joined = " ".join(parts)
    return f"{base} + ({joined})" if any(w < 0 for w in terms.values()) else f"{base} + {joined}"


def comparison_table(scores: pd.DataFrame, rows: Sequence[Mapping], directions: Sequence[str],
                     metrics: Sequence[str]) -> pd.DataFrame:
    """One line per configured row, in order: size, method, formula, then ``"{direction} {metric}"`` scores.

    ``scores`` has columns ``row``, ``direction``, ``metric`` and ``score``.
    A missing, duplicated or unconfigured cell is an error naming it.
    """
    _check_rows(rows)
    # Any score for an unconfigured row means the workflow and the table disagree about what was decoded,
    # whatever its direction or metric; other directions/metrics of configured rows are simply not shown.
    unknown = sorted(set(scores["row"]) - {row["row"] for row in rows})
    if unknown:
        raise ValueError(f"fusion table: scores for row(s) {unknown} that the table does not configure")
    wanted = scores[scores["direction"].isin(directions) & scores["metric"].isin(metrics)]
    empty = wanted[wanted["score"].isna()]
    if len(empty):  # a NaN score would print as an empty cell: the very thing this table must not show
        first = empty.iloc[0]
        raise ValueError(f"fusion table: row {first['row']!r} has an empty {first['metric']} score for "
                         f"{first['direction']}")
    duplicated = wanted[wanted.duplicated(["row", "direction", "metric"], keep=False)]
    if len(duplicated):
        first = duplicated.iloc[0]
        raise ValueError(f"fusion table: row {first['row']!r} has two {first['metric']} scores for "
                         f"{first['direction']}")
    cells = wanted.set_index(["row", "direction", "metric"])["score"]
    lines = []
    for row in rows:
        line = {key: row[key] for key in ROW_KEYS[1:]}
        for direction in directions:
            for metric in metrics:
                if (row["row"], direction, metric) not in cells.index:
                    raise ValueError(f"fusion table: row {row['row']!r} has no {metric} score for {direction}")
                line[f"{direction} {metric}"] = round(float(cells[(row["row"], direction, metric)]), 2)
        lines.append(line)
    return pd.DataFrame(lines)


def _check_rows(rows: Sequence[Mapping]) -> None:
    ids = [row.get("row") for row in rows]
    for row in rows:
        missing = [key for key in ROW_KEYS if key not in row]
        if missing:
            raise ValueError(f"fusion table: row {row.get('row')!r} lacks {missing}")
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"fusion table: row id(s) {repeated} configured twice")


def display_table(table: pd.DataFrame, directions: Sequence[str], metrics: Sequence[str]) -> pd.DataFrame:
    """The people's layout: the size on the first line of its group, one ``"a / b"`` cell per direction."""
    shown = table[["size", "method", "formula"]].copy()
    shown["size"] = shown["size"].where(shown["size"] != shown["size"].shift(), "")
    for direction in directions:
        shown[direction] = [" / ".join(f"{line[f'{direction} {metric}']:.2f}" for metric in metrics)
                            for _, line in table.iterrows()]
    return shown.set_index("size")


def display_caption(metrics: Sequence[str]) -> str:
    """What a cell holds, e.g. ``cells: BLEU / BERTScore F1 (0–100)``."""
    return "cells: " + " / ".join(METRIC_NAMES.get(metric, metric) for metric in metrics) + " (0–100)"
