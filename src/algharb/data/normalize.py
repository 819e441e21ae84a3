"""Language-aware text normalisation for raw parallel corpora.

The seed paper's "Normalization: standardizing punctuation, spacing, and
casing". :func:`normalize` applies, in order:

1. **Invisible characters**: control characters (Unicode category Cc) are
   removed, except tab/newline/carriage return and friends, which become a
   space so that the words on either side stay apart. A fixed list of format
   characters (BOM, zero-width space, soft hyphen, bidi controls, see
   ``_INVISIBLE_FORMAT``) is removed. ZWJ/ZWNJ (U+200D/U+200C) are *kept*:
   they change spelling in Persian and Indic scripts and build emoji.
2. **Unicode compatibility forms**: NFKC (ligatures, full-width Latin letters
   and digits, half-width katakana, Arabic presentation forms, no-break
   spaces). For zh/ja, full-width punctuation (``，！？：；（）`` ...) and the
   ellipsis ``…`` are *protected* from NFKC, which would turn them into
   half-width ASCII: full-width punctuation is the correct typography there.
3. **Punctuation** (Latin and Cyrillic scripts only, see ``PUNCTUATION_TABLE``):
   curly quotes fold to ASCII quotes, hyphen/minus variants to ``-``,
   horizontal bar to an em dash, ``…`` to ``...``. Guillemets ``« »`` are kept:
   they are unambiguous and the standard quotes of ru/uk.
4. **Whitespace**: runs of whitespace become one space; ends are stripped.
   No space is ever inserted, so zh/ja text is never "tokenised".
5. **Casing** (only with ``fix_casing=True``, cased scripts only): a line
   whose cased letters are all upper case and which has at least two words
   with letters is shouting, not an acronym; it is lower-cased and its first
   letter is re-capitalised (sentence case).

Not done on purpose: converting ASCII punctuation inside zh/ja text to
full-width, or removing spaces between CJK characters (both change text that
may be correct and need a tokenizer to do safely).

Languages are given as codes such as ``en``, ``zh_CN``, ``sr_Cyrl_RS`` or
``pt-BR``; the base code (and an explicit script subtag) selects the script
from ``LANGUAGE_SCRIPTS``. An unknown language is an error, so that a typo in
a config never silently selects the wrong rules.
"""

from __future__ import annotations

import re
import unicodedata

# ISO 15924 script of each supported language (base code). Extend here.
LANGUAGE_SCRIPTS: dict[str, str] = {
    **dict.fromkeys(
        "en de fr es it pt nl cs sk pl et fi is hu ro hr sl bs lv lt sv da no nb nn "
        "tr az id ms vi sw mas ca gl eu ga cy mt sq af ha yo".split(),
        "Latn",
    ),
    **dict.fromkeys("ru uk be bg mk sr kk ky mn tg".split(), "Cyrl"),
    "el": "Grek",
    "hy": "Armn",
    "ka": "Geor",
    # qaa/qab: ISO 639 private-use codes, here the demo world's invented
    # Latin-script languages (algharb.demo.world).
    "qaa": "Latn",
    "qab": "Latn",
    **dict.fromkeys("ar arz ary apc acm fa ur ps ckb".split(), "Arab"),
    **dict.fromkeys("he yi".split(), "Hebr"),
    **dict.fromkeys("hi mr ne bho mai sa".split(), "Deva"),
    "bn": "Beng",
    "gu": "Gujr",
    "pa": "Guru",
    "ta": "Taml",
    "te": "Telu",
    "kn": "Knda",
    "ml": "Mlym",
    "si": "Sinh",
    "th": "Thai",
    "km": "Khmr",
    "lo": "Laoo",
    "my": "Mymr",
    "am": "Ethi",
    "zh": "Hans",
    "ja": "Jpan",
    "ko": "Kore",
}

# Scripts with upper/lower case: the only ones where the casing fix applies.
CASED_SCRIPTS = frozenset({"Latn", "Cyrl", "Grek", "Armn"})

# Scripts whose punctuation is folded by PUNCTUATION_TABLE.
PUNCTUATION_SCRIPTS = frozenset({"Latn", "Cyrl"})

# Scripts written without spaces between words: lengths are counted in
# characters for them (used by the length filters).
UNSPACED_SCRIPTS = frozenset({"Hans", "Hant", "Jpan", "Kore", "Thai", "Khmr", "Laoo", "Mymr"})

# Script subtags accepted in a language code, e.g. "sr_Latn", "zh-Hant".
_SCRIPT_SUBTAGS = {script.lower(): script for script in set(LANGUAGE_SCRIPTS.values()) | {"Hant"}}

# Format characters (Cf) that carry no text: byte-order mark / zero-width
# no-break space, zero-width space, soft hyphen, word joiner and invisible
# operators, bidi marks/embeddings/isolates, interlinear annotation marks.
_INVISIBLE_FORMAT = (
    "\u00ad\u061c\u180e\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff\ufff9\ufffa\ufffb"
)

# Control characters that separate words become a space; the others vanish.
_SPACING_CONTROLS = "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85"
_CONTROL_TABLE: dict[int, str | None] = {
    **{cp: None for cp in [*range(0x00, 0x20), *range(0x7F, 0xA0)]},
    **{ord(ch): " " for ch in _SPACING_CONTROLS},
    **{ord(ch): None for ch in _INVISIBLE_FORMAT},
}

# Characters NFKC must not touch in zh/ja: full-width ASCII punctuation and
# symbols (U+FF01-FF0F, FF1A-FF20, FF3B-FF40, FF5B-FF60) and the ellipses.
_CJK_PROTECTED_RUNS = re.compile("([\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff60\u2025\u2026]+)")
_CJK_FULLWIDTH_PUNCTUATION_LANGUAGES = frozenset({"zh", "ja"})

