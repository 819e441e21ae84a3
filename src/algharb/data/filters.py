"""Rule filters for parallel sentence pairs, and the one registry they are built from.

Each filter is a class registered in :data:`FILTERS` under its config name
and built for one language direction by :func:`build_filter`. Its options
are a typed :class:`~algharb.config.section.Section` (the class's
``Options``): every option's default and meaning live there, and a bad
value fails when the options are parsed (at config validation), naming the
option. ``check(src, tgt)`` returns ``None`` to keep the pair or a rejection
reason that starts with the filter's name, e.g. ``"length_ratio"`` or
``"language_id:tgt"``. ``check_batch(srcs, tgts)`` does the same for whole
columns; filters that gain from batching (language ID) override it, and the
decision loop in :mod:`algharb.data.clean` only ever calls the batch form.

Filters expect normalised text (:mod:`algharb.data.normalize`): single
spaces, no tabs or newlines. Lengths are measured as
:mod:`algharb.data.textstats` describes (``unit``: ``auto``, ``chars`` or
``tokens``).

| filter          | reason                         | options                                  |
|-----------------|--------------------------------|------------------------------------------|
| length          | length:src / length:tgt        | :class:`LengthOptions`                   |
| length_ratio    | length_ratio                   | :class:`LengthRatioOptions`              |
| non_alphabetic  | non_alphabetic:src / :tgt      | :class:`NonAlphabeticOptions`            |
| copy            | copy                           | :class:`CopyOptions`                     |
| language_id     | language_id:src / :tgt         | :class:`LanguageIDOptions`               |

Exact and near-duplicate removal (``duplicate``, ``near_duplicate``) is
corpus-level, not per pair: those filters are registered here too (their
options are checked with the others) but live in :mod:`algharb.data.dedup`.

The QE cut is applied separately, after scoring (:mod:`algharb.data.qe`).

Speed. ``check`` is the plain per-pair definition of each rule. The batch
path (``check_codes``, which ``check_batch`` and the decision loop use)
gives the same answers from the per-line counts of
:mod:`algharb.data.textstats`. The copy rule decides most pairs from cheap
bounds and runs ``check`` on the rest. Tests pin the batch path to
``check`` on random multilingual text.
"""

from __future__ import annotations

import abc
import math
import operator
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from algharb.config.section import Section, option
from algharb.data.lid import LanguagePredictor
from algharb.data.normalize import base_language
from algharb.data.textstats import (
    LENGTH_UNITS,
    LETTERS_PER_WORD,
    WORD,
    column_lengths,
    length_unit,
    letter_weight,
    line_stats,
    make_length_counter,
    non_alphabetic_share,
    non_alphabetic_shares,
    popcount,
    select,
)
from algharb.registry import Registry


@dataclass(frozen=True)
class NoOptions(Section):
    """A filter without options."""


class Filter:
    """Base of every registered filter: a named rule built for one direction from its typed options.

    ``Options`` is the filter's option section; ``corpus_level`` marks the
    dedup filters, which judge a pair against the whole corpus
    (:mod:`algharb.data.dedup`) and so run after the per-pair ones;
    ``needs_lid`` marks a filter built with a language identifier.
    """

    name: ClassVar[str] = ""
    Options: ClassVar[type[Section]] = NoOptions
    corpus_level: ClassVar[bool] = False
    needs_lid: ClassVar[bool] = False

    def __init__(self, src_lang: str, tgt_lang: str, **options: Any):
        self.options = self.Options.from_dict(options, where=self.name)


FILTERS: Registry[type[Filter]] = Registry("filter")


def build_filter(name: str, options: Section | Mapping[str, Any] | None, src_lang: str, tgt_lang: str,
                 lid: LanguagePredictor | None = None, where: str | None = None) -> Filter:
    """Build filter ``name`` for one direction: the one way a filter is made.

    ``options`` are its typed options or their config mapping (unknown names
    and keys, and bad values, raise ``ValueError`` naming them); ``lid`` is
    the language identifier of a filter that needs one (``language_id``).
    """
    cls = FILTERS.get(name, where)
    values = options.to_dict() if isinstance(options, Section) else dict(options or {})
    if cls.needs_lid:
        return cls(src_lang, tgt_lang, lid, **values)
    return cls(src_lang, tgt_lang, **values)


