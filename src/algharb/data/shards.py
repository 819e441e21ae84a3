"""Scatter a raw corpus into fixed-size shards and gather per-shard results.

A corpus of 120M pairs is cleaned as many small jobs: the raw stream is cut
into shards of ``shard_size`` consecutive raw lines (``00000.jsonl``,
``00001.jsonl``, ...) plus a ``manifest.tsv``; each shard is filtered on its
own; the corpus-level steps (deduplication, a QE quantile) work on small
per-shard summaries (64-bit keys, scores) gathered in shard order; and the
final tables are merged back in shard order, so the output has every raw
line exactly once, in file order.

A shard line is ``{"line": n, "src": ..., "tgt": ...}``; a malformed raw
line (:mod:`algharb.data.ingest`) is ``{"line": n, "reason": ...}`` (no
text), so its rejection is still counted where it belongs; the manifest
counts them per shard, one column per reason (``invalid_utf8``,
``too_few_columns``). A corpus whose share of malformed lines is over
``clean.max_malformed_share`` is refused before any shard is kept.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from algharb.data.decisions import read_decisions, split_jsonl_rows, write_tsv_rows
from algharb.data.config import check_share
from algharb.data.ingest import INVALID_UTF8, MALFORMED_REASONS, ParallelCorpus, RawPair
from algharb.io import atomic_path, atomic_write

MANIFEST = "manifest.tsv"
MANIFEST_COLUMNS = ["shard", "first_line", "last_line", "lines", *MALFORMED_REASONS]
BUDGET_KEY = "clean.max_malformed_share"
SHOWN_MALFORMED = 5  # malformed lines an over-budget error names


def shard_name(index: int) -> str:
    """Zero-padded so that names sort in corpus order."""
    return f"{index:05d}"


def write_shards(pairs: Iterable[RawPair], out_dir: str | os.PathLike, shard_size: int,
                 max_malformed_share: float = 1.0, where: str = "") -> pd.DataFrame:
    """Stream ``pairs`` into shards of ``shard_size`` raw lines under ``out_dir``; return the manifest.

    The folder appears only when every shard is written (it is built under a
    temporary name), so an interrupted or failed run (e.g. mismatched line
    counts found at the end of the stream) leaves nothing that looks done.
    Fails too when more than ``max_malformed_share`` of all raw lines are
    malformed (:func:`check_malformed_share`; ``where`` names the input).
    """
    if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size < 1:
        raise ValueError(f"clean.shard_size: expected a positive integer, got {shard_size!r}")
    check_share(max_malformed_share, BUDGET_KEY)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        manifest, first_malformed = _write_shard_files(pairs, tmp, shard_size)
        if manifest.empty:
            raise ValueError(f"{out_dir}: the corpus has no lines")
        check_malformed_share(manifest, first_malformed, max_malformed_share, where or str(out_dir))
        manifest.to_csv(tmp / MANIFEST, sep="\t", index=False)
    return manifest


def _write_shard_files(pairs: Iterable[RawPair], folder: Path,
                       shard_size: int) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Write the shard files; return the manifest and the first malformed lines (line, reason)."""
    rows: list[dict] = []
    first_malformed: list[tuple[int, str]] = []
    handle = None
    try:
        for pair in pairs:
            if not rows or rows[-1]["lines"] == shard_size:
                if handle:
                    handle.close()
                rows.append({"shard": shard_name(len(rows)), "first_line": pair.line, "last_line": pair.line,
                             "lines": 0, **dict.fromkeys(MALFORMED_REASONS, 0)})
                handle = open(folder / f"{rows[-1]['shard']}.jsonl", "w", encoding="utf-8", newline="\n")
            row = rows[-1]
            if pair.line <= row["last_line"] and row["lines"]:
                raise ValueError(f"line numbers must increase: {pair.line} after {row['last_line']}")
            row["last_line"], row["lines"] = pair.line, row["lines"] + 1
            if pair.src is None or pair.tgt is None:
                reason = pair.drop_reason
                row[reason] += 1
                handle.write(json.dumps({"line": pair.line, "reason": reason}) + "\n")
                if len(first_malformed) < SHOWN_MALFORMED:
                    first_malformed.append((pair.line, reason))
            else:
                handle.write(json.dumps({"line": pair.line, "src": pair.src, "tgt": pair.tgt},
                                        ensure_ascii=False) + "\n")
    finally:
        if handle:
            handle.close()
    return pd.DataFrame(rows, columns=MANIFEST_COLUMNS), first_malformed


