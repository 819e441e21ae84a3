"""Read raw parallel corpora in the formats WMT data comes in.

A corpus is described by a *spec*, the dict found in the workflow config under
``data.corpora.<pair>`` / ``data.test.<pair>``; ``format`` (default ``auto``,
inferred from the keys and from the file suffixes once ``.gz``/``.xz`` is
stripped) selects the reader:

=============  ====================================================  ==========================
format         keys (optional ones with their default)               ``RawPair.line`` is
=============  ====================================================  ==========================
``text``       ``src``, ``tgt``: two line-aligned plain files        the line number
``tsv``        ``tsv``; ``src_col: 0``, ``tgt_col: 1``               the line number
``sgm``        ``src``, ``tgt``: WMT SGML (``*.sgm``) files          the 1-based segment index
``xml``        ``xml``; ``translator: null``, ``reference: true``    the 1-based segment index
``wmt-jsonl``  ``jsonl``; ``doc_prefix: ""``, ``reference: null``,   the line number, or the
               ``segment: document``                                 segment number (paragraphs)
=============  ====================================================  ==========================

``wmt-jsonl`` with ``segment: paragraph`` cuts each document into its
paragraphs, one pair each (test sets; :mod:`algharb.data.wmt`, which also
writes the segment map that rebuilds WMT submission files).

Every reader streams (:func:`iter_raw_pairs`) so that a corpus of a hundred
million pairs can be sharded without holding it in memory; :func:`read_corpus`
collects a stream into a :class:`ParallelCorpus`. Files may be plain, gzip
(``.gz``) or xz (``.xz``) compressed, chosen by suffix.

Every pair keeps the 1-based number it had in the raw input, so each later
decision can be traced back to it. **Malformed lines** are dropped and counted,
never fatal one by one: a line or segment that is not valid UTF-8 (on either
side; reason ``invalid_utf8``) and a TSV row with fewer columns than
``src_col``/``tgt_col`` need (reason ``too_few_columns``) drop their pair —
both sides, so the corpus stays aligned — and their raw number is recorded with
the reason (:attr:`ParallelCorpus.malformed_lines`); the cleaning stage turns
them into rejected rows of the decision table, so the funnel counts them, and
fails when their share passes ``clean.max_malformed_share``
(:func:`algharb.data.shards.write_shards`). An input where *no* pair is usable
is an error (for invalid UTF-8: the wrong encoding). A file that is broken as
a whole — malformed XML or JSON, differing line counts — stays an error naming
the file and the line.
"""

from __future__ import annotations

import codecs
import gzip
import html
import json
import logging
import lzma
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import Any, BinaryIO, Iterator, NamedTuple

from algharb.registry import Registry

log = logging.getLogger(__name__)

_BOM = "\ufeff"
_BOM_BYTES = _BOM.encode("utf-8")
DEFAULT_WHERE = "corpus spec"
COMPRESSED_SUFFIXES = (".gz", ".xz")

# Why a malformed line was dropped: the reasons of its rejected row, and the
# shard manifest's count columns (in this order).
INVALID_UTF8 = "invalid_utf8"
TOO_FEW_COLUMNS = "too_few_columns"
MALFORMED_REASONS = (INVALID_UTF8, TOO_FEW_COLUMNS)

# Bytes that are not UTF-8 decode to this noncharacter (one per bad run) in
# the formats parsed as a whole (XML, JSON), so the parser still sees
# well-formed text and the damaged *segment* alone can be dropped afterwards.
# U+10FFFE never occurs in real text, yet XML allows it in character data.
_INVALID = "\U0010FFFE"
_MARK_INVALID = "algharb-mark-invalid-utf8"
codecs.register_error(_MARK_INVALID, lambda err: (_INVALID, err.end))