class PairFilter(Filter, abc.ABC):
    """A filter that judges each pair on its own."""

    @abc.abstractmethod
    def check(self, src: str, tgt: str) -> str | None:
        """Return a rejection reason for one pair, or None to keep it."""

    def check_batch(self, srcs: Sequence[str], tgts: Sequence[str]) -> list[str | None]:
        """Return one reason-or-None per pair, in order."""
        check = self.check
        return [check(src, tgt) for src, tgt in zip(srcs, tgts)]

    def check_codes(self, srcs: Sequence[str], tgts: Sequence[str]) -> tuple[np.ndarray, tuple[str | None, ...]]:
        """``check_batch`` as (codes, labels): pair i's reason is ``labels[codes[i]]``, code 0 keeps it."""
        found = self.check_batch(srcs, tgts)
        labels = (None, *sorted({reason for reason in found if reason}))
        code = {label: i for i, label in enumerate(labels)}
        return np.fromiter((code[reason] if reason else 0 for reason in found), np.int32, len(found)), labels


class _ColumnFilter(PairFilter):
    """A filter whose batch form is its own ``check_codes`` (vectorised), not ``check``."""

    @abc.abstractmethod
    def check_codes(self, srcs: Sequence[str], tgts: Sequence[str]) -> tuple[np.ndarray, tuple[str | None, ...]]: ...

    def check_batch(self, srcs: Sequence[str], tgts: Sequence[str]) -> list[str | None]:
        codes, labels = self.check_codes(srcs, tgts)
        return np.array(labels, dtype=object)[codes].tolist()


def reject_codes(rule, srcs: Sequence[str], tgts: Sequence[str]) -> tuple[np.ndarray, tuple[str | None, ...]]:
    """``rule.check_codes`` for a PairFilter, or the same derived from any object with ``check_batch``."""
    if isinstance(rule, PairFilter):
        return rule.check_codes(srcs, tgts)
    return PairFilter.check_codes(rule, srcs, tgts)


def _side_codes(src_rejected: np.ndarray, tgt_rejected: np.ndarray) -> np.ndarray:
    """Code 1 where the source fails, else 2 where the target fails, else 0."""
    return np.where(src_rejected, 1, np.where(tgt_rejected, 2, 0)).astype(np.int32)


def _check_unit(filter_name: str, unit: str) -> str:
    """Validate a ``unit`` option; the error names the filter."""
    if unit not in LENGTH_UNITS:
        raise ValueError(f"{filter_name}.unit: {unit!r} is not one of {', '.join(LENGTH_UNITS)}")
    return unit


