"""The text-statistics engine of the rule filters: per-line counts of whole columns.

The rule filters (:mod:`algharb.data.filters`) are defined per pair, with
regexes and ``str`` methods. Their batch path gives the same answers from
per-line counts that :class:`LineStats` computes for a whole column at once
with numpy (one UTF-32 buffer, one codepoint class table). A
:class:`TextColumn` computes them once and shares them with the subsets that
later filters see, so a chain of length, length_ratio and non_alphabetic
reads each text once. Tests pin every count to its per-text definition on
random multilingual text.

Length units: languages written without spaces (zh, ja, ko, th, ...) are
measured in characters, the others in whitespace tokens. With ``unit:
auto`` both sides are put on one scale, *word equivalents*: tokens for
spaced languages, characters divided by ``CHARS_PER_WORD`` for unspaced
ones, where a run of ASCII letters/digits counts as one word (a Chinese
sentence has about 1.5 characters per English word, so a length ratio in
raw characters would reject most zh-en pairs).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np

from algharb.data.normalize import base_language, is_unspaced

# Characters per English word for languages written without spaces; used to
# turn their character counts into word equivalents. Measured on real
# parallel text: the multi-word phrases of the Unicode CLDR (v47, as Babel
# 2.18 ships it: relative date fields, unit names and patterns, list
# patterns; 130-200 phrases per language), characters of the language (ASCII
# runs and spaces aside) over English words, pooled. Names transliterate to
# more characters per word (zh 3.0 on CLDR's territory, language and currency
# names), which length_ratio's ``slack`` absorbs for short segments.
# ``benchmarks/real_text_cleaning.py --calibrate`` reproduces the numbers;
# override per direction with length_ratio's ``chars_per_word``.
CHARS_PER_WORD: dict[str, float] = {"zh": 1.5, "ja": 2.2, "ko": 1.8, "th": 5.1, "km": 5.7, "lo": 4.4, "my": 6.0}
# Letters of a word of a spaced language, about the mean English word in
# running text: a letter of an unspaced language counts LETTERS_PER_WORD /
# CHARS_PER_WORD letters in non-letter shares (see letter_weight).
LETTERS_PER_WORD = 5.0
_DEFAULT_CHARS_PER_WORD = 2.0  # for an unspaced language missing from the table

LENGTH_UNITS = ("auto", "chars", "tokens")


def _combining_mark_spans() -> list[tuple[int, int]]:
    """(first, last) codepoint of each run of combining marks (categories Mn, Mc, Me).

    Scans planes 0, 1 and 14 (where every mark lives), once at import (~50 ms).
    """
    spans: list[tuple[int, int]] = []
    start = None
    for cp in [*range(0x20000), *range(0xE0000, 0xE1000), -1]:
        is_mark = cp >= 0 and unicodedata.category(chr(cp)).startswith("M")
        if is_mark and start is None:
            start = cp
        elif not is_mark and start is not None:
            spans.append((start, prev))
            start = None
        prev = cp
    return spans


_MARK_SPANS = _combining_mark_spans()


# Regex class body of all combining marks (categories Mn, Mc, Me); dedup uses it too.
COMBINING_MARKS = "".join(f"{re.escape(chr(first))}-{re.escape(chr(last))}" for first, last in _MARK_SPANS)


# Non-letters: digits and "_", or anything that is neither a word character,
# whitespace nor a combining mark. Python's \w misses combining marks
# (Devanagari vowel signs, Arabic harakat), which belong to their letters.
_NON_LETTER = re.compile(rf"[\d_]|[^\w\s{COMBINING_MARKS}]")
# The words the copy rule compares (of casefolded text).
WORD = re.compile(r"\w+")
# Runs of ASCII letters/digits inside unspaced text ("iPhone", "2019") are
# words, not characters: counting their characters would make number- and
# name-heavy Chinese lines look several times longer than their sources.
_ASCII_RUN = re.compile(r"[0-9A-Za-z]+")


# --- per-line counts for whole columns ---------------------------------------------

# Codepoint class bits (see _codepoint_tables).
_WORDCHAR = 1  # \w: a word of the copy rule starts where one follows a non-word (bit 0: see _chunk_stats)
_NONSPACE = 2  # not str.isspace(): a token starts where one follows whitespace
_ASCII_ALNUM = 4  # [0-9A-Za-z]: a run counts as one word in unspaced text
_SPACE = 8  # " " itself
_NONLETTER = 16  # what _NON_LETTER matches
_FOLDS_TO_ASCII = 32  # casefolds to one ASCII character
_REFOLDS = 64  # casefold changes its length or \w-ness: the copy rule must use check()

# Counts per line are summed as 12-bit fields packed into one uint64 per
# character (five fields, one np.add.reduceat for all); a line longer than
# this could overflow a field and is counted one by one instead.
_FIELD_BITS = 12
_MAX_PACKED_CHARS = (1 << _FIELD_BITS) - 1
_STATS_CHUNK = 20_000  # lines per numpy pass: bounds the UTF-32 buffer (~10 MB)


def _pack(*flags: bool) -> int:
    return sum(bool(flag) << (_FIELD_BITS * position) for position, flag in enumerate(flags))


# Fields of a character, indexed by its class plus 128 x the class of the
# character before it: spaces, non-letters, word chars, word chars folding to
# ASCII, token starts.
_FIELDS = np.array(
    [
        _pack(
            c & _SPACE, c & _NONLETTER, c & _WORDCHAR, c & _WORDCHAR and c & _FOLDS_TO_ASCII, c & ~(c >> 7) & _NONSPACE
        )
        for c in range(1 << 14)
    ],
    dtype=np.uint64,
)
# ASCII run fields (unspaced languages only), indexed by the _ASCII_ALNUM bit
# of the class plus 2 x the one that switches on: run chars, run starts.
_RUN_FIELDS = np.array([_pack(i & 1, i & 2) for i in range(4)], dtype=np.uint64)
_BUCKET_BITS = np.left_shift(np.uint64(1), np.arange(64, dtype=np.uint64))
_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


@functools.cache
def _codepoint_tables() -> tuple[np.ndarray, np.ndarray]:
    """Class bits of every codepoint, and its casefolded codepoint (itself unless one-to-one).

    Derived from the regexes and str methods that the per-pair rules use,
    applied to every codepoint once (a few tenths of a second, on first
    use); tests pin each class to its regex over all codepoints.
    """
    every = np.arange(0x110000, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")

    def matching(pattern: str) -> np.ndarray:  # pattern: one character per match
        found = np.zeros(len(every), bool)
        for match in re.finditer(f"(?:{pattern})+", every):
            found[match.start() : match.end()] = True
        return found

    word, space, marks = matching(r"\w"), matching(r"\s"), np.zeros(len(every), bool)
    for first, last in _MARK_SPANS:
        marks[first : last + 1] = True
    classes = np.zeros(len(every), np.uint8)
    classes[~np.fromiter(map(str.isspace, every), bool, len(every))] |= _NONSPACE
    classes[word] |= _WORDCHAR
    classes[matching("[0-9A-Za-z]")] |= _ASCII_ALNUM
    classes[ord(" ")] |= _SPACE
    # _NON_LETTER, spelt out (its negated class is slow to run over every codepoint).
    classes[matching(r"[\d_]") | ~(word | space | marks)] |= _NONLETTER
    folded = np.arange(len(every), dtype=np.uint32)
    for cp, (char, fold) in enumerate(zip(every, map(str.casefold, every))):
        if fold == char:
            continue
        if len(fold) != 1 or bool(re.fullmatch(r"\w", fold)) != word[cp]:
            classes[cp] |= _REFOLDS
        else:
            folded[cp] = ord(fold)
    classes[folded < 128] |= _FOLDS_TO_ASCII
    return classes, folded


@dataclass(frozen=True)
class LineStats:
    """Counts per text of a column, as numpy arrays (one entry per text).

    ``chars`` len(text); ``spaces`` text.count(" "); ``tokens``
    len(text.split()); ``non_letters`` characters matching ``_NON_LETTER``.
    For the copy rule, of ``text.casefold()``: ``words`` its ``\\w+`` words,
    ``word_chars`` their characters, ``ascii_word_chars`` those that are
    ASCII, and ``word_buckets`` a uint64 mask with one bit set per word,
    hashed from its first and last character and its length; ``refolds``
    marks texts where casefolding changes lengths or word boundaries (or the
    text is too long for the packed counts): their word fields are not to be
    used. Only when asked for (unspaced languages): ``ascii_runs`` and
    ``ascii_run_chars``, runs of ASCII letters/digits and their characters.
    """

    chars: np.ndarray
    spaces: np.ndarray
    tokens: np.ndarray
    non_letters: np.ndarray
    words: np.ndarray
    word_chars: np.ndarray
    ascii_word_chars: np.ndarray
    word_buckets: np.ndarray
    refolds: np.ndarray
    ascii_runs: np.ndarray | None = None
    ascii_run_chars: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.chars)

    def take(self, indices) -> "LineStats":
        return LineStats(*(None if (value := getattr(self, f.name)) is None else value[indices] for f in fields(self)))

    @classmethod
    def of(cls, texts: Sequence[str], runs: bool = False) -> "LineStats":
        """Count ``texts`` in chunks of ``_STATS_CHUNK`` lines; ``runs`` adds the ASCII run counts."""
        texts = list(texts)
        parts = [_chunk_stats(texts[i : i + _STATS_CHUNK], runs) for i in range(0, len(texts), _STATS_CHUNK)]
        if len(parts) <= 1:
            return parts[0] if parts else _chunk_stats([], runs)
        columns = ([getattr(part, f.name) for part in parts] for f in fields(cls))
        return LineStats(*(None if column[0] is None else np.concatenate(column) for column in columns))


def _chunk_stats(texts: list[str], runs: bool) -> LineStats:
    """LineStats of one chunk: one UTF-32 buffer, class lookups and per-line sums."""
    classes, folded = _codepoint_tables()
    n = len(texts)
    if n == 0:
        empty = np.zeros(0, np.int32)
        return LineStats(*[empty] * 7, np.zeros(0, np.uint64), np.zeros(0, bool), *[empty if runs else None] * 2)
    # Each text is followed by "\n", whitespace that counts in no field: it
    # ends every token and word, and keeps every line's slice non-empty for
    # reduceat. surrogatepass: a lone surrogate is a codepoint too.
    codes = np.frombuffer(("\n".join(texts) + "\n").encode("utf-32-le", "surrogatepass"), np.uint32)
    chars = np.fromiter(map(len, texts), np.int32, n)
    starts = np.zeros(n, np.int64)
    np.cumsum(chars[:-1] + 1, out=starts[1:])
    # np.take with intp indices: fancy indexing with uint32/uint8 ones casts them each time.
    cls = np.take(classes, codes.astype(np.intp))
    pairs = np.empty(len(cls) + 1, dtype=np.intp)  # (class before, class) as one table index
    pairs[0] = 0
    pairs[1:] = cls
    pairs[1:] |= pairs[:-1] << 7
    counts = np.add.reduceat(np.take(_FIELDS, pairs[1:]), starts)
    changes = (pairs[1:] ^ pairs[1:] >> 7).astype(np.uint8)  # class bits that change at each character

    def field(packed: np.ndarray, position: int) -> np.ndarray:
        return ((packed >> np.uint64(_FIELD_BITS * position)) & np.uint64(_MAX_PACKED_CHARS)).astype(np.int32)

    # Word starts and word ends (+1) alternate among the positions where \w
    # changes: every line ends in a non-word "\n". _WORDCHAR is bit 0, so
    # `changes & 1` holds 0/1 bytes and reads as bool (nonzero is faster on bool).
    edges = np.flatnonzero((changes & _WORDCHAR).view(bool))
    first, after = edges[0::2], edges[1::2]
    word_offsets = np.searchsorted(first, starts)
    words = np.diff(word_offsets, append=len(first)).astype(np.int32)
    # Bucket of a word: the top 6 bits of a murmur-style hash of (first and
    # last casefolded character, length).
    key = np.take(folded, np.take(codes, first)) * np.uint32(0x9E3779B1)
    key ^= np.take(folded, np.take(codes, after - 1))
    key *= np.uint32(0x85EBCA77)
    key ^= (after - first).astype(np.uint32)
    key *= np.uint32(0xC2B2AE35)
    bits = np.take(_BUCKET_BITS, key >> 26)
    # reduceat gives an empty slice the value at its offset (hence the reset),
    # and the trailing 0 keeps offsets of trailing word-less lines in range.
    word_buckets = np.bitwise_or.reduceat(np.append(bits, np.uint64(0)), word_offsets)
    word_buckets[words == 0] = 0
    refolding = cls & _REFOLDS
    stats = LineStats(
        chars=chars,
        spaces=field(counts, 0),
        tokens=field(counts, 4),
        non_letters=field(counts, 1),
        words=words,
        word_chars=field(counts, 2),
        ascii_word_chars=field(counts, 3),
        word_buckets=word_buckets,
        refolds=np.maximum.reduceat(refolding, starts) > 0 if refolding.any() else np.zeros(n, bool),
    )
    if runs:
        alnum = (cls & _ASCII_ALNUM | (changes & cls & _ASCII_ALNUM) << 1) >> 2
        run_counts = np.add.reduceat(np.take(_RUN_FIELDS, alnum.astype(np.intp)), starts)
        stats = dataclasses.replace(stats, ascii_run_chars=field(run_counts, 0), ascii_runs=field(run_counts, 1))
    for i in np.flatnonzero(chars > _MAX_PACKED_CHARS).tolist():
        _count_one_by_one(stats, i, texts[i])
    return stats


def _count_one_by_one(stats: LineStats, i: int, text: str) -> None:
    """Count a line too long for the packed fields with the per-text definitions."""
    stats.spaces[i] = text.count(" ")
    stats.tokens[i] = len(text.split())
    stats.non_letters[i] = len(_NON_LETTER.findall(text))
    stats.refolds[i] = True  # the copy rule checks it with check()
    if stats.ascii_runs is not None:
        runs = _ASCII_RUN.findall(text)
        stats.ascii_runs[i] = len(runs)
        stats.ascii_run_chars[i] = sum(map(len, runs))


def popcount(masks: np.ndarray) -> np.ndarray:
    """Set bits of each uint64."""
    return _POPCOUNT8[masks.view(np.uint8).reshape(-1, 8)].sum(axis=1, dtype=np.int32)


class TextColumn(list):
    """One side's texts: a plain list that counts its :class:`LineStats` once.

    Subsets from :meth:`take` share those counts, so a chain of filters, each
    seeing the survivors of the last, reads every text once. Treat it as
    read-only: the counts do not follow changes to the list.
    """

    _stats: LineStats | None = None

    def stats(self, runs: bool = False) -> LineStats:
        if self._stats is None or (runs and self._stats.ascii_runs is None):
            self._stats = LineStats.of(self, runs)
        return self._stats

    def take(self, indices) -> "ColumnSubset":
        return ColumnSubset(self, np.asarray(indices, dtype=np.intp))


class ColumnSubset(Sequence[str]):
    """The texts of a :class:`TextColumn` at ``indices``; built as a list only when read."""

    def __init__(self, column: TextColumn, indices: np.ndarray):
        self.column = column
        self.indices = indices
        self._texts: list[str] | None = None

    def stats(self, runs: bool = False) -> LineStats:
        return _StatsAt(self.column.stats(runs), self.indices)  # type: ignore[return-value]

    def take(self, indices) -> "ColumnSubset":
        return ColumnSubset(self.column, self.indices[np.asarray(indices, dtype=np.intp)])

    def texts(self) -> list[str]:
        if self._texts is None:
            self._texts = list(map(self.column.__getitem__, self.indices.tolist()))
        return self._texts

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i):
        return self.texts()[i] if isinstance(i, slice) else self.column[self.indices[i]]

    def __iter__(self):
        return iter(self.texts())


class _StatsAt:
    """The fields of ``stats`` at ``indices``, each taken when first read (filters read few)."""

    def __init__(self, stats: LineStats, indices: np.ndarray):
        self._stats = stats
        self._indices = indices

    def __len__(self) -> int:
        return len(self._indices)

    def __getattr__(self, name: str):
        value = getattr(self._stats, name)
        value = None if value is None else value[self._indices]
        setattr(self, name, value)
        return value


def line_stats(texts: Sequence[str], runs: bool = False) -> LineStats:
    """The LineStats of ``texts`` (shared, for a TextColumn or a subset of one)."""
    if isinstance(texts, (TextColumn, ColumnSubset)):
        return texts.stats(runs)
    return LineStats.of(texts, runs)


def select(texts: Sequence[str], indices) -> Sequence[str]:
    """The texts at ``indices``; a subset of a TextColumn keeps sharing its counts."""
    if isinstance(texts, (TextColumn, ColumnSubset)):
        return texts.take(indices)
    return [texts[i] for i in np.asarray(indices, dtype=np.intp).tolist()]


# --- lengths and letter shares, per text and per column -----------------------------------


def length_unit(lang: str, unit: str, chars_per_word: dict[str, float] | None = None) -> tuple[str, float]:
    """How a ``lang`` side is measured: ("tokens" | "chars" | "word_equivalents", chars per word)."""
    if unit == "tokens" or (unit == "auto" and not is_unspaced(lang)):
        return "tokens", 0.0
    if unit == "chars":
        return "chars", 0.0
    overrides = {base_language(code): value for code, value in (chars_per_word or {}).items()}
    table = {**CHARS_PER_WORD, **overrides}
    return "word_equivalents", table.get(base_language(lang), _DEFAULT_CHARS_PER_WORD)


def make_length_counter(lang: str, unit: str, chars_per_word: dict[str, float] | None = None):
    """Return a function giving the length of a ``lang`` line in ``unit``.

    ``tokens``: whitespace tokens. ``chars``: characters other than spaces.
    ``auto``: tokens for spaced languages; for unspaced ones, characters /
    chars-per-word plus one per run of ASCII letters/digits (a float,
    comparable across languages).
    """
    measure, per_word = length_unit(lang, unit, chars_per_word)
    if measure == "tokens":
        return lambda text: len(text.split())
    if measure == "chars":
        return lambda text: len(text) - text.count(" ")

    def word_equivalents(text: str) -> float:
        runs = _ASCII_RUN.findall(text)
        run_chars = sum(map(len, runs))
        return len(runs) + (len(text) - text.count(" ") - run_chars) / per_word

    return word_equivalents


def column_lengths(texts: Sequence[str], measure: str, per_word: float) -> np.ndarray:
    """:func:`make_length_counter` for a whole column (the same float operations, so equal results)."""
    stats = line_stats(texts, runs=measure == "word_equivalents")
    if measure == "tokens":
        return stats.tokens
    if measure == "chars":
        return stats.chars - stats.spaces
    return stats.ascii_runs + (stats.chars - stats.spaces - stats.ascii_run_chars) / per_word


def letter_weight(lang: str, letters_per_word: float = LETTERS_PER_WORD,
                  chars_per_word: dict[str, float] | None = None) -> float:
    """How many letters one letter of a ``lang`` text counts for in a non-letter share.

    1 for spaced languages. For unspaced ones, ``letters_per_word`` over the
    language's characters per word (:func:`length_unit`): a Chinese character
    carries about what three Latin letters do, so "阿富汗尼 (1927–2002)" is
    as much name as "Afghani (1927–2002)". ``letters_per_word`` 0 counts
    every letter once.
    """
    measure, per_word = length_unit(lang, "auto", chars_per_word)
    if measure == "tokens" or letters_per_word <= 0:
        return 1.0
    return letters_per_word / per_word


def non_alphabetic_share(text: str, weight: float = 1.0) -> float:
    """Share of non-space characters that are not letters of any script.

    Letters include combining marks (Devanagari vowel signs, Arabic
    diacritics), which belong to the letters they modify. Digits,
    punctuation and symbols are non-letters. In a text with a word
    character beyond ASCII, each letter counts ``weight`` characters
    (:func:`letter_weight`); crawl debris of ASCII letters, digits and markup
    is counted plainly whatever the language. An empty text has share 0.
    """
    total = len(text) - text.count(" ")
    if total == 0:
        return 0.0
    non_letters = len(_NON_LETTER.findall(text))
    if weight != 1.0 and not has_non_ascii_word_char(text):
        weight = 1.0
    return non_letters / (non_letters + weight * (total - non_letters))


def has_non_ascii_word_char(text: str) -> bool:
    """Whether ``text`` has a word character (``\\w``) that does not casefold to ASCII."""
    classes, folded = _codepoint_tables()
    return any(classes[cp] & _WORDCHAR and folded[cp] >= 128 for cp in map(ord, text))


def non_alphabetic_shares(texts: Sequence[str], weight: float = 1.0) -> np.ndarray:
    """:func:`non_alphabetic_share` for a whole column."""
    stats = line_stats(texts)
    total = stats.chars - stats.spaces
    weights = np.ones(len(total))
    if weight != 1.0:
        non_ascii = stats.word_chars > stats.ascii_word_chars
        for i in np.flatnonzero(stats.refolds).tolist():  # word counts not to be used: ask the text
            non_ascii[i] = has_non_ascii_word_char(texts[i])
        weights[non_ascii] = weight
    weighted = stats.non_letters + weights * (total - stats.non_letters)
    return np.divide(stats.non_letters, weighted, out=np.zeros(len(total)), where=total > 0)