@dataclass
class ParallelCorpus:
    """Aligned source/target lines with their original 1-based line numbers.

    ``src[i]``, ``tgt[i]`` and ``line_numbers[i]`` describe one pair; the
    columns are kept as separate lists (not pair objects) so later stages can
    work on whole columns. ``malformed_lines`` maps the raw line number of
    each dropped malformed line to its reason (one of
    :data:`MALFORMED_REASONS`), in file order.
    """

    src: list[str]
    tgt: list[str]
    line_numbers: list[int]
    malformed_lines: dict[int, str] = field(default_factory=dict)
    origin: str = ""

    def __post_init__(self) -> None:
        if not len(self.src) == len(self.tgt) == len(self.line_numbers):
            raise ValueError(
                f"{self.origin or 'corpus'}: {len(self.src)} source lines, {len(self.tgt)} target "
                f"lines and {len(self.line_numbers)} line numbers; they must be equal"
            )

    def __len__(self) -> int:
        return len(self.src)

    @property
    def invalid_utf8_lines(self) -> list[int]:
        """The raw numbers of the lines dropped because a side was not valid UTF-8."""
        return [line for line, reason in self.malformed_lines.items() if reason == INVALID_UTF8]

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """The (source, target) pairs, in file order."""
        return list(zip(self.src, self.tgt))

    @classmethod
    def from_pairs(cls, pairs, origin: str = "") -> "ParallelCorpus":
        """Build a corpus from (source, target) pairs, numbering lines from 1."""
        pairs = list(pairs)
        return cls(
            src=[src for src, _ in pairs],
            tgt=[tgt for _, tgt in pairs],
            line_numbers=list(range(1, len(pairs) + 1)),
            origin=origin,
        )


class RawPair(NamedTuple):
    """One pair of a raw stream, before any cleaning.

    ``line`` is the pair's 1-based line (or segment) number in the input.
    ``None`` on a side means the line is malformed: the pair is to be dropped
    and its number counted with :attr:`drop_reason`, as :func:`read_corpus`
    does. ``reason`` says why; it is left empty for a side that was not valid
    UTF-8 (the one reason every reader has), so the hot loops build no string.
    """

    line: int
    src: str | None
    tgt: str | None
    reason: str = ""

    @property
    def valid(self) -> bool:
        """Whether the line is a usable pair (both sides there)."""
        return self.src is not None and self.tgt is not None

    @property
    def drop_reason(self) -> str:
        """Why the pair is dropped: "" for a valid pair, else its reason (default ``invalid_utf8``)."""
        return "" if self.valid else self.reason or INVALID_UTF8


# --------------------------------------------------------------------------
# Public entry points: a spec in, a stream or a corpus out.


def read_corpus(spec: Mapping, where: str = DEFAULT_WHERE) -> ParallelCorpus:
    """Read the corpus a spec describes into a :class:`ParallelCorpus`.

    ``where`` names the spec in error messages (e.g. ``data.corpora.en-de``).
    Malformed lines are left out and their numbers recorded with their
    reasons in ``malformed_lines``.
    """
    pairs = iter_raw_pairs(spec, where)
    return _collect(pairs, origin=" / ".join(spec_paths(spec, where)))


def iter_raw_pairs(spec: Mapping, where: str = DEFAULT_WHERE) -> Iterator[RawPair]:
    """Stream the pairs of the corpus a spec describes, malformed lines included (``None`` sides).

    The spec is checked now (``ValueError`` naming ``where`` and the key);
    the files are read lazily. Errors about the whole input (empty input,
    differing line or segment counts, no usable line at all) can only be known
    at the end, so they are raised when the stream is exhausted — after the
    pairs read so far were yielded; a consumer writing shards should write
    them atomically.
    """
    spec = normalize_spec(spec, where)
    return FORMATS.get(spec["format"]).read(spec)


def spec_paths(spec: Mapping, where: str = DEFAULT_WHERE) -> list[str]:
    """The input files a spec reads, in a fixed order (source first): the workflow's rule inputs."""
    spec = normalize_spec(spec, where)
    return [str(spec[key]) for key in FORMATS.get(spec["format"]).path_keys]


def normalize_spec(spec: Mapping, where: str = DEFAULT_WHERE) -> dict:
    """Check a spec and return it with an explicit ``format`` and every option's default filled in.

    Raises ``ValueError`` naming ``where`` for an unknown format, an unknown
    or missing key, or an option of the wrong type.
    """
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where}: expected a mapping such as {{src: ..., tgt: ...}}, got {type(spec).__name__}")
    name = spec.get("format", "auto")
    if name == "auto":
        name = _infer_format(spec, where)
    elif not isinstance(name, str) or name not in FORMATS:
        raise ValueError(f"{where}: unknown format {name!r} (known: auto, {', '.join(FORMATS.names())})")
    fmt = FORMATS.get(name)
    _check_keys(spec, name, fmt, where)
    normal = {"format": name, **{key: spec[key] for key in fmt.path_keys}}
    for key, option in fmt.options.items():
        normal[key] = spec.get(key, option.default)
        if not option.accepts(normal[key]):
            raise ValueError(f"{where}: '{key}' must be {option.expected}, got {normal[key]!r}")
    if name == "xml" and normal["translator"] is not None and not normal["reference"]:
        raise ValueError(f"{where}: 'translator' is set but 'reference' is false")
    return normal