# Punctuation folding for Latin and Cyrillic scripts (applied after NFKC,
# which already maps the ellipsis to "..." and no-break spaces to spaces).
PUNCTUATION_TABLE: dict[str, str] = {
    "\u201c": '"',  # “ left double quotation mark
    "\u201d": '"',  # ” right double quotation mark
    "\u201e": '"',  # „ double low-9 quotation mark (cs, de, et, uk)
    "\u201f": '"',  # ‟ double high-reversed-9 quotation mark
    "\u2033": '"',  # ″ double prime, often typed for a quote
    "\u2018": "'",  # ‘ left single quotation mark
    "\u2019": "'",  # ’ right single quotation mark / apostrophe
    "\u201a": "'",  # ‚ single low-9 quotation mark
    "\u201b": "'",  # ‛ single high-reversed-9 quotation mark
    "\u2032": "'",  # ′ prime, often typed for an apostrophe
    "\u02bc": "'",  # ʼ modifier letter apostrophe (uk)
    "\u00b4": "'",  # ´ acute accent typed as an apostrophe
    "\u2010": "-",  # ‐ hyphen
    "\u2011": "-",  # ‑ non-breaking hyphen
    "\u2012": "-",  # ‒ figure dash
    "\u2212": "-",  # − minus sign
    "\ufe63": "-",  # ﹣ small hyphen-minus
    "\u2015": "\u2014",  # ― horizontal bar -> — em dash
    "\u2026": "...",  # … ellipsis (in case NFKC was skipped for ASCII-only text)
}
_PUNCTUATION_TRANSLATION = str.maketrans(PUNCTUATION_TABLE)

# str.translate with a dict table costs microseconds per line even when
# nothing changes; a regex search first skips it for the common clean line.
_HAS_CONTROL = re.compile("[" + re.escape("".join(map(chr, _CONTROL_TABLE))) + "]")
_HAS_FOLDABLE_PUNCTUATION = re.compile("[" + re.escape("".join(PUNCTUATION_TABLE)) + "]")


def base_language(lang: str) -> str:
    """Return the lower-case base code of ``lang`` ("zh_CN" -> "zh", "sr-Cyrl" -> "sr")."""
    return re.split(r"[_-]", lang.strip(), maxsplit=1)[0].lower()


def language_script(lang: str) -> str:
    """Return the ISO 15924 script of language code ``lang``.

    An explicit script subtag wins ("sr_Latn" -> "Latn"); otherwise the
    base code is looked up in ``LANGUAGE_SCRIPTS``. Unknown codes raise.
    """
    for subtag in re.split(r"[_-]", lang.strip())[1:]:
        if subtag.lower() in _SCRIPT_SUBTAGS:
            return _SCRIPT_SUBTAGS[subtag.lower()]
    base = base_language(lang)
    if base not in LANGUAGE_SCRIPTS:
        raise ValueError(
            f"unknown language {lang!r}: add its script to LANGUAGE_SCRIPTS in algharb.data.normalize"
        )
    return LANGUAGE_SCRIPTS[base]


def is_unspaced(lang: str) -> bool:
    """True for languages written without spaces between words (zh, ja, ko, th, ...)."""
    return language_script(lang) in UNSPACED_SCRIPTS


def normalize(text: str, lang: str, fix_casing: bool = False) -> str:
    """Normalise one line of ``lang`` text (see the module docstring for the steps)."""
    return normalizer(lang, fix_casing)(text)


def normalizer(lang: str, fix_casing: bool = False):
    """Return a one-argument normalising function for ``lang``.

    The language's rules are resolved once, so use this for whole corpora
    rather than calling :func:`normalize` per line.
    """
    script = language_script(lang)
    base = base_language(lang)
    fold_punctuation = script in PUNCTUATION_SCRIPTS
    fix_case = fix_casing and script in CASED_SCRIPTS

    def normalize_line(text: str) -> str:
        if _HAS_CONTROL.search(text):
            text = text.translate(_CONTROL_TABLE)
        if not text.isascii():
            text = _compatibility_normalize(text, base)
            if fold_punctuation and _HAS_FOLDABLE_PUNCTUATION.search(text):
                text = text.translate(_PUNCTUATION_TRANSLATION)
        text = " ".join(text.split())
        return fix_all_caps(text) if fix_case else text

    return normalize_line


def _compatibility_normalize(text: str, base: str) -> str:
    """NFKC, except full-width punctuation and ellipses in zh/ja text."""
    if base not in _CJK_FULLWIDTH_PUNCTUATION_LANGUAGES:
        return unicodedata.normalize("NFKC", text)
    # split() with a capture group alternates unprotected / protected pieces;
    # protected characters are never combining, so splitting there is safe.
    pieces = _CJK_PROTECTED_RUNS.split(text)
    pieces[::2] = [unicodedata.normalize("NFKC", piece) for piece in pieces[::2]]
    return "".join(pieces)


def fix_all_caps(text: str) -> str:
    """Turn an ALL CAPS line of two or more words into sentence case.

    A single upper-case token ("NATO", "OK") is left alone: it is usually an
    acronym or a name, not shouting.
    """
    if not text.isupper():
        return text
    if sum(1 for word in text.split() if any(ch.isalpha() for ch in word)) < 2:
        return text
    lowered = text.lower()
    for position, ch in enumerate(lowered):
        if ch.isalpha():
            return lowered[:position] + ch.upper() + lowered[position + 1 :]
    return lowered
