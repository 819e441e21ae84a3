"""Exact and near-duplicate removal, across a whole corpus (all shards).

Duplicates are a property of the corpus, not of a pair, so the two dedup
filters run after the per-pair filters and see only the pairs those kept
(a duplicate of a rejected pair would fail the same deterministic rule).
Each kept pair gets a 64-bit key per dedup filter; the first occurrence of
a key, in corpus order, is kept and later ones are rejected. Keys are
stable across processes (BLAKE2b, not Python's salted ``hash``), so shards
cleaned by separate jobs can be deduplicated together from their keys
alone, without re-reading the text.

| filter         | reason         | options                       |
|----------------|----------------|-------------------------------|
| duplicate      | duplicate      | :class:`DuplicateOptions`     |
| near_duplicate | near_duplicate | :class:`NearDuplicateOptions` |

Both are registered in the filter registry (:data:`algharb.data.filters.FILTERS`),
exact before near: the dedup filters run in registration order.
``side``: ``pair`` compares source and target together; ``src`` keeps one
translation per source sentence; ``tgt`` one source per target sentence.
``near_duplicate`` compares the sides after case folding and dropping
everything but letters (with their combining marks) and digits, with every
digit run counted as the same number when ``mask_digits`` is true: "Table 3:
Results." and "table 12 results" are near duplicates.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from algharb.config.section import Section, option
from algharb.data.filters import FILTERS, Filter, build_filter
from algharb.data.textstats import COMBINING_MARKS

_SIDES = ("pair", "src", "tgt")
# Letters with their combining marks (a Devanagari vowel sign changes the
# word), and digits; everything else is ignored by near_duplicate.
_NOT_LETTER_OR_DIGIT = re.compile(rf"[^\w{COMBINING_MARKS}]|_")
_DIGITS = re.compile(r"\d+")
_SIDE_HELP = "pair: source and target together; src: one translation per source; tgt: one source per target"


def _check_side(name: str, side: Any) -> None:
    if side not in _SIDES:
        raise ValueError(f"{name}.side: {side!r} is not one of {', '.join(_SIDES)}")


@dataclass(frozen=True)
class DuplicateOptions(Section):
    side: str = option("pair", _SIDE_HELP)

    def __post_init__(self):
        _check_side("duplicate", self.side)


@dataclass(frozen=True)
class NearDuplicateOptions(Section):
    side: str = option("pair", _SIDE_HELP)
    mask_digits: bool = option(True, "every run of digits counts as the same number")

    def __post_init__(self):
        _check_side("near_duplicate", self.side)
        if not isinstance(self.mask_digits, bool):
            raise ValueError(f"near_duplicate.mask_digits: expected true or false, got {self.mask_digits!r}")


def near_form(text: str, mask_digits: bool) -> str:
    """The text near_duplicate compares: case-folded letters and digits only."""
    text = _NOT_LETTER_OR_DIGIT.sub("", text.casefold())
    return _DIGITS.sub("0", text) if mask_digits else text


class DedupFilter(Filter):
    """A corpus-level filter: one key per pair; a later pair with an earlier pair's key is a duplicate."""

    corpus_level = True

    def form(self, text: str) -> str:
        """The form of a side that is compared."""
        return text

    def keys(self, srcs: Sequence[str], tgts: Sequence[str]) -> np.ndarray:
        """One uint64 key per pair (equal keys = duplicates)."""
        form, side = self.form, self.options.side
        if side == "src":
            texts = (form(src) for src in srcs)
        elif side == "tgt":
            texts = (form(tgt) for tgt in tgts)
        else:
            # A tab cannot occur in normalised text, so it separates the sides unambiguously.
            texts = (form(src) + "\t" + form(tgt) for src, tgt in zip(srcs, tgts))
        return np.fromiter((_key(text) for text in texts), dtype=np.uint64, count=len(srcs))


@FILTERS.register("duplicate")
class DuplicateFilter(DedupFilter):
    """Exact duplicates."""

    name = "duplicate"
    Options = DuplicateOptions


@FILTERS.register("near_duplicate")
class NearDuplicateFilter(DedupFilter):
    """Duplicates once case, punctuation and (with ``mask_digits``) numbers are ignored."""

    name = "near_duplicate"
    Options = NearDuplicateOptions

    def form(self, text: str) -> str:
        return near_form(text, self.options.mask_digits)


def dedup_keys(name: str, options: Section | Mapping[str, Any], srcs: Sequence[str],
               tgts: Sequence[str]) -> np.ndarray:
    """One uint64 key per pair for dedup filter ``name`` with ``options`` (equal keys = duplicates)."""
    return build_filter(name, options, "", "").keys(srcs, tgts)


def _key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def later_occurrences(keys: np.ndarray) -> np.ndarray:
    """Boolean mask of the keys that already occurred earlier in ``keys`` (first stays False)."""
    keys = np.asarray(keys, dtype=np.uint64)
    repeated = np.ones(keys.size, dtype=bool)
    # np.unique's return_index gives the first position of each distinct key.
    _, first = np.unique(keys, return_index=True)
    repeated[first] = False
    return repeated


def dedup_reasons(filters: list[tuple[str, np.ndarray]]) -> list[str]:
    """Apply dedup filters in order to their key columns; return a reason ("" = kept) per pair.

    ``filters`` is ``[(name, keys), ...]`` with one key per candidate pair,
    all columns aligned and in corpus order. A pair rejected by an earlier
    dedup filter no longer counts as a first occurrence for the later ones.
    """
    if not filters:
        return []
    size = filters[0][1].size
    reasons = np.full(size, "", dtype=object)
    alive = np.arange(size)
    for name, keys in filters:
        if keys.size != size:
            raise ValueError(f"{name}: {keys.size} keys for {size} pairs")
        repeated = later_occurrences(keys[alive])
        reasons[alive[repeated]] = name
        alive = alive[~repeated]
    return reasons.tolist()


# --- keys saved per shard, deduplicated together ----------------------------------------------


def save_dedup_keys(path, lines: Sequence[int], keys: list[tuple[str, np.ndarray]]) -> None:
    """Save the dedup keys of one shard's kept pairs (``lines`` are their raw line numbers)."""
    from algharb.io import atomic_path

    arrays = {f"key:{name}": np.asarray(column, dtype=np.uint64) for name, column in keys}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, lines=np.asarray(lines, dtype=np.int64), names=np.asarray([n for n, _ in keys], dtype=str),
                     **arrays)


def gather_duplicates(paths: Sequence) -> tuple[np.ndarray, list[str]]:
    """Deduplicate the shards whose keys are in ``paths`` (in corpus order) together.

    Returns the raw line numbers of the rejected pairs and their reasons.
    Shards must agree on the dedup filters and come in increasing line order.
    """
    lines, columns, names = [], {}, None
    for path in paths:
        with np.load(path) as data:
            shard_names = data["names"].tolist()
            if names is None:
                names = shard_names
            elif shard_names != names:
                raise ValueError(f"{path}: dedup filters {shard_names} differ from the other shards' {names}")
            lines.append(data["lines"])
            for name in names:
                columns.setdefault(name, []).append(data[f"key:{name}"])
    all_lines = np.concatenate(lines) if lines else np.zeros(0, dtype=np.int64)
    if np.any(np.diff(all_lines) <= 0):
        raise ValueError("dedup: shards are not in increasing line order; pass them in corpus order")
    reasons = dedup_reasons([(name, np.concatenate(columns[name])) for name in names or []])
    rejected = [i for i, reason in enumerate(reasons) if reason]
    return all_lines[rejected], [reasons[i] for i in rejected]