def check_malformed_share(manifest: pd.DataFrame, first_malformed: list[tuple[int, str]], budget: float,
                          where: str) -> None:
    """Fail when more than ``budget`` of the manifest's raw lines are malformed, naming the first ones.

    The share is that of the whole input, not of one shard: whether a run
    passes must not depend on ``shard_size`` (a short last shard would fail
    on a single bad line) and must agree with ``algharb clean`` (one shard).
    Exactly at the budget passes.
    """
    lines = int(manifest["lines"].sum())
    counts = {reason: int(manifest[reason].sum()) for reason in MALFORMED_REASONS}
    malformed = sum(counts.values())
    if not lines or malformed / lines <= budget:
        return
    by_reason = ", ".join(f"{count} {reason}" for reason, count in counts.items() if count)
    first = ", ".join(f"{line} ({reason})" for line, reason in first_malformed)
    more = ", ..." if malformed > len(first_malformed) else ""
    raise ValueError(
        f"{where}: {malformed} of {lines} lines are malformed ({100 * malformed / lines:.3g}%: {by_reason}), "
        f"over the budget {BUDGET_KEY} = {budget} ({100 * budget:.3g}%); first malformed lines: {first}{more}. "
        f"Fix the input (its encoding, or the spec's columns) or raise {BUDGET_KEY}."
    )


def read_manifest(shard_dir: str | os.PathLike) -> pd.DataFrame:
    """The manifest of a shard folder (shard names stay zero-padded strings)."""
    path = Path(shard_dir) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no shard manifest (was the corpus sharded?)")
    return pd.read_csv(path, sep="\t", dtype={"shard": str})


def shard_ids(shard_dir: str | os.PathLike) -> list[str]:
    """Names of the shards in ``shard_dir``, in corpus order."""
    return read_manifest(shard_dir)["shard"].tolist()


def read_shard(path: str | os.PathLike) -> ParallelCorpus:
    """Load one shard as a corpus (raw line numbers kept, malformed lines recorded with their reasons)."""
    corpus = ParallelCorpus([], [], [], origin=str(path))
    with open(path, encoding="utf-8") as handle:
        for row_no, text in enumerate(handle, 1):
            try:
                row = json.loads(text)
                line = int(row["line"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                raise ValueError(f"{path}:{row_no}: not a shard row (expected JSON with 'line')") from None
            if "src" not in row:
                # Shards written before reasons were recorded held invalid UTF-8 only.
                corpus.malformed_lines[line] = row.get("reason", INVALID_UTF8)
                continue
            corpus.src.append(row["src"])
            corpus.tgt.append(row["tgt"])
            corpus.line_numbers.append(line)
    return corpus


# --- line sets shared by all shards (duplicates, QE rejections) ---------------------------------


def save_line_reasons(path: str | os.PathLike, lines: np.ndarray, reasons: list[str]) -> None:
    """Save a corpus-wide set of rejected lines with their reasons (sorted by line), atomically."""
    lines = np.asarray(lines, dtype=np.int64)
    order = np.argsort(lines, kind="stable")
    names = sorted(set(reasons))
    codes = np.asarray([names.index(reason) for reason in reasons], dtype=np.int16)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, lines=lines[order], codes=codes[order] if codes.size else codes,
                     names=np.asarray(names, dtype=str))


def load_line_reasons(path: str | os.PathLike, first_line: int | None = None,
                      last_line: int | None = None) -> dict[int, str]:
    """Line → reason from :func:`save_line_reasons`, optionally only lines in [first, last]."""
    with np.load(path) as data:
        lines, codes, names = data["lines"], data["codes"], data["names"].tolist()
    start = 0 if first_line is None else np.searchsorted(lines, first_line, side="left")
    stop = lines.size if last_line is None else np.searchsorted(lines, last_line, side="right")
    return {int(line): names[code] for line, code in zip(lines[start:stop], codes[start:stop])}


# --- gather: the direction's tables from the shards' -------------------------------------------


def merge_shard_decisions(decision_paths, src_lang: str, tgt_lang: str, out_decisions, out_clean,
                          out_rejected) -> tuple[int, dict[str, int]]:
    """Concatenate per-shard final decision tables (in the given order) into the direction's outputs.

    Streams one shard at a time (memory stays that of one shard). Writes the
    full decision table (TSV) and the kept / rejected pairs (JSONL); returns
    the number of raw lines and the removals per reason, for the funnel.
    Shards must come in increasing line order (an error otherwise).
    """
    total, removed, last_line, columns = 0, {}, 0, None
    with contextlib.ExitStack() as stack:
        tsv, clean, rejected = (stack.enter_context(atomic_write(path)) for path in (out_decisions, out_clean,
                                                                                      out_rejected))
        row_no, header = 2, True
        for path in decision_paths:
            table = read_decisions(path)
            columns = columns or list(table.columns)
            if list(table.columns) != columns:
                raise ValueError(f"{path}: columns {list(table.columns)} differ from the first shard's {columns}")
            if len(table) and int(table["line"].iloc[0]) <= last_line:
                raise ValueError(f"{path}: starts at line {int(table['line'].iloc[0])}, not after {last_line}; "
                                 "shards must be merged in corpus order")
            last_line = int(table["line"].iloc[-1]) if len(table) else last_line
            row_no = write_tsv_rows(tsv, out_decisions, table, header=header, first_row=row_no)
            header = False
            kept_rows, rejected_rows = split_jsonl_rows(table, src_lang, tgt_lang)
            for handle, rows in ((clean, kept_rows), (rejected, rejected_rows)):
                handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
            total += len(table)
            for reason, count in table.loc[~table["kept"], "reason"].value_counts().items():
                removed[reason] = removed.get(reason, 0) + int(count)
    return total, removed
