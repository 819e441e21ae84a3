"""Per-pair cleaning decisions: normalise, run rule filters, apply the QE threshold.

The result of every step is one decision table (a pandas DataFrame) with a
row per raw input line, in file order:

=========  ==================================================================
line       1-based line number in the raw file(s)
src, tgt   normalised text ("" for a line that was not valid UTF-8)
kept       bool
reason     "" when kept, else the first failing filter's reason
qe_score   (after :func:`apply_qe_rejections`) the score of pairs that reached QE
=========  ==================================================================

Rejected pairs are kept in the table with their reason: a later stage has a
teacher model re-translate them.

A config is the workflow's ``clean`` section (YAML/JSON parsed into a dict)::

    filters:                      # run in this order; first failure wins
      length: {min: 1, max: 200, unit: auto}
      length_ratio: {max: 2.5}
      non_alphabetic: {max_share: 0.5}
      copy: {}
      language_id: {min_prob: 0.5}
      duplicate: {}               # dedup filters run last, over the whole corpus
      near_duplicate: {mask_digits: true}
    per_pair:                     # optional, per direction
      en-zh_CN:
        length_ratio: {max: 3.0}  # replaces that filter's options
        copy: false               # drops the filter
        qe: {quantile: 0.1}       # replaces the qe section for this direction
    qe: {mode: threshold, threshold: 0.55, batch_size: 64}   # or mode: quantile, quantile: 0.1
    normalize: {fix_casing: false}

``filters`` may also be a list of ``{name: options}`` entries (or bare
names). Per-pair filters run in the listed order; the dedup filters
(:mod:`algharb.data.dedup`) always run after them, because duplicates are a
property of the whole corpus (and, when sharded, of all shards together). A ``per_pair`` entry replaces a filter's options wholesale, as
``{**filters, **per_pair[pair]}`` does; a filter new to the list is appended.
Filter options and defaults are listed in :mod:`algharb.data.filters`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from tqdm import tqdm

from algharb.data.dedup import DEDUP_FILTERS, check_dedup_options, dedup_keys, dedup_reasons
from algharb.data.filters import FILTERS, LanguagePredictor, TextColumn, build_filter, qe_cutoff, reject_codes
from algharb.data.filters import select
from algharb.data.ingest import ParallelCorpus
from algharb.data.normalize import normalizer
from algharb.io import atomic_write, write_jsonl

INVALID_UTF8 = "invalid_utf8"
QE_REASON = "qe"
COLUMNS = ["line", "src", "tgt", "kept", "reason"]

_TOP_KEYS = ("filters", "per_pair", "qe", "normalize", "shard_size")  # shard_size: the workflow's
_NORMALIZE_DEFAULTS = {"enabled": True, "fix_casing": False}
_QE_KEYS = ("mode", "threshold", "quantile", "batch_size")  # batch_size is the scorer's
_QE_MODES = ("threshold", "quantile")
_PROGRESS_MIN_PAIRS = 100_000  # below this a progress bar is noise


@dataclass
class FilterConfig:
    """Validated cleaning settings for one direction.

    ``filters`` is an ordered list of (filter name, options);
    ``normalize`` holds ``enabled``/``fix_casing``; ``qe`` is empty or holds
    exactly one of ``threshold``/``quantile``.
    """

    filters: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    normalize: dict[str, bool] = field(default_factory=lambda: dict(_NORMALIZE_DEFAULTS))
    qe: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, pair: str | None = None) -> "FilterConfig":
        """Parse a ``clean`` config, applying ``per_pair[pair]`` if present.

        Unknown keys, filter names and filter options raise ``ValueError``
        naming them; so do malformed entries.
        """
        data = data or {}
        _require_mapping("clean", data)
        _reject_unknown("clean", data, _TOP_KEYS)
        filters = _parse_filters(data.get("filters") or [])
        per_pair = data.get("per_pair") or {}
        _require_mapping("clean.per_pair", per_pair)
        overrides = dict(per_pair.get(pair) or {}) if pair else {}
        where = f"clean.per_pair.{pair}"
        _require_mapping(where, overrides)
        qe_where, qe = ("clean.qe", data.get("qe")) if "qe" not in overrides else (f"{where}.qe", overrides.pop("qe"))
        if overrides:
            filters = _override_filters(filters, overrides, where)
        return cls(
            filters=filters,
            normalize=_parse_normalize("clean.normalize", data.get("normalize") or {}),
            qe=_parse_qe(qe_where, qe or {}),
        )

    @property
    def filter_names(self) -> list[str]:
        """The filters to run, in order."""
        return [name for name, _ in self.filters]

    @property
    def pair_filters(self) -> list[tuple[str, dict[str, Any]]]:
        """Filters that judge each pair on its own, in config order."""
        return [(name, options) for name, options in self.filters if name not in DEDUP_FILTERS]

    @property
    def dedup_filters(self) -> list[tuple[str, dict[str, Any]]]:
        """Corpus-level dedup filters, in their fixed order (exact before near)."""
        chosen = dict(self.filters)
        return [(name, chosen[name]) for name in DEDUP_FILTERS if name in chosen]


def _require_mapping(where: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(value).__name__}")


def _reject_unknown(where: str, mapping: dict[str, Any], known: Sequence[str]) -> None:
    for key in mapping:
        if key not in known:
            raise ValueError(f"{where}: unknown key {key!r}; known keys: {', '.join(known)}")


def _parse_filters(entries: Any) -> list[tuple[str, dict[str, Any]]]:
    """Parse ``{name: options}`` (ordered) or ``[{name: options} | name, ...]``.

    Options ``null``/``{}`` mean the defaults; ``false`` leaves the filter out.
    """
    if isinstance(entries, dict):
        items = [(f"clean.filters.{name}", name, options) for name, options in entries.items()]
    elif isinstance(entries, list):
        items = [_list_entry(position, entry) for position, entry in enumerate(entries)]
    else:
        raise ValueError(f"clean.filters: expected a mapping or a list, got {type(entries).__name__}")
    names = [name for _, name, _ in items]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"clean.filters: {name!r} is listed more than once")
    return [
        (name, _check_filter_options(where, name, options))
        for where, name, options in items
        if options is not False
    ]


def _list_entry(position: int, entry: Any) -> tuple[str, str, Any]:
    """One list item as (where, name, options)."""
    where = f"clean.filters[{position}]"
    if isinstance(entry, str):
        return where, entry, {}
    if not isinstance(entry, dict) or len(entry) != 1:
        raise ValueError(f"{where}: expected a filter name or one 'name: {{options}}' mapping, got {entry!r}")
    ((name, options),) = entry.items()
    return where, name, options


def _check_filter_options(where: str, name: Any, options: Any) -> dict[str, Any]:
    """Check a filter's name and option keys (values are checked when it is built)."""
    if name in DEDUP_FILTERS:
        _require_mapping(where, options or {})
        try:
            check_dedup_options(name, options or {})
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        return dict(options or {})
    if name not in FILTERS:
        known = [*FILTERS, *(n for n in DEDUP_FILTERS if n not in FILTERS)]
        raise ValueError(f"{where}: unknown filter {name!r}; known filters: {', '.join(known)}")
    options = options or {}
    _require_mapping(f"{where}", options)
    _reject_unknown(f"{where}", options, list(FILTERS[name].DEFAULTS))
    return dict(options)