def _check_number(key: str, value: Any, low: float, high: float = math.inf) -> float:
    """Validate a numeric option; the error names ``key`` (e.g. "length.max")."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{key}: expected a number in [{low}, {high}], got {value!r}")
    return float(value)


# --- length -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LengthOptions(Section):
    # Option names are the config keys, hence min/max shadowing the builtins.
    min: float = option(1, "shortest side kept, in `unit`s")
    max: float = option(200, "longest side kept, in `unit`s")
    unit: str = option("auto", "auto (word equivalents), chars or tokens")

    def __post_init__(self):
        _check_number("length.max", self.max, _check_number("length.min", self.min, 0))
        _check_unit("length", self.unit)


@FILTERS.register("length")
class LengthFilter(_ColumnFilter):
    """Reject a side shorter than ``min`` or longer than ``max`` units.

    With ``unit: auto`` an unspaced side's word equivalents are rounded up,
    so a one-character Chinese reply still counts as one word.
    """

    name = "length"
    Options = LengthOptions
    LABELS = (None, "length:src", "length:tgt")

    def __init__(self, src_lang: str, tgt_lang: str, **options: Any):
        super().__init__(src_lang, tgt_lang, **options)
        self.min_length = float(self.options.min)
        self.max_length = float(self.options.max)
        unit = self.options.unit
        self.src_length = _rounded_up(make_length_counter(src_lang, unit))
        self.tgt_length = _rounded_up(make_length_counter(tgt_lang, unit))
        self.units = (length_unit(src_lang, unit), length_unit(tgt_lang, unit))

    def check(self, src: str, tgt: str) -> str | None:
        if not self.min_length <= self.src_length(src) <= self.max_length:
            return "length:src"
        if not self.min_length <= self.tgt_length(tgt) <= self.max_length:
            return "length:tgt"
        return None

    def check_codes(self, srcs, tgts):
        src_out, tgt_out = (
            ~((self.min_length <= length) & (length <= self.max_length))
            for length in (np.ceil(column_lengths(texts, *unit)) for texts, unit in zip((srcs, tgts), self.units))
        )
        return _side_codes(src_out, tgt_out), self.LABELS


def _rounded_up(counter):
    """Wrap a length counter so fractional word equivalents round up to whole units."""
    return lambda text: math.ceil(counter(text))


@dataclass(frozen=True)
class LengthRatioOptions(Section):
    max: float = option(3.0, "largest ratio of the longer side to the shorter")
    slack: float = option(2.0, "`unit`s of tolerance added to max x the shorter side, so that short segments "
                               "(a one-word name against its transliteration) may differ more; 0: the plain ratio")
    unit: str = option("auto", "auto (word equivalents), chars or tokens")
    chars_per_word: dict = option(help="language → characters per word, over algharb.data.textstats.CHARS_PER_WORD",
                                  factory=dict)

    def __post_init__(self):
        _check_number("length_ratio.max", self.max, 1.0)
        _check_number("length_ratio.slack", self.slack, 0.0)
        _check_unit("length_ratio", self.unit)
        chars_per_word = self.chars_per_word or {}
        if not isinstance(chars_per_word, dict):
            raise ValueError(f"length_ratio.chars_per_word: expected a mapping, got {chars_per_word!r}")
        for lang, value in chars_per_word.items():
            _check_number(f"length_ratio.chars_per_word.{lang}", value, 1e-6)


@FILTERS.register("length_ratio")
class LengthRatioFilter(_ColumnFilter):
    """Reject pairs whose longer side exceeds ``max`` times the shorter plus ``slack``.

    Lengths are word equivalents with ``unit: auto`` (see
    :mod:`algharb.data.textstats`); ``chars_per_word`` overrides
    ``CHARS_PER_WORD`` entries, e.g. ``{zh: 1.4}``. The additive ``slack``
    makes the tolerance grow as segments shrink: with ``max`` 3 and ``slack``
    2, a one-word side may face up to 5 word equivalents ("Micronesia →
    密克罗尼西亚", 4.0), a ten-word side up to 32. Real names transliterate to
    two to four characters per word, so a plain ratio rejects a short
    English name against its Chinese or Japanese spelling. A pair with one
    empty side is rejected; two empty sides are left to the length filter.
    """

    name = "length_ratio"
    Options = LengthRatioOptions

    def __init__(self, src_lang: str, tgt_lang: str, **options: Any):
        super().__init__(src_lang, tgt_lang, **options)
        self.max_ratio = float(self.options.max)
        self.slack = float(self.options.slack)
        unit, chars_per_word = self.options.unit, self.options.chars_per_word or {}
        self.src_length = make_length_counter(src_lang, unit, chars_per_word)
        self.tgt_length = make_length_counter(tgt_lang, unit, chars_per_word)
        self.units = (length_unit(src_lang, unit, chars_per_word), length_unit(tgt_lang, unit, chars_per_word))

    def check(self, src: str, tgt: str) -> str | None:
        src_len, tgt_len = self.src_length(src), self.tgt_length(tgt)
        shorter, longer = min(src_len, tgt_len), max(src_len, tgt_len)
        if shorter == 0:
            return "length_ratio" if longer > 0 else None
        return "length_ratio" if longer > self.max_ratio * shorter + self.slack else None

    def check_codes(self, srcs, tgts):
        src_len, tgt_len = (column_lengths(texts, *unit) for texts, unit in zip((srcs, tgts), self.units))
        shorter, longer = np.minimum(src_len, tgt_len), np.maximum(src_len, tgt_len)
        rejected = np.where(shorter == 0, longer > 0, longer > self.max_ratio * shorter + self.slack)
        return rejected.astype(np.int32), (None, "length_ratio")


# --- letters and copies -------------------------------------------------------------------------


@dataclass(frozen=True)
class NonAlphabeticOptions(Section):
    max_share: float = option(0.6, "largest share of non-letters (digits, punctuation, symbols) in a side")
    letters_per_word: float = option(LETTERS_PER_WORD, "a letter of a language written without spaces counts "
                                     "letters_per_word / chars_per_word letters (0: every letter once)")

    def __post_init__(self):
        _check_number("non_alphabetic.max_share", self.max_share, 0.0, 1.0)
        _check_number("non_alphabetic.letters_per_word", self.letters_per_word, 0.0)


@FILTERS.register("non_alphabetic")
class NonAlphabeticFilter(_ColumnFilter):
    """Reject a side whose non-letter share exceeds ``max_share`` (digits, punctuation, symbols).

    In a language written without spaces a letter is worth several Latin
    ones (:func:`~algharb.data.textstats.letter_weight`): a year range after
    a four-character Chinese name is no more junk than after its English
    translation.
    """

    name = "non_alphabetic"
    Options = NonAlphabeticOptions

    def __init__(self, src_lang: str, tgt_lang: str, **options: Any):
        super().__init__(src_lang, tgt_lang, **options)
        self.max_share = float(self.options.max_share)
        per_word = float(self.options.letters_per_word)
        self.weights = (letter_weight(src_lang, per_word), letter_weight(tgt_lang, per_word))

    def check(self, src: str, tgt: str) -> str | None:
        if non_alphabetic_share(src, self.weights[0]) > self.max_share:
            return "non_alphabetic:src"
        if non_alphabetic_share(tgt, self.weights[1]) > self.max_share:
            return "non_alphabetic:tgt"
        return None

    def check_codes(self, srcs, tgts):
        src_out, tgt_out = (non_alphabetic_shares(texts, weight) > self.max_share
                            for texts, weight in zip((srcs, tgts), self.weights))
        return _side_codes(src_out, tgt_out), (None, "non_alphabetic:src", "non_alphabetic:tgt")


@dataclass(frozen=True)
class CopyOptions(Section):
    max_overlap: float = option(0.8, "largest share of distinct words the sides may have in common")
    names_max_words: int = option(8, "a pair of at most this many words a side that is mostly names is a copy only "
                                     "when both sides are identical (0: off)")
    names_min_share: float = option(0.5, "share of a side's words starting with a capital letter that makes it "
                                         "mostly names")

    def __post_init__(self):
        _check_number("copy.max_overlap", self.max_overlap, 0.0, 1.0)
        if isinstance(self.names_max_words, bool) or not isinstance(self.names_max_words, int) \
                or self.names_max_words < 0:
            raise ValueError(f"copy.names_max_words: expected an integer >= 0, got {self.names_max_words!r}")
        _check_number("copy.names_min_share", self.names_min_share, 0.0, 1.0)


@FILTERS.register("copy")
class CopyFilter(_ColumnFilter):
    """Reject untranslated pairs: the target copies the source.

    Exact copy: equal after case folding and removing everything but letters
    and digits. Near copy: the share of word tokens (case-folded) the sides
    have in common, relative to the longer side, exceeds ``max_overlap`` —
    catches a partly translated copy while names and numbers alone do not.

    Names are the exception: a short pair (at most ``names_max_words`` words
    a side) with a side that is mostly names (``names_min_share`` of its
    words capitalised) is a copy only when the two sides are identical.
    Languages spell many names almost alike, and a real translation then
    differs only by hyphenation, spacing, case, diacritics or a translated
    function word: "Hong Kong → Hongkong", "Saint Barthélemy →
    Saint-Barthélemy", "Adangme → adangme" (Czech lower-cases language
    names), "… Ascension and Tristan da Cunha → … Ascension ja Tristan da
    Cunha" (Estonian). An untranslated copy is the source itself (or the
    source in capitals), so it is still caught.

    The batch form runs ``check`` only on pairs that bounds from
    :class:`~algharb.data.textstats.LineStats` cannot clear (see ``check_codes``).
    """

    name = "copy"
    Options = CopyOptions

    def __init__(self, src_lang: str, tgt_lang: str, **options: Any):
        super().__init__(src_lang, tgt_lang, **options)
        self.max_overlap = float(self.options.max_overlap)
        self.names_max_words = self.options.names_max_words
        self.names_min_share = float(self.options.names_min_share)

    def check(self, src: str, tgt: str) -> str | None:
        if src == tgt:  # what the rules below conclude, without the word lists
            return "copy"
        if self._copies(src, tgt) and not (self._names(src, tgt) and not _shouted(src, tgt)):
            return "copy"
        return None

    def _copies(self, src: str, tgt: str) -> bool:
        """Exact copy up to case and non-word characters, or a near copy by shared words."""
        src_words = WORD.findall(src.casefold())
        tgt_words = WORD.findall(tgt.casefold())
        if "".join(src_words) == "".join(tgt_words):
            return bool(src_words)
        src_set, tgt_set = set(src_words), set(tgt_words)
        return len(src_set & tgt_set) > self.max_overlap * max(len(src_set), len(tgt_set))

    def _names(self, src: str, tgt: str) -> bool:
        """Whether the pair is short and a side is mostly names (see the class docstring)."""
        if max(len(src.split()), len(tgt.split())) > self.names_max_words:
            return False
        return max(capitalised_share(src), capitalised_share(tgt)) >= self.names_min_share

    def check_codes(self, srcs, tgts):
        src, tgt = line_stats(srcs), line_stats(tgts)
        unsure = src.refolds | tgt.refolds
        # An exact copy has as many word characters, and ASCII ones, on both sides.
        unsure |= (src.word_chars == tgt.word_chars) & (src.ascii_word_chars == tgt.ascii_word_chars)
        # A near copy shares more than max_overlap x D distinct words, D the
        # larger side's distinct words, known to lie between the larger
        # bucket count and the larger word count. A shared word sits in a
        # bucket both sides have, and each bucket only one side has holds at
        # least one distinct word of that side, so shared <= D - M with M the
        # larger such bucket count, and shared <= C, the fewer words (counted
        # with repeats) outside such buckets. The bound min(C, D - M) -
        # max_overlap x D peaks at D = C + M; below 0 there, no D allows a
        # near copy (the margin absorbs float rounding).
        only_src = popcount(src.word_buckets & ~tgt.word_buckets)
        only_tgt = popcount(tgt.word_buckets & ~src.word_buckets)
        most_only = np.maximum(only_src, only_tgt)
        fewest_left = np.minimum(src.words - only_src, tgt.words - only_tgt)
        distinct = np.clip(
            fewest_left + most_only,
            np.maximum(popcount(src.word_buckets), popcount(tgt.word_buckets)),
            np.maximum(src.words, tgt.words),
        )
        unsure |= np.minimum(fewest_left, distinct - most_only) - self.max_overlap * distinct > -1e-6
        codes = np.zeros(len(src), np.int32)
        for i in np.flatnonzero(unsure).tolist():
            codes[i] = self.check(srcs[i], tgts[i]) is not None
        return codes, (None, "copy")


def capitalised_share(text: str) -> float:
    """Share of the words of ``text`` that start with a capital letter and are not all capitals.

    Words are whitespace tokens with a letter; each is judged by its first
    letter. The first word does not count when others follow: a sentence
    starts with a capital whatever it holds ("Hello world" is not a name,
    "Hong Kong" is). A word in capitals is no sign of a name: a copy put in
    upper case stays a copy. 0 for a text without letters.
    """
    words = [word for word in text.split() if any(char.isalpha() for char in word)]
    if len(words) > 1:
        words = words[1:]
    return sum(_is_capitalised(word) for word in words) / len(words) if words else 0.0


def _shouted(src: str, tgt: str) -> bool:
    """One side is the other in capitals: a copy, even of a name."""
    return (src.isupper() or tgt.isupper()) and src.casefold() == tgt.casefold()


def _is_capitalised(word: str) -> bool:
    first = next(char for char in word if char.isalpha())
    return first.isupper() and not word.isupper()


# --- language ID ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LanguageIDOptions(Section):
    identifier: str = option("fasttext", "language identifier by registry name (algharb.data.lid)")
    model: str | None = option(None, "model file of the identifier, used when the workflow gives no LID model")
    min_prob: float = option(0.5, "lowest probability of the expected language")
    src_min_prob: float | None = option(None, "min_prob of the source side (None: min_prob)")
    tgt_min_prob: float | None = option(None, "min_prob of the target side (None: min_prob)")
    src_label: str | None = option(None, "the identifier's label of the source language (None: its base code)")
    tgt_label: str | None = option(None, "the identifier's label of the target language (None: its base code)")
    batch_size: int = option(10000, "lines per identifier call")

    def __post_init__(self):
        _check_number("language_id.min_prob", self.min_prob, 0.0, 1.0)
        for side in ("src", "tgt"):
            if getattr(self, f"{side}_min_prob") is not None:
                _check_number(f"language_id.{side}_min_prob", getattr(self, f"{side}_min_prob"), 0.0, 1.0)
        _check_number("language_id.batch_size", self.batch_size, 1)


@FILTERS.register("language_id")
class LanguageIDFilter(_ColumnFilter):
    """Reject a side whose predicted language is not its label or is below ``min_prob``.

    The expected label is the side's base language code ("zh_CN" -> "zh")
    unless ``src_label``/``tgt_label`` name the identifier's own label (e.g.
    "zho_Hans" for GlotLID). ``lid`` is the loaded language identifier (see
    :mod:`algharb.data.lid`). Predictions run in batches of ``batch_size``
    lines (one identifier call each).
    """

    name = "language_id"
    Options = LanguageIDOptions
    needs_lid = True

    def __init__(self, src_lang: str, tgt_lang: str, lid: LanguagePredictor | None, **options: Any):
        super().__init__(src_lang, tgt_lang, **options)
        if lid is None:
            raise ValueError("filter 'language_id' needs a language identifier (the workflow's LID model, or "
                             "model: in its options)")
        self.identifier = lid
        settings = self.options
        self.src_min_prob = float(settings.min_prob if settings.src_min_prob is None else settings.src_min_prob)
        self.tgt_min_prob = float(settings.min_prob if settings.tgt_min_prob is None else settings.tgt_min_prob)
        self.src_label = settings.src_label or base_language(src_lang)
        self.tgt_label = settings.tgt_label or base_language(tgt_lang)
        self.batch_size = int(float(settings.batch_size))

    def check(self, src: str, tgt: str) -> str | None:
        return self.check_batch([src], [tgt])[0]

    def check_codes(self, srcs, tgts):
        src_ok = self._matches(srcs, self.src_label, self.src_min_prob)
        codes = np.where(src_ok, 0, 1).astype(np.int32)
        # Only pairs whose source passed need the (costly) target prediction.
        pending = np.flatnonzero(src_ok)
        codes[pending[~self._matches(select(tgts, pending), self.tgt_label, self.tgt_min_prob)]] = 2
        return codes, (None, "language_id:src", "language_id:tgt")

    def _matches(self, texts: Sequence[str], label: str, min_prob: float) -> np.ndarray:
        """Whether each text is predicted as ``label`` with probability >= ``min_prob``.

        Uses the identifier's own ``matches(texts, label, min_prob)`` where it
        has one (algharb.data.lid decides near-threshold lines exactly there).
        """
        matches = getattr(self.identifier, "matches", None)
        found = [np.zeros(0, bool)]
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            if matches is not None:
                found.append(np.asarray(matches(batch, label, min_prob), dtype=bool))
                continue
            labels, probs = self.identifier.predict(batch)
            # float64: a float32 array would compare with min_prob rounded to float32.
            probs = np.asarray(probs, dtype=np.float64)
            is_label = np.fromiter(map(operator.eq, labels, [label] * len(batch)), bool, len(batch))
            found.append(is_label & (probs >= min_prob))
        return np.concatenate(found)
