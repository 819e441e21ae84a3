"""Rule filters for parallel sentence pairs.

Each filter is a small class built for one language direction from keyword
parameters (the config dict of that filter; ``DEFAULTS`` documents them).
``check(src, tgt)`` returns ``None`` to keep the pair or a rejection reason
that starts with the filter's name, e.g. ``"length_ratio"`` or
``"language_id:tgt"``. ``check_batch(srcs, tgts)`` does the same for whole
columns; filters that gain from batching (language ID) override it, and the
decision loop in :mod:`algharb.data.clean` only ever calls the batch form.

Filters expect normalised text (:mod:`algharb.data.normalize`): single
spaces, no tabs or newlines.

Length units: languages written without spaces (zh, ja, ko, th, ...) are
measured in characters, the others in whitespace tokens. With ``unit:
auto`` both sides are put on one scale, *word equivalents*: tokens for
spaced languages, characters divided by ``CHARS_PER_WORD`` for unspaced
ones, where a run of ASCII letters/digits counts as one word (a Chinese
sentence has about 1.5 characters per English word, so a length ratio in
raw characters would reject most zh-en pairs).

| filter          | reason                         | parameters (defaults)                                   |
|-----------------|--------------------------------|---------------------------------------------------------|
| length          | length:src / length:tgt        | min=1, max=200, unit="auto"                             |
| length_ratio    | length_ratio                   | max=3.0, unit="auto", chars_per_word={}                 |
| non_alphabetic  | non_alphabetic:src / :tgt      | max_share=0.6                                           |
| copy            | copy                           | max_overlap=0.8                                         |
| duplicate       | duplicate                      | (none)                                                  |
| language_id     | language_id:src / :tgt         | min_prob=0.5, src_min_prob=None, tgt_min_prob=None,     |
|                 |                                | src_label=None, tgt_label=None, model=None,             |
|                 |                                | batch_size=10000                                        |

``unit`` is one of ``auto``, ``chars``, ``tokens``. For language ID,
``src_min_prob``/``tgt_min_prob`` override ``min_prob`` for one side.

The QE threshold is applied separately, after scoring, by
:func:`qe_rejections` (reason ``"qe"``).
"""

from __future__ import annotations

import abc
import math
import re
import unicodedata
from typing import Any, Protocol, Sequence

import numpy as np

from algharb.data.normalize import base_language, is_unspaced

# Characters per English word for languages written without spaces; used to
# turn their character counts into word equivalents. Rough corpus averages;
# override per direction with length_ratio's ``chars_per_word``.
CHARS_PER_WORD: dict[str, float] = {"zh": 1.5, "ja": 2.2, "ko": 1.8, "th": 4.5, "km": 4.0, "lo": 4.0, "my": 3.5}
_DEFAULT_CHARS_PER_WORD = 2.0  # for an unspaced language missing from the table

_UNITS = ("auto", "chars", "tokens")


def _combining_mark_ranges() -> str:
    """Regex class body of all combining marks (categories Mn, Mc, Me).

    Scans planes 0, 1 and 14 (where every mark lives), once at import (~50 ms).
    """
    ranges: list[str] = []
    start = None
    for cp in [*range(0x20000), *range(0xE0000, 0xE1000), -1]:
        is_mark = cp >= 0 and unicodedata.category(chr(cp)).startswith("M")
        if is_mark and start is None:
            start = cp
        elif not is_mark and start is not None:
            ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(prev))}")
            start = None
        prev = cp
    return "".join(ranges)


# Non-letters: digits and "_", or anything that is neither a word character,
# whitespace nor a combining mark. Python's \w misses combining marks
# (Devanagari vowel signs, Arabic harakat), which belong to their letters.
_NON_LETTER = re.compile(rf"[\d_]|[^\w\s{_combining_mark_ranges()}]")
_WORD = re.compile(r"\w+")
# Runs of ASCII letters/digits inside unspaced text ("iPhone", "2019") are
# words, not characters: counting their characters would make number- and
# name-heavy Chinese lines look several times longer than their sources.
_ASCII_RUN = re.compile(r"[0-9A-Za-z]+")


class Filter(abc.ABC):
    """Base class: a named rule built for one direction."""

    name = ""
    DEFAULTS: dict[str, Any] = {}

    @abc.abstractmethod
    def check(self, src: str, tgt: str) -> str | None:
        """Return a rejection reason for one pair, or None to keep it."""

    def check_batch(self, srcs: Sequence[str], tgts: Sequence[str]) -> list[str | None]:
        """Return one reason-or-None per pair, in order."""
        check = self.check
        return [check(src, tgt) for src, tgt in zip(srcs, tgts)]