def _override_filters(filters, overrides: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    """Apply one direction's overrides: replace options, drop (``false``) or append filters."""
    _require_mapping(where, overrides)
    result = list(filters)
    for name, options in overrides.items():
        kept = [(n, o) for n, o in result if n != name]
        if options is False:
            result = kept
            continue
        checked = _check_filter_options(f"{where}.{name}", name, options)
        if len(kept) == len(result):
            result.append((name, checked))
        else:
            result = [(n, checked if n == name else o) for n, o in result]
    return result


def _parse_normalize(where: str, settings: Any) -> dict[str, bool]:
    _require_mapping(where, settings)
    _reject_unknown(where, settings, list(_NORMALIZE_DEFAULTS))
    merged = {**_NORMALIZE_DEFAULTS, **settings}
    for key, value in merged.items():
        if not isinstance(value, bool):
            raise ValueError(f"{where}.{key}: expected true or false, got {value!r}")
    return merged


def _parse_qe(where: str, settings: Any) -> dict[str, float]:
    """Resolve ``mode`` + value (or a lone threshold/quantile) to one ``{mode: value}``."""
    _require_mapping(where, settings)
    _reject_unknown(where, settings, _QE_KEYS)
    mode = settings.get("mode")
    if mode is None:
        given = [key for key in _QE_MODES if key in settings]
        if len(given) > 1:
            raise ValueError(f"{where}: give threshold or quantile (or set mode), not both")
        if not given:
            return {}
        mode = given[0]
    if mode not in _QE_MODES:
        raise ValueError(f"{where}.mode: {mode!r} is not one of {', '.join(_QE_MODES)}")
    value = settings.get(mode)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where}.{mode}: expected a number for mode {mode!r}, got {value!r}")
    if mode == "quantile" and not 0 <= value <= 1:
        raise ValueError(f"{where}.quantile: expected a share in [0, 1], got {value!r}")
    return {mode: value}


