"""Exact and near-duplicate removal, across a whole corpus (all shards).

Duplicates are a property of the corpus, not of a pair, so the two dedup
filters run after the per-pair filters and see only the pairs those kept
(a duplicate of a rejected pair would fail the same deterministic rule).
Each kept pair gets a 64-bit key per dedup filter; the first occurrence of
a key, in corpus order, is kept and later ones are rejected. Keys are
stable across processes (BLAKE2b, not Python's salted ``hash``), so shards
cleaned by separate jobs can be deduplicated together from their keys
alone, without re-reading the text.

| filter         | reason         | parameters (defaults)                    |
|----------------|----------------|------------------------------------------|
| duplicate      | duplicate      | side="pair"                              |
| near_duplicate | near_duplicate | side="pair", mask_digits=True            |

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
from typing import Any, Sequence

import numpy as np

from algharb.data.filters import COMBINING_MARKS

DEDUP_FILTERS: dict[str, dict[str, Any]] = {
    "duplicate": {"side": "pair"},
    "near_duplicate": {"side": "pair", "mask_digits": True},
}
_SIDES = ("pair", "src", "tgt")
# Letters with their combining marks (a Devanagari vowel sign changes the
# word), and digits; everything else is ignored by near_duplicate.
_NOT_LETTER_OR_DIGIT = re.compile(rf"[^\w{COMBINING_MARKS}]|_")
_DIGITS = re.compile(r"\d+")


def check_dedup_options(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """Merge ``options`` with the defaults of dedup filter ``name``; bad values raise naming the key."""
    unknown = sorted(set(options) - set(DEDUP_FILTERS[name]))
    if unknown:
        raise ValueError(f"filter {name!r}: unknown parameter {unknown[0]!r}; known: {', '.join(DEDUP_FILTERS[name])}")
    merged = {**DEDUP_FILTERS[name], **options}
    if merged["side"] not in _SIDES:
        raise ValueError(f"{name}.side: {merged['side']!r} is not one of {', '.join(_SIDES)}")
    if not isinstance(merged.get("mask_digits", True), bool):
        raise ValueError(f"{name}.mask_digits: expected true or false, got {merged['mask_digits']!r}")
    return merged


def near_form(text: str, mask_digits: bool = True) -> str:
    """The text near_duplicate compares: case-folded letters and digits only."""
    text = _NOT_LETTER_OR_DIGIT.sub("", text.casefold())
    return _DIGITS.sub("0", text) if mask_digits else text


def _key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def dedup_keys(name: str, options: dict[str, Any], srcs: Sequence[str], tgts: Sequence[str]) -> np.ndarray:
    """One uint64 key per pair for dedup filter ``name`` (equal keys = duplicates)."""
    options = check_dedup_options(name, options)
    form = (lambda text: near_form(text, options["mask_digits"])) if name == "near_duplicate" else (lambda t: t)
    side = options["side"]
    if side == "src":
        texts = (form(src) for src in srcs)
    elif side == "tgt":
        texts = (form(tgt) for tgt in tgts)
    else:
        # A tab cannot occur in normalised text, so it separates the sides unambiguously.
        texts = (form(src) + "\t" + form(tgt) for src, tgt in zip(srcs, tgts))
    return np.fromiter((_key(text) for text in texts), dtype=np.uint64, count=len(srcs))


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
