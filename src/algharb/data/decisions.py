"""The decision table: its columns, its TSV and JSONL forms, and the funnel it sums up to.

Every cleaning step reads and writes one decision table (a pandas
DataFrame) with a row per raw input line, in file order:

=========  ==================================================================
line       1-based line number in the raw file(s)
src, tgt   normalised text ("" for a malformed line dropped at ingest)
kept       bool
reason     "" when kept, else the first failing filter's reason
qe_score   (after the QE cut) the score of pairs that reached QE
=========  ==================================================================

Rejected pairs are kept in the table with their reason: a later stage has a
teacher model re-translate them.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pandas as pd

from algharb.data.ingest import MALFORMED_REASONS
from algharb.io import atomic_write, write_lines

COLUMNS = ["line", "src", "tgt", "kept", "reason"]


def check_columns(decisions: pd.DataFrame) -> None:
    missing = [column for column in COLUMNS if column not in decisions.columns]
    if missing:
        raise ValueError(f"decision table lacks column(s) {', '.join(missing)}")


def funnel(decisions: pd.DataFrame) -> pd.DataFrame:
    """Summarise a decision table: pairs in, pairs removed per reason, pairs out.

    Columns ``stage`` ("pairs_in", "removed:<reason>", "pairs_out"),
    ``pairs`` and ``share`` (of the input). Reasons are listed most frequent
    first; ``pairs_in - sum(removed) == pairs_out``.
    """
    check_columns(decisions)
    removed = decisions.loc[~decisions["kept"], "reason"].value_counts().to_dict()
    return funnel_from_counts(len(decisions), removed)


def funnel_from_counts(total: int, removed: dict[str, int]) -> pd.DataFrame:
    """The funnel table of :func:`funnel` from the input size and the removals per reason."""
    removed_sorted = sorted(removed.items(), key=lambda item: (-item[1], item[0]))
    rows = [("pairs_in", int(total))]
    rows += [(f"removed:{reason}", int(count)) for reason, count in removed_sorted]
    rows += [("pairs_out", int(total) - int(sum(removed.values())))]
    table = pd.DataFrame(rows, columns=["stage", "pairs"])
    table["share"] = table["pairs"] / total if total else 0.0
    return table


def write_decisions(
    decisions: pd.DataFrame,
    kept_src: str | os.PathLike,
    kept_tgt: str | os.PathLike,
    rejected_tsv: str | os.PathLike,
    decisions_tsv: str | os.PathLike,
) -> None:
    """Write the kept pairs (two line-aligned files), the rejected pairs and the full table.

    ``rejected_tsv`` has columns line, reason, src, tgt; ``decisions_tsv``
    has every column of the table. Both have a header row and plain tab
    separation (no quoting); a tab or line break inside a field is an error.
    Every file is written atomically.
    """
    check_columns(decisions)
    kept = decisions[decisions["kept"]]
    write_lines(kept_src, kept["src"])
    write_lines(kept_tgt, kept["tgt"])
    rejected = decisions.loc[~decisions["kept"], ["line", "reason", "src", "tgt"]]
    write_tsv(rejected_tsv, rejected)
    write_tsv(decisions_tsv, decisions)


def split_jsonl_rows(decisions: pd.DataFrame, src_lang: str, tgt_lang: str) -> tuple[list[dict], list[dict]]:
    """The JSON-ready records of the kept and of the rejected pairs, in table order.

    Rows carry ``line``, ``src``, ``tgt``, ``src_lang``, ``tgt_lang``, the
    ``reason`` for rejected rows, and ``qe_score`` where one was computed.
    Malformed rows (invalid UTF-8, too few columns) have no text to
    re-translate, so they are left out of the rejected records (the decision
    table and the funnel still count them).
    """
    rows = _jsonl_rows(decisions, src_lang, tgt_lang)
    clean = [row for row in rows if row["kept"]]
    rejected = [row for row in rows if not row["kept"] and row["reason"] not in MALFORMED_REASONS]
    for row in clean:
        del row["reason"]
    for row in clean + rejected:
        del row["kept"]
    return clean, rejected


def _jsonl_rows(decisions: pd.DataFrame, src_lang: str, tgt_lang: str) -> list[dict[str, Any]]:
    """Plain-Python records of the table (no NaN, no numpy scalars: JSON-ready)."""
    has_scores = "qe_score" in decisions
    rows = []
    for record in decisions.to_dict("records"):
        row = {
            "line": int(record["line"]),
            "src": record["src"],
            "tgt": record["tgt"],
            "src_lang": src_lang,
            "tgt_lang": tgt_lang,
            "kept": bool(record["kept"]),
            "reason": record["reason"],
        }
        if has_scores and math.isfinite(record["qe_score"]):
            row["qe_score"] = float(record["qe_score"])
        rows.append(row)
    return rows


def write_tsv(path: str | os.PathLike, table: pd.DataFrame) -> None:
    """Write ``table`` as header + tab-separated rows without quoting, atomically."""
    with atomic_write(path) as handle:
        write_tsv_rows(handle, path, table, header=True)


def write_tsv_rows(handle, path, table: pd.DataFrame, header: bool, first_row: int = 2) -> int:
    """Write ``table``'s rows (and its header line if ``header``) to an open handle.

    ``first_row`` is the file line number of the first row, for errors;
    returns the next one, so that tables can be appended shard by shard.
    """
    columns = list(table.columns)
    if header:
        handle.write("\t".join(columns) + "\n")
    row_no = first_row
    for row_no, row in enumerate(table.itertuples(index=False, name=None), first_row):
        fields = [_format_field(value) for value in row]
        for column, value in zip(columns, fields):
            if "\t" in value or "\n" in value or "\r" in value:
                raise ValueError(f"{path}:{row_no}: column {column!r} contains a tab or line break")
        handle.write("\t".join(fields) + "\n")
    return row_no + 1 if len(table) else first_row


def _format_field(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, float) and np.isnan(value):
        return ""
    return str(value)


def read_decisions(path: str | os.PathLike) -> pd.DataFrame:
    """Read a decision table written by :func:`write_decisions` (errors name file and line)."""
    # newline="\n": a stray carriage return inside a field must not split the row.
    with open(path, encoding="utf-8", newline="\n") as handle:
        header = handle.readline().rstrip("\n").split("\t")
        _check_header(path, header)
        rows = []
        for line_no, line in enumerate(handle, 2):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != len(header):
                raise ValueError(f"{path}:{line_no}: {len(fields)} fields, header has {len(header)}")
            rows.append(fields)
    table = pd.DataFrame(rows, columns=header)
    lines = pd.to_numeric(table["line"], errors="coerce")
    _reject_bad_values(path, table["line"], lines.isna(), "an integer")
    flags = table["kept"].map({"1": True, "0": False})
    _reject_bad_values(path, table["kept"], flags.isna(), "1 or 0")
    table["line"] = lines.astype(np.int64)
    table["kept"] = flags.astype(bool)
    if "qe_score" in table:
        # An empty score means the pair never reached QE.
        raw = table["qe_score"]
        scores = pd.to_numeric(raw.mask(raw == ""), errors="coerce")
        _reject_bad_values(path, raw, scores.isna() & (raw != ""), "a number or empty")
        table["qe_score"] = scores.astype(float)
    return table


def _reject_bad_values(path, raw: pd.Series, bad: pd.Series, expected: str) -> None:
    """Raise naming file, line and column for the first row flagged in ``bad``."""
    rows = np.flatnonzero(bad.to_numpy(dtype=bool))
    if rows.size:
        row = rows[0]
        raise ValueError(f"{path}:{row + 2}: column {raw.name!r} is {raw.iloc[row]!r}, expected {expected}")


def _check_header(path, header: list[str]) -> None:
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise ValueError(f"{path}:1: header lacks column(s) {', '.join(missing)}")