def apply_rule_filters(
    corpus: ParallelCorpus,
    src_lang: str,
    tgt_lang: str,
    config: FilterConfig | dict[str, Any],
    lid: LanguagePredictor | None = None,
    progress: bool | None = None,
    dedup: bool = True,
) -> pd.DataFrame:
    """Normalise every pair and run the configured filters; return the decision table.

    Each filter runs over the pairs still kept (so the first failing filter
    gives the reason, and batched filters such as language ID see whole
    columns). ``lid`` is the language identifier for ``language_id``;
    without it, that filter's ``model`` path is loaded. Pairs dropped at
    ingest as invalid UTF-8 appear as rejected rows with reason
    ``invalid_utf8``. ``progress`` shows tqdm bars (default: for large inputs).
    A plain dict config is parsed for pair ``"{src_lang}-{tgt_lang}"``.
    ``dedup=False`` leaves the dedup filters to the caller (a shard of a
    larger corpus is deduplicated with the others, from :func:`shard_dedup_keys`).
    """
    if isinstance(config, dict):
        config = FilterConfig.from_dict(config, pair=f"{src_lang}-{tgt_lang}")
    show = len(corpus) >= _PROGRESS_MIN_PAIRS if progress is None else progress
    srcs, tgts = _normalize_columns(corpus, src_lang, tgt_lang, config.normalize, show)
    reasons: list[str] = [""] * len(srcs)
    active = list(range(len(srcs)))
    for name, params in config.pair_filters:
        rule = build_filter(name, params, src_lang, tgt_lang, _identifier_for(name, params, lid))
        active = _run_filter(rule, active, srcs, tgts, reasons, show)
    if dedup and config.dedup_filters:
        kept_srcs, kept_tgts = [srcs[i] for i in active], [tgts[i] for i in active]
        keys = [(name, dedup_keys(name, params, kept_srcs, kept_tgts)) for name, params in config.dedup_filters]
        for index, reason in zip(active, dedup_reasons(keys)):
            reasons[index] = reason
    decisions = pd.DataFrame(
        {
            "line": np.asarray(corpus.line_numbers, dtype=np.int64),
            "src": srcs,
            "tgt": tgts,
            "kept": [reason == "" for reason in reasons],
            "reason": reasons,
        }
    )
    return _with_invalid_lines(decisions, corpus.invalid_utf8_lines)


def _normalize_columns(corpus, src_lang, tgt_lang, settings, show) -> tuple[list[str], list[str]]:
    """Normalise both sides (or only validate the languages when normalisation is off).

    The columns are TextColumns (lists) so that the filters count each text once.
    """

    src_norm = normalizer(src_lang, settings["fix_casing"])
    tgt_norm = normalizer(tgt_lang, settings["fix_casing"])
    if not settings["enabled"]:
        return TextColumn(corpus.src), TextColumn(corpus.tgt)
    bar = tqdm(total=len(corpus), desc="normalize", unit="pair", disable=not show)
    srcs = TextColumn()
    tgts = TextColumn()
    chunk = 10_000  # progress granularity
    for start in range(0, len(corpus), chunk):
        stop = min(start + chunk, len(corpus))
        srcs.extend(map(src_norm, corpus.src[start:stop]))
        tgts.extend(map(tgt_norm, corpus.tgt[start:stop]))
        bar.update(stop - start)
    bar.close()
    return srcs, tgts


def _identifier_for(name: str, params: dict[str, Any], lid):
    """The language identifier for ``language_id``: the caller's, else one loaded from ``model``."""
    if name != "language_id" or lid is not None or not params.get("model"):
        return lid
    from algharb.demo.lid import LanguageIdentifier  # fastText is only needed here

    return LanguageIdentifier(params["model"])