# --------------------------------------------------------------------------
# Spec checking.


@dataclass(frozen=True)
class _Option:
    default: Any
    accepts: Callable[[Any], bool]
    expected: str  # for the error message


@dataclass(frozen=True)
class CorpusFormat:
    """One entry of :data:`FORMATS`: the spec keys naming its input files, its options, and its reader."""

    path_keys: tuple[str, ...]  # required keys naming input files
    options: dict[str, _Option]
    read: Callable[[dict], Iterator[RawPair]]  # a normalised spec → its stream of pairs


# Format name (a spec's ``format``) → CorpusFormat; entries are registered
# below, after their readers.
FORMATS: Registry[CorpusFormat] = Registry("corpus format")


def _is_column_index(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0  # YAML `true` is an int to Python


def _column(default: int) -> _Option:
    return _Option(default, _is_column_index, "a column index >= 0")


def _infer_format(spec: Mapping, where: str) -> str:
    """``format: auto``: the format named by the file keys (src/tgt → text or sgm by suffix)."""
    # A format read from one file is named by that file's key (tsv, xml, jsonl).
    candidates = [name for name in FORMATS if len(FORMATS.get(name).path_keys) == 1
                  and FORMATS.get(name).path_keys[0] in spec]
    if "src" in spec or "tgt" in spec:
        candidates.append(_text_or_sgm(spec, where))
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ValueError(
            f"{where}: cannot infer the format from keys {', '.join(map(repr, spec)) or '(none)'}: "
            "expected src+tgt, tsv, xml or jsonl (or set 'format')"
        )
    raise ValueError(f"{where}: keys of several formats ({', '.join(candidates)}); keep one or set 'format'")


def _text_or_sgm(spec: Mapping, where: str) -> str:
    is_sgm = {plain_suffix(spec[key]) == ".sgm" for key in ("src", "tgt") if _is_path(spec.get(key))}
    if is_sgm == {True, False}:
        raise ValueError(f"{where}: one of 'src'/'tgt' is a .sgm file and the other is not; set 'format'")
    return "sgm" if is_sgm == {True} else "text"


def _check_keys(spec: Mapping, name: str, fmt: CorpusFormat, where: str) -> None:
    known = [*fmt.path_keys, *fmt.options, "format"]
    for key in spec:
        if key not in known:
            raise ValueError(f"{where}: unknown key {key!r} (known: {', '.join(known)})")
    for key in fmt.path_keys:
        if key not in spec:
            raise ValueError(f"{where}: missing key {key!r} (format '{name}' needs: {', '.join(fmt.path_keys)})")
        if not _is_path(spec[key]) or not str(spec[key]):
            raise ValueError(f"{where}: '{key}' must be a file path, got {spec[key]!r}")


def _is_path(value) -> bool:
    return isinstance(value, (str, os.PathLike))


def plain_suffix(path: str | os.PathLike) -> str:
    """The lower-case suffix of ``path`` once a ``.gz``/``.xz`` suffix is stripped (``a.sgm.gz`` → ``.sgm``)."""
    path = Path(path)
    if path.suffix.lower() in COMPRESSED_SUFFIXES:
        path = path.with_suffix("")
    return path.suffix.lower()


# --------------------------------------------------------------------------
# Raw bytes.


def open_binary(path: str | os.PathLike) -> BinaryIO:
    """Open ``path`` for binary reading, decompressing ``.gz``/``.xz`` by suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return gzip.open(path, "rb")
    if suffix == ".xz":
        return lzma.open(path, "rb")
    return open(path, "rb")


def _raw_lines(path: str | os.PathLike) -> Iterator[bytes]:
    """Yield the lines of ``path`` as bytes without their line ending or a leading UTF-8 BOM.

    Splits on b"\\n" only (not on the Unicode line separators that
    ``str.splitlines`` would honour), so line numbers match ``wc -l``.
    Decompression errors become a ``ValueError`` naming the file.
    """
    try:
        with open_binary(path) as handle:
            first = handle.readline()  # the BOM is checked once here, not on every line
            if first:
                yield first.removeprefix(_BOM_BYTES).rstrip(b"\r\n")
            for raw in handle:
                yield raw.rstrip(b"\r\n")
    except (OSError, EOFError, lzma.LZMAError) as err:
        if isinstance(err, FileNotFoundError):
            raise FileNotFoundError(f"{path}: no such file") from None
        raise ValueError(f"{path}: cannot read ({err})") from None


def _decode(raw: bytes) -> str | None:
    """Decode UTF-8; None if invalid."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _decode_marking_invalid(raw: bytes) -> str:
    """Decode UTF-8, turning each invalid byte run into the ``_INVALID`` marker."""
    return raw.decode("utf-8", _MARK_INVALID)


_LINE_BREAK = re.compile(r"\s*[\r\n]+\s*")


def _segment_text(text: str) -> str | None:
    """A segment as one line: None if it held invalid UTF-8; line breaks become spaces, ends stripped.

    A line break inside a segment would misalign the line-per-pair files
    written downstream, so it is folded like the whitespace around it.
    """
    if _INVALID in text:
        return None
    return _LINE_BREAK.sub(" ", text).strip()


# --------------------------------------------------------------------------
# Streams shared by the readers.


_MISSING = object()  # zip_longest filler: a decoded side may itself be None


def _zip_aligned(src_items: Iterable, tgt_items: Iterable, src_path, tgt_path, unit: str,
                 empty: str) -> Iterator[tuple[int, Any, Any]]:
    """Yield ``(number, src_item, tgt_item)`` from two files that must have as many items.

    Counting goes on past the shorter file so the error can name both real
    counts; it is raised at the end, as is ``empty`` (formatted with the
    path) for a file with no item.
    """
    counts = [0, 0]
    for number, (src, tgt) in enumerate(zip_longest(src_items, tgt_items, fillvalue=_MISSING), 1):
        counts[0] += src is not _MISSING
        counts[1] += tgt is not _MISSING
        if src is not _MISSING and tgt is not _MISSING:
            yield number, src, tgt
    _check_counts(src_path, counts[0], tgt_path, counts[1], unit, empty)


def _check_counts(src_path, src_count: int, tgt_path, tgt_count: int, unit: str, empty: str) -> None:
    """Fail on a side without items (``empty`` names its path) or on differing counts, naming both."""
    for path, count in ((src_path, src_count), (tgt_path, tgt_count)):
        if count == 0:
            raise ValueError(empty.format(path=path))
    if src_count != tgt_count:
        raise ValueError(
            f"{unit[:-1]} counts differ: {src_path} has {src_count} {unit}, {tgt_path} has {tgt_count} {unit}"
        )


def _require_some_valid(pairs: Iterable[RawPair], origin: str, unit: str) -> Iterator[RawPair]:
    """Pass a stream through; at its end, fail if every pair was malformed."""
    total = 0
    dropped: dict[str, int] = {}  # reason → count
    for total, pair in enumerate(pairs, 1):
        if pair.src is None or pair.tgt is None:
            dropped[pair.drop_reason] = dropped.get(pair.drop_reason, 0) + 1
        yield pair
    _check_some_valid(dropped, total, origin, unit)


def _check_some_valid(dropped: Mapping[str, int], total: int, origin: str, unit: str) -> None:
    """An input where every pair was dropped is read wrongly: say how (all invalid UTF-8: another encoding)."""
    if not total or sum(dropped.values()) < total:
        return
    if dropped.get(INVALID_UTF8) == total:
        raise ValueError(f"{origin}: none of the {total} {unit} is valid UTF-8 (is the file in another encoding?)")
    counts = ", ".join(f"{count} {reason}" for reason, count in dropped.items())
    raise ValueError(f"{origin}: none of the {total} {unit} is usable ({counts})")


def _collect(pairs: Iterable[RawPair], origin: str) -> ParallelCorpus:
    """Gather a stream into a corpus, recording the malformed lines with their reasons."""
    src, tgt, numbers, malformed = [], [], [], {}
    for number, src_text, tgt_text, reason in pairs:  # a hot loop: plain list appends, no helper calls
        if src_text is None or tgt_text is None:
            malformed[number] = reason or INVALID_UTF8
        else:
            src.append(src_text)
            tgt.append(tgt_text)
            numbers.append(number)
    return ParallelCorpus(src, tgt, numbers, malformed, origin=origin)


# --------------------------------------------------------------------------
# text: two line-aligned files.


def iter_text_pairs(src_path: str | os.PathLike, tgt_path: str | os.PathLike) -> Iterator[RawPair]:
    """Stream two line-aligned files; raises at the end on empty files, differing line counts or no valid line.

    The hot path of ingestion (training corpora of 10^8 lines), so one loop
    does what :func:`_zip_aligned` and :func:`_require_some_valid` do for the
    other formats.
    """
    aligned = src_extra = tgt_extra = invalid = 0
    for src_raw, tgt_raw in zip_longest(_raw_lines(src_path), _raw_lines(tgt_path)):
        if tgt_raw is None:  # past the end of the shorter file: count on for the error message
            src_extra += 1
        elif src_raw is None:
            tgt_extra += 1
        else:
            aligned += 1
            src, tgt = _decode(src_raw), _decode(tgt_raw)
            if src is None or tgt is None:
                invalid += 1
            yield RawPair(aligned, src, tgt)
    _check_counts(src_path, aligned + src_extra, tgt_path, aligned + tgt_extra, "lines",
                  empty="{path}: file is empty (no lines)")
    _check_some_valid({INVALID_UTF8: invalid}, aligned, f"{src_path} / {tgt_path}", "lines")


def read_parallel(src_path: str | os.PathLike, tgt_path: str | os.PathLike) -> ParallelCorpus:
    """Read two line-aligned files into a :class:`ParallelCorpus`.

    Raises ``ValueError`` if either file has no lines, if their line counts
    differ (naming both files and both counts), or if no line decodes.
    Lines that are not valid UTF-8 are dropped and counted (``malformed_lines``).
    """
    return _collect(iter_text_pairs(src_path, tgt_path), origin=f"{src_path} / {tgt_path}")


# --------------------------------------------------------------------------
# tsv: one tab-separated file.


def iter_tsv_pairs(path: str | os.PathLike, src_col: int = 0, tgt_col: int = 1) -> Iterator[RawPair]:
    """Stream the ``src_col``/``tgt_col`` columns of a tab-separated file (see :func:`read_tsv`)."""
    if min(src_col, tgt_col) < 0 or src_col == tgt_col:
        raise ValueError(f"{path}: src_col={src_col} and tgt_col={tgt_col} must be distinct and >= 0")
    return _require_some_valid(_tsv_pairs(path, src_col, tgt_col), str(path), "lines")


def _tsv_pairs(path, src_col: int, tgt_col: int) -> Iterator[RawPair]:
    needed = max(src_col, tgt_col) + 1
    line_no = 0
    for line_no, raw in enumerate(_raw_lines(path), 1):
        fields = raw.split(b"\t")
        if len(fields) < needed:  # one bad row in 10^8 is noise, not a broken file: drop and count it
            yield RawPair(line_no, None, None, TOO_FEW_COLUMNS)
        else:
            yield RawPair(line_no, _decode(fields[src_col]), _decode(fields[tgt_col]))
    if line_no == 0:
        raise ValueError(f"{path}: file is empty (no lines)")


def read_tsv(path: str | os.PathLike, src_col: int = 0, tgt_col: int = 1) -> ParallelCorpus:
    """Read a tab-separated file whose columns ``src_col``/``tgt_col`` hold the pair.

    Fields are split on tabs only, without CSV quoting (quotes are text in
    parallel corpora). Malformed rows are dropped and counted, not fatal: a
    row with fewer than ``max(src_col, tgt_col) + 1`` columns (reason
    ``too_few_columns``) and a row whose pair is not valid UTF-8 (reason
    ``invalid_utf8``) are left out and recorded, with their raw line number,
    in ``malformed_lines``. An empty file and a file with no usable row
    raise ``ValueError`` naming the file.
    """
    return _collect(iter_tsv_pairs(path, src_col, tgt_col), origin=str(path))


# --------------------------------------------------------------------------
# sgm: WMT SGML test sets (newstest up to 2020), one file per side.

# WMT SGML is not XML (bare '&' and HTML entities occur), so it is read the
# way sacrebleu does: one <seg> per line, matched on bytes.
_SGM_SEG = re.compile(rb"<seg\b([^>]*)>(.*?)</seg\s*>", re.IGNORECASE)
_SGM_SEG_OPEN = re.compile(rb"<seg\b", re.IGNORECASE)
_SGM_SEG_ID = re.compile(rb"""\bid\s*=\s*["']?([^"'\s>]*)""", re.IGNORECASE)


def iter_sgm_pairs(src_path: str | os.PathLike, tgt_path: str | os.PathLike) -> Iterator[RawPair]:
    """Stream the segments of two WMT SGML files, paired in order; ``line`` is the segment index.

    Entities are unescaped. Both files must have as many segments, with the
    same ``id`` at each position (ids restart in every ``<doc>``).
    """
    empty = "{path}: no <seg> segments (is the file empty, or not WMT SGML?)"
    aligned = _zip_aligned(_sgm_segments(src_path), _sgm_segments(tgt_path), src_path, tgt_path,
                           unit="segments", empty=empty)
    return _require_some_valid(_sgm_pairs(aligned, src_path, tgt_path), f"{src_path} / {tgt_path}", "segments")


def _sgm_pairs(aligned, src_path, tgt_path) -> Iterator[RawPair]:
    for number, (src_id, src), (tgt_id, tgt) in aligned:
        if src_id != tgt_id:
            raise ValueError(
                f"segment {number}: {src_path} has <seg id=\"{src_id}\"> but {tgt_path} has "
                f"<seg id=\"{tgt_id}\">; the files are not aligned"
            )
        yield RawPair(number, src, tgt)


def _sgm_segments(path) -> Iterator[tuple[str, str | None]]:
    """Yield ``(seg id, text or None if not UTF-8)`` for every ``<seg>`` of an SGML file."""
    for line_no, raw in enumerate(_raw_lines(path), 1):
        segments = _SGM_SEG.findall(raw)
        if len(segments) != len(_SGM_SEG_OPEN.findall(raw)):
            raise ValueError(f"{path}:{line_no}: a <seg> is not closed on its line (WMT SGML has one per line)")
        for attributes, text in segments:
            yield _sgm_seg_id(attributes), _sgm_text(text)


def _sgm_seg_id(attributes: bytes) -> str:
    match = _SGM_SEG_ID.search(attributes)
    return match.group(1).decode("ascii", "replace") if match else ""


def _sgm_text(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return _segment_text(html.unescape(text))


# --------------------------------------------------------------------------
# xml: the WMT21+ test-set format, sources and references in one file.


def iter_xml_pairs(path: str | os.PathLike, translator: str | None = None,
                   reference: bool = True) -> Iterator[RawPair]:
    """Stream the segments of a WMT XML test set; ``line`` is the segment index in the file.

    Each ``<doc>`` pairs its ``<src>`` segments with those of one ``<ref>``:
    the one whose ``translator`` attribute is ``translator``, or the first.
    With ``reference=False`` (blind test sets) the target is ``""``.
    """
    return _require_some_valid(_xml_pairs(path, translator, reference), str(path), "segments")


def _xml_pairs(path, translator: str | None, reference: bool) -> Iterator[RawPair]:
    number = docs = 0
    for doc in _xml_docs(path):
        docs += 1
        for src, tgt in _doc_pairs(path, doc, translator, reference):
            number += 1
            yield RawPair(number, src, tgt)
        doc.clear()  # a finished document is not needed again: keep memory flat
    if number == 0:
        raise ValueError(f"{path}: no segments in {docs} <doc> element(s) (is it a WMT XML test set?)")


def _xml_docs(path) -> Iterator[ET.Element]:
    """Yield each ``<doc>`` element once it is complete; malformed XML names the file and position."""
    parser = ET.XMLPullParser(events=("end",))
    fed = False
    try:
        for raw in _raw_lines(path):
            fed = True
            parser.feed(_as_valid_utf8(raw) + b"\n")
            yield from _completed_docs(parser)
        if not fed:
            raise ValueError(f"{path}: file is empty (no lines)")
        parser.close()
        yield from _completed_docs(parser)
    except ET.ParseError as err:
        raise ValueError(f"{path}: not well-formed XML ({err})") from None


def _as_valid_utf8(raw: bytes) -> bytes:
    """The line itself if it is UTF-8, else re-encoded with invalid runs marked (expat rejects them)."""
    try:
        raw.decode("utf-8")
        return raw
    except UnicodeDecodeError:
        return _decode_marking_invalid(raw).encode("utf-8")


def _completed_docs(parser: ET.XMLPullParser) -> Iterator[ET.Element]:
    for _event, element in parser.read_events():
        if element.tag == "doc":
            yield element


def _doc_pairs(path, doc: ET.Element, translator: str | None, reference: bool) -> list[tuple]:
    """The (src, tgt) texts of one document; its src and chosen ref must have the same segment ids."""
    doc_id = doc.get("id", "?")
    src = doc.find("src")
    if src is None:
        raise ValueError(f"{path}: doc '{doc_id}' has no <src>")
    sources = _xml_segments(src)
    if not reference:
        return [(text, "") for _seg_id, text in sources]
    targets = _xml_segments(_pick_ref(path, doc, doc_id, translator))
    src_ids, ref_ids = [seg_id for seg_id, _ in sources], [seg_id for seg_id, _ in targets]
    if src_ids != ref_ids:
        raise ValueError(
            f"{path}: doc '{doc_id}': <src> has {len(src_ids)} segments (ids {_ids(src_ids)}) but its "
            f"<ref> has {len(ref_ids)} (ids {_ids(ref_ids)}); they must pair one to one"
        )
    return [(src_text, tgt_text) for (_, src_text), (_, tgt_text) in zip(sources, targets)]


def _pick_ref(path, doc: ET.Element, doc_id: str, translator: str | None) -> ET.Element:
    refs = doc.findall("ref")
    if not refs:
        raise ValueError(f"{path}: doc '{doc_id}' has no <ref> (a blind test set needs 'reference: false')")
    if translator is None:
        return refs[0]
    for ref in refs:
        if ref.get("translator") == translator:
            return ref
    available = ", ".join(repr(ref.get("translator")) for ref in refs)
    raise ValueError(f"{path}: doc '{doc_id}' has no <ref translator=\"{translator}\"> (it has: {available})")


def _xml_segments(element: ET.Element) -> list[tuple[str | None, str | None]]:
    """``(seg id, text or None if not UTF-8)`` for every ``<seg>`` under ``element``, in order."""
    return [(seg.get("id"), _segment_text("".join(seg.itertext()))) for seg in element.iter("seg")]


def _ids(ids: list) -> str:
    shown = ", ".join(map(str, ids[:5]))
    return shown + (", ..." if len(ids) > 5 else "")


# --------------------------------------------------------------------------
# wmt-jsonl: the WMT24/25 general-MT release, one JSON document per line.


def iter_wmt_jsonl_pairs(path: str | os.PathLike, doc_prefix: str = "", reference: str | None = None,
                         segment: str = "document") -> Iterator[RawPair]:
    """Stream a WMT JSONL file (see :func:`iter_wmt_jsonl`); ``line`` is the document's line number.

    ``segment="paragraph"``: one pair per paragraph instead, numbered from 1
    (see :func:`algharb.data.wmt.iter_paragraph_pairs`).
    """
    if segment == "paragraph":
        from .wmt import iter_paragraph_pairs  # imported here: algharb.data.wmt builds on this module

        return _require_some_valid(iter_paragraph_pairs(path, doc_prefix, reference), str(path), "segments")
    return _require_some_valid(iter_wmt_jsonl(_raw_lines(path), doc_prefix, reference, origin=str(path)),
                               str(path), "documents")


def iter_wmt_jsonl(lines: Iterable[str | bytes], doc_prefix: str = "", reference: str | None = None,
                   origin: str = "WMT JSONL") -> Iterator[RawPair]:
    """Stream the documents whose ``doc_id`` starts with ``doc_prefix`` as one-segment pairs.

    WMT24/25 release one JSON object per document with ``doc_id``,
    ``src_text`` and, in the human-evaluation release, ``tgt_text`` keyed by
    reference/system name; ``reference`` picks that key (``None``/``False``:
    blind, target ``""``). Whitespace runs, newlines included, become single
    spaces so the output files stay line-aligned. ``lines`` may be ``str``
    or (undecoded) ``bytes``; a line that is not JSON or lacks ``src_text``
    is an error naming ``origin`` and the line.
    """
    kept = 0
    for line_no, record in iter_jsonl_records(lines, origin):
        if not str(record.get("doc_id", "")).startswith(doc_prefix):
            continue
        kept += 1
        src = _one_line(record["src_text"], origin, line_no, "src_text")
        yield RawPair(line_no, src, _jsonl_reference(record, reference, origin, line_no))
    if not kept:
        raise ValueError(f"{origin}: no document with doc_id prefix '{doc_prefix}'")


def iter_jsonl_records(lines: Iterable[str | bytes], origin: str) -> Iterator[tuple[int, dict]]:
    """``(line number, record)`` of every non-blank line of a WMT JSONL file; an empty file is an error."""
    nonblank = 0
    for line_no, line in enumerate(lines, 1):
        text = _jsonl_line_text(line, line_no)
        if not text.strip():
            continue
        nonblank += 1
        yield line_no, _jsonl_record(text, origin, line_no)
    if not nonblank:
        raise ValueError(f"{origin}: file is empty (no JSON lines)")


def _jsonl_line_text(line: str | bytes, line_no: int) -> str:
    """A line as text, invalid UTF-8 marked; the BOM is stripped here too since ``lines`` may come from anywhere."""
    text = _decode_marking_invalid(line.rstrip(b"\r\n")) if isinstance(line, bytes) else line.rstrip("\r\n")
    return text.removeprefix(_BOM) if line_no == 1 else text


def _jsonl_record(text: str, origin: str, line_no: int) -> dict:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{origin}:{line_no}: not valid JSON ({err})") from None
    if not isinstance(record, dict) or "src_text" not in record:
        raise ValueError(f"{origin}:{line_no}: not a document: a JSON object with 'src_text' is expected")
    return record


def _jsonl_reference(record: dict, reference: str | None, origin: str, line_no: int) -> str | None:
    if not reference:
        return ""
    targets = record.get("tgt_text") or {}
    if not isinstance(targets, dict) or reference not in targets:
        known = ", ".join(map(repr, targets)) if isinstance(targets, dict) else "none"
        raise ValueError(
            f"{origin}:{line_no}: document {record.get('doc_id')} has no reference '{reference}' "
            f"in tgt_text (it has: {known or 'none'})"
        )
    return _one_line(targets[reference], origin, line_no, f"tgt_text.{reference}")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _one_line(value, origin: str, line_no: int, key: str) -> str | None:
    """A document text as one line; None if it is not valid UTF-8 (raw bytes or escaped surrogates)."""
    if not isinstance(value, str):
        raise ValueError(f"{origin}:{line_no}: '{key}' must be a string, got {type(value).__name__}")
    if _INVALID in value or _SURROGATE.search(value):
        return None
    return " ".join(value.split())


def read_wmt_jsonl(lines: Iterable[str | bytes], doc_prefix: str, reference_key: str | None,
                   origin: str = "WMT JSONL") -> tuple[list[str], list[str]]:
    """Sources and references (``[]`` when blind) of the matching documents of a WMT JSONL release.

    Documents that are not valid UTF-8 are left out of both lists, with a
    warning naming their lines.
    """
    pairs = _require_some_valid(iter_wmt_jsonl(lines, doc_prefix, reference_key, origin), origin, "documents")
    corpus = _collect(pairs, origin)
    if corpus.invalid_utf8_lines:
        log.warning("%s: left out %d document(s) that are not valid UTF-8 (lines %s)",
                    origin, len(corpus.invalid_utf8_lines), _ids(corpus.invalid_utf8_lines))
    return corpus.src, corpus.tgt if reference_key else []


# --------------------------------------------------------------------------
# The formats: keys, options and reader of each, in one registry.

FORMATS.register("text")(CorpusFormat(("src", "tgt"), {}, lambda spec: iter_text_pairs(spec["src"], spec["tgt"])))
FORMATS.register("tsv")(CorpusFormat(
    ("tsv",), {"src_col": _column(0), "tgt_col": _column(1)},
    lambda spec: iter_tsv_pairs(spec["tsv"], spec["src_col"], spec["tgt_col"]),
))
FORMATS.register("sgm")(CorpusFormat(("src", "tgt"), {}, lambda spec: iter_sgm_pairs(spec["src"], spec["tgt"])))
FORMATS.register("xml")(CorpusFormat(
    ("xml",),
    {
        "translator": _Option(None, lambda v: v is None or isinstance(v, str), "a translator name or null"),
        "reference": _Option(True, lambda v: isinstance(v, bool), "true or false"),
    },
    lambda spec: iter_xml_pairs(spec["xml"], spec["translator"], spec["reference"]),
))
FORMATS.register("wmt-jsonl")(CorpusFormat(
    ("jsonl",),
    {
        "doc_prefix": _Option("", lambda v: isinstance(v, str), "a string"),
        # false is accepted too, so that ``reference: false`` means "blind" in every format
        "reference": _Option(None, lambda v: v is None or v is False or isinstance(v, str),
                             "a tgt_text key, or null for a blind test set"),
        # document: one pair per JSON line (training corpora); paragraph: per paragraph (test sets).
        "segment": _Option("document", lambda v: v in ("document", "paragraph"), "document or paragraph"),
    },
    lambda spec: iter_wmt_jsonl_pairs(spec["jsonl"], spec["doc_prefix"], spec["reference"], spec["segment"]),
))


def is_plain_text_spec(spec: Mapping, where: str = DEFAULT_WHERE) -> bool:
    """Whether a spec is two uncompressed line-aligned text files (usable by line readers as is)."""
    spec = normalize_spec(spec, where)
    compressed = (".gz", ".xz")
    return spec["format"] == "text" and not any(str(spec[side]).lower().endswith(compressed) for side in ("src", "tgt"))