def _check_unit(filter_name: str, unit: str) -> str:
    """Validate a ``unit`` parameter; the error names the filter."""
    if unit not in _UNITS:
        raise ValueError(f"{filter_name}.unit: {unit!r} is not one of {', '.join(_UNITS)}")
    return unit


def _check_number(key: str, value: Any, low: float, high: float = math.inf) -> float:
    """Validate a numeric parameter; the error names ``key`` (e.g. "length.max")."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{key}: expected a number in [{low}, {high}], got {value!r}")
    return float(value)


def make_length_counter(lang: str, unit: str, chars_per_word: dict[str, float] | None = None):
    """Return a function giving the length of a ``lang`` line in ``unit``.

    ``tokens``: whitespace tokens. ``chars``: characters other than spaces.
    ``auto``: tokens for spaced languages; for unspaced ones, characters /
    chars-per-word plus one per run of ASCII letters/digits (a float,
    comparable across languages).
    """
    if unit == "tokens":
        return lambda text: len(text.split())
    if unit == "chars":
        return lambda text: len(text) - text.count(" ")
    if not is_unspaced(lang):
        return lambda text: len(text.split())
    overrides = {base_language(code): value for code, value in (chars_per_word or {}).items()}
    table = {**CHARS_PER_WORD, **overrides}
    per_word = table.get(base_language(lang), _DEFAULT_CHARS_PER_WORD)

    def word_equivalents(text: str) -> float:
        runs = _ASCII_RUN.findall(text)
        run_chars = sum(map(len, runs))
        return len(runs) + (len(text) - text.count(" ") - run_chars) / per_word

    return word_equivalents


class LengthFilter(Filter):
    """Reject a side shorter than ``min`` or longer than ``max`` units.

    With ``unit: auto`` an unspaced side's word equivalents are rounded up,
    so a one-character Chinese reply still counts as one word.
    """

    name = "length"
    DEFAULTS = {"min": 1, "max": 200, "unit": "auto"}

    # Parameter names are the config keys, hence min/max shadowing the builtins.
    def __init__(self, src_lang: str, tgt_lang: str, min=1, max=200, unit="auto"):  # noqa: A002
        self.min_length = _check_number("length.min", min, 0)
        self.max_length = _check_number("length.max", max, self.min_length)
        unit = _check_unit("length", unit)
        self.src_length = _rounded_up(make_length_counter(src_lang, unit))
        self.tgt_length = _rounded_up(make_length_counter(tgt_lang, unit))

    def check(self, src: str, tgt: str) -> str | None:
        if not self.min_length <= self.src_length(src) <= self.max_length:
            return "length:src"
        if not self.min_length <= self.tgt_length(tgt) <= self.max_length:
            return "length:tgt"
        return None


def _rounded_up(counter):
    """Wrap a length counter so fractional word equivalents round up to whole units."""
    return lambda text: math.ceil(counter(text))


class LengthRatioFilter(Filter):
    """Reject pairs whose longer side is more than ``max`` times the shorter.

    Lengths are word equivalents with ``unit: auto`` (see module docstring);
    ``chars_per_word`` overrides ``CHARS_PER_WORD`` entries, e.g. ``{zh: 1.4}``.
    A pair with one empty side is rejected; two empty sides are left to the
    length filter.
    """

    name = "length_ratio"
    DEFAULTS = {"max": 3.0, "unit": "auto", "chars_per_word": {}}

    def __init__(self, src_lang: str, tgt_lang: str, max=3.0, unit="auto", chars_per_word=None):  # noqa: A002
        self.max_ratio = _check_number("length_ratio.max", max, 1.0)
        unit = _check_unit("length_ratio", unit)
        chars_per_word = chars_per_word or {}
        if not isinstance(chars_per_word, dict):
            raise ValueError(f"length_ratio.chars_per_word: expected a mapping, got {chars_per_word!r}")
        for lang, value in chars_per_word.items():
            _check_number(f"length_ratio.chars_per_word.{lang}", value, 1e-6)
        self.src_length = make_length_counter(src_lang, unit, chars_per_word)
        self.tgt_length = make_length_counter(tgt_lang, unit, chars_per_word)

    def check(self, src: str, tgt: str) -> str | None:
        src_len, tgt_len = self.src_length(src), self.tgt_length(tgt)
        shorter, longer = min(src_len, tgt_len), max(src_len, tgt_len)
        if shorter == 0:
            return "length_ratio" if longer > 0 else None
        return "length_ratio" if longer > self.max_ratio * shorter else None


def non_alphabetic_share(text: str) -> float:
    """Share of non-space characters that are not letters of any script.

    Letters include combining marks (Devanagari vowel signs, Arabic
    diacritics), which belong to the letters they modify. Digits,
    punctuation and symbols are non-letters. An empty text has share 0.
    """
    total = len(text) - text.count(" ")
    if total == 0:
        return 0.0
    return len(_NON_LETTER.findall(text)) / total


class NonAlphabeticFilter(Filter):
    """Reject a side whose non-letter share exceeds ``max_share`` (digits, punctuation, symbols)."""

    name = "non_alphabetic"
    DEFAULTS = {"max_share": 0.6}

    def __init__(self, src_lang: str, tgt_lang: str, max_share=0.6):
        self.max_share = _check_number("non_alphabetic.max_share", max_share, 0.0, 1.0)

    def check(self, src: str, tgt: str) -> str | None:
        if non_alphabetic_share(src) > self.max_share:
            return "non_alphabetic:src"
        if non_alphabetic_share(tgt) > self.max_share:
            return "non_alphabetic:tgt"
        return None


class CopyFilter(Filter):
    """Reject untranslated pairs: the target copies the source.

    Exact copy: equal after case folding and removing everything but letters
    and digits. Near copy: the share of word tokens (case-folded) the sides
    have in common, relative to the longer side, exceeds ``max_overlap`` —
    catches a partly translated copy while names and numbers alone do not.
    """

    name = "copy"
    DEFAULTS = {"max_overlap": 0.8}

    def __init__(self, src_lang: str, tgt_lang: str, max_overlap=0.8):
        self.max_overlap = _check_number("copy.max_overlap", max_overlap, 0.0, 1.0)

    def check(self, src: str, tgt: str) -> str | None:
        src_words = _WORD.findall(src.casefold())
        tgt_words = _WORD.findall(tgt.casefold())
        if "".join(src_words) == "".join(tgt_words):
            return "copy" if src_words or src == tgt else None
        shared = len(set(src_words) & set(tgt_words))
        if shared > self.max_overlap * max(len(set(src_words)), len(set(tgt_words))):
            return "copy"
        return None


class DuplicateFilter(Filter):
    """Reject a pair identical to one already seen in this corpus (stateful, in order).

    Keeps a 64-bit hash per distinct pair, not the text, to bound memory on
    large corpora; a false "duplicate" needs a hash collision (under 1e-3
    chance in a 100M-pair corpus). The first occurrence is kept. The state
    lives as long as the filter object, so a corpus processed in chunks
    through one filter is deduplicated across chunks.
    """

    name = "duplicate"
    DEFAULTS: dict[str, Any] = {}

    def __init__(self, src_lang: str, tgt_lang: str):
        self.seen: set[int] = set()

    def check(self, src: str, tgt: str) -> str | None:
        key = hash((src, tgt))
        if key in self.seen:
            return "duplicate"
        self.seen.add(key)
        return None


class LanguagePredictor(Protocol):
    """Anything with fastText-like batched prediction (see algharb.demo.lid)."""

    def predict(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]: ...


class LanguageIDFilter(Filter):
    """Reject a side whose predicted language is not its label or is below ``min_prob``.

    The expected label is the side's base language code ("zh_CN" -> "zh")
    unless ``src_label``/``tgt_label`` name the identifier's own label (e.g.
    "zho_Hans" for GlotLID). ``model`` is a fastText model path used when the
    caller passes no identifier. Predictions run in batches of
    ``batch_size`` lines (one fastText call each).
    """

    name = "language_id"
    DEFAULTS = {
        "min_prob": 0.5,
        "src_min_prob": None,
        "tgt_min_prob": None,
        "src_label": None,
        "tgt_label": None,
        "model": None,
        "batch_size": 10000,
    }

    def __init__(
        self,
        src_lang: str,
        tgt_lang: str,
        identifier: LanguagePredictor,
        min_prob=0.5,
        src_min_prob=None,
        tgt_min_prob=None,
        src_label=None,
        tgt_label=None,
        model=None,
        batch_size=10000,
    ):
        self.identifier = identifier
        min_prob = _check_number("language_id.min_prob", min_prob, 0.0, 1.0)
        self.src_min_prob = min_prob if src_min_prob is None else _check_number(
            "language_id.src_min_prob", src_min_prob, 0.0, 1.0
        )
        self.tgt_min_prob = min_prob if tgt_min_prob is None else _check_number(
            "language_id.tgt_min_prob", tgt_min_prob, 0.0, 1.0
        )
        self.src_label = src_label or base_language(src_lang)
        self.tgt_label = tgt_label or base_language(tgt_lang)
        self.batch_size = int(_check_number("language_id.batch_size", batch_size, 1))

    def check(self, src: str, tgt: str) -> str | None:
        return self.check_batch([src], [tgt])[0]

    def check_batch(self, srcs: Sequence[str], tgts: Sequence[str]) -> list[str | None]:
        reasons: list[str | None] = [
            None if ok else "language_id:src" for ok in self._matches(srcs, self.src_label, self.src_min_prob)
        ]
        # Only pairs whose source passed need the (costly) target prediction.
        pending = [i for i, reason in enumerate(reasons) if reason is None]
        tgt_ok = self._matches([tgts[i] for i in pending], self.tgt_label, self.tgt_min_prob)
        for i, ok in zip(pending, tgt_ok):
            if not ok:
                reasons[i] = "language_id:tgt"
        return reasons

    def _matches(self, texts: Sequence[str], label: str, min_prob: float) -> list[bool]:
        """Whether each text is predicted as ``label`` with probability >= ``min_prob``."""
        matches: list[bool] = []
        for start in range(0, len(texts), self.batch_size):
            labels, probs = self.identifier.predict(list(texts[start : start + self.batch_size]))
            matches.extend(lab == label and prob >= min_prob for lab, prob in zip(labels, probs))
        return matches


FILTERS: dict[str, type[Filter]] = {
    cls.name: cls
    for cls in (LengthFilter, LengthRatioFilter, NonAlphabeticFilter, CopyFilter, DuplicateFilter, LanguageIDFilter)
}


def build_filter(
    name: str, params: dict[str, Any], src_lang: str, tgt_lang: str, identifier: LanguagePredictor | None = None
) -> Filter:
    """Build filter ``name`` for one direction; unknown names/keys raise ``ValueError``."""
    if name not in FILTERS:
        raise ValueError(f"unknown filter {name!r}; known filters: {', '.join(FILTERS)}")
    cls = FILTERS[name]
    unknown = sorted(set(params) - set(cls.DEFAULTS))
    if unknown:
        raise ValueError(
            f"filter {name!r}: unknown parameter {unknown[0]!r}; known: {', '.join(cls.DEFAULTS) or 'none'}"
        )
    if cls is LanguageIDFilter:
        if identifier is None:
            raise ValueError("filter 'language_id' needs a language identifier (pass lid= or set model:)")
        return cls(src_lang, tgt_lang, identifier, **params)
    return cls(src_lang, tgt_lang, **params)


def qe_cutoff(scores: np.ndarray, threshold: float | None = None, quantile: float | None = None) -> np.ndarray:
    """Return a boolean mask of the scores to reject.

    ``threshold``: reject scores strictly below it. ``quantile``: reject the
    lowest ``floor(quantile * n)`` scores (ties broken by position, earlier
    first, so exactly that many go). Exactly one of the two must be given;
    scores must be finite.
    """
    scores = np.asarray(scores, dtype=float)
    if (threshold is None) == (quantile is None):
        raise ValueError("qe: give exactly one of threshold or quantile")
    bad = np.flatnonzero(~np.isfinite(scores))
    if bad.size:
        raise ValueError(f"qe: score #{bad[0]} is {scores[bad[0]]}; scores must be finite")
    if threshold is not None:
        return scores < _check_number("qe.threshold", threshold, -math.inf)
    share = _check_number("qe.quantile", quantile, 0.0, 1.0)
    rejected = np.zeros(scores.size, dtype=bool)
    # The epsilon keeps e.g. 0.29 * 100 = 28.999... from flooring to 28.
    rejected[np.argsort(scores, kind="stable")[: math.floor(share * scores.size + 1e-9)]] = True
    return rejected


def qe_rejections(scores, threshold: float | None = None, quantile: float | None = None) -> list[str | None]:
    """The ``qe`` filter: ``"qe"`` for each rejected score, else None (see :func:`qe_cutoff`)."""
    return ["qe" if rejected else None for rejected in qe_cutoff(scores, threshold, quantile)]