def _run_filter(rule, active, srcs, tgts, reasons: list[str], show: bool) -> np.ndarray:
    """Run one filter over the active pairs in chunks; record reasons; return the survivors.

    ``active`` holds indices into ``srcs``/``tgts``; the filter sees subsets
    that share the columns' per-line counts (see :func:`select`).
    """

    active = np.asarray(active, dtype=np.intp)
    survivors = [active[:0]]
    chunk = 50_000  # progress granularity
    bar = tqdm(total=len(active), desc=rule.name, unit="pair", disable=not show)
    for start in range(0, len(active), chunk):
        indices = active[start : start + chunk]
        codes, labels = reject_codes(rule, select(srcs, indices), select(tgts, indices))
        rejected = np.flatnonzero(codes)
        for index, code in zip(indices[rejected].tolist(), codes[rejected].tolist()):
            reasons[index] = labels[code]
        survivors.append(indices[codes == 0])
        bar.update(len(indices))
    bar.close()
    return np.concatenate(survivors)


def _with_invalid_lines(decisions: pd.DataFrame, invalid_lines: list[int]) -> pd.DataFrame:
    """Add rejected rows for lines dropped at ingest, keeping file order."""
    if not invalid_lines:
        return decisions
    invalid = pd.DataFrame(
        {
            "line": np.asarray(invalid_lines, dtype=np.int64),
            "src": "",
            "tgt": "",
            "kept": False,
            "reason": INVALID_UTF8,
        }
    )
    merged = pd.concat([decisions, invalid], ignore_index=True)
    return merged.sort_values("line", kind="stable").reset_index(drop=True)


def apply_qe_rejections(decisions: pd.DataFrame, scores, rejected) -> pd.DataFrame:
    """Attach QE ``scores`` to the kept rows and reject those flagged in ``rejected`` (reason ``qe``).

    Both are aligned with the kept rows in table order (a length mismatch
    raises); rows rejected earlier keep their reason and get a NaN score.
    """
    _check_columns(decisions)
    kept_rows = np.flatnonzero(decisions["kept"].to_numpy(dtype=bool))
    scores = np.asarray(scores, dtype=float)
    rejected = np.asarray(rejected, dtype=bool)
    if scores.ndim != 1 or scores.size != kept_rows.size or rejected.shape != scores.shape:
        raise ValueError(f"qe: got {scores.size} scores and {rejected.size} decisions for {kept_rows.size} kept "
                         "pairs; they must match")
    result = decisions.copy()
    all_scores = np.full(len(result), np.nan)
    all_scores[kept_rows] = scores
    result["qe_score"] = all_scores
    rejected_rows = kept_rows[rejected]
    result.loc[result.index[rejected_rows], "kept"] = False
    result.loc[result.index[rejected_rows], "reason"] = QE_REASON
    return result


def _check_columns(decisions: pd.DataFrame) -> None:
    missing = [column for column in COLUMNS if column not in decisions.columns]
    if missing:
        raise ValueError(f"decision table lacks column(s) {', '.join(missing)}")


def funnel(decisions: pd.DataFrame) -> pd.DataFrame:
    """Summarise a decision table: pairs in, pairs removed per reason, pairs out.

    Columns ``stage`` ("pairs_in", "removed:<reason>", "pairs_out"),
    ``pairs`` and ``share`` (of the input). Reasons are listed most frequent
    first; ``pairs_in - sum(removed) == pairs_out``.
    """
    _check_columns(decisions)
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
    _check_columns(decisions)
    kept = decisions[decisions["kept"]]
    _write_plain(kept_src, kept["src"])
    _write_plain(kept_tgt, kept["tgt"])
    rejected = decisions.loc[~decisions["kept"], ["line", "reason", "src", "tgt"]]
    write_tsv(rejected_tsv, rejected)
    write_tsv(decisions_tsv, decisions)


def split_jsonl_rows(decisions: pd.DataFrame, src_lang: str, tgt_lang: str) -> tuple[list[dict], list[dict]]:
    """The JSON-ready records of the kept and of the rejected pairs, in table order.

    Rows carry ``line``, ``src``, ``tgt``, ``src_lang``, ``tgt_lang``, the
    ``reason`` for rejected rows, and ``qe_score`` where one was computed.
    Invalid-UTF-8 rows have no text to re-translate, so they are left out of
    the rejected records (the decision table and the funnel still count them).
    """
    rows = _jsonl_rows(decisions, src_lang, tgt_lang)
    clean = [row for row in rows if row["kept"]]
    rejected = [row for row in rows if not row["kept"] and row["reason"] != INVALID_UTF8]
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


def _write_plain(path: str | os.PathLike, lines) -> None:
    with atomic_write(path) as handle:
        for row, line in enumerate(lines, 1):
            if "\n" in line or "\r" in line:
                raise ValueError(f"{path}: line {row} contains a line break")
            handle.write(line + "\n")


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
