"""WMT24/25 general-MT releases: paragraph segments, submission files, other systems' outputs.

The WMT25 general-MT release (github.com/wmt-conference/wmt25-general-mt)
gives the test documents as JSON lines with ``doc_id``, ``src_text`` and, in
the human-evaluation release, ``tgt_text`` = {name: text} holding the
references (``refA``, ...) and every submitted system's output under its
name. A document is paragraphs separated by a blank line (``"\\n\\n"``); a
paragraph may hold single line breaks. A submission is one JSON line per
document, ``{"doc_id", "hypothesis"}``, whose paragraphs follow the source's;
the organisers pair source, reference and hypothesis paragraphs by position
(``text.split("\\n\\n")``, ``01-prepare_humeval.py`` of that repository), so
the paragraph counts must agree.

A release comes in one of two layouts, both read here:

- one line per document (submissions, ``wmt25-genmt.jsonl``);
- one line per paragraph, ``doc_id`` = ``{document}_#_{index}`` (the
  human-evaluation release ``wmt25-genmt-humeval.jsonl``: ``doc_id`` is
  ``langpair_#_domain_#_source_#_index``); consecutive lines of a document
  are gathered back into it.

A test set is cut into segments, one line of the workflow's ``.src``/``.tgt``
files each, in one of two modes (the ``segment`` option of the
``wmt-jsonl`` corpus format, :mod:`algharb.data.ingest`):

``document``
    each JSON line is one segment, whitespace runs folded to one space (what
    the ingest reader has always done: a whole document, or a paragraph in
    the paragraph layout);
``paragraph``
    each non-empty paragraph is one segment. A document whose reference has
    another paragraph count than its source cannot be paired paragraph by
    paragraph: it stays one segment (paragraphs joined by a space on both
    sides) and is reported, never silently misaligned.

The **segment map** (``doc_id``, ``paragraph``, ``n_paragraphs``: one row per
segment, in the release's order) records where each line came from, so that
:func:`write_submission` can rebuild one hypothesis per document with the
release's paragraph layout: ``paragraph`` is the 0-based position among the
document's ``n_paragraphs`` blank-line-separated paragraphs (empty source
paragraphs get no line and come back empty); a document kept as one segment
has ``paragraph`` 0 of ``n_paragraphs`` 1. :func:`read_submission` checks a
submission against the release; :func:`external_hypotheses` takes another
system's output from the human-evaluation release, line-aligned with the
test set.

A document whose text is not valid UTF-8 is left out whole (as ingest does
for any pair): it has no line and no segment-map row.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ..io import read_lines, write_jsonl
from .decisions import write_tsv
from .ingest import _INVALID, _SURROGATE, RawPair, _ids, _raw_lines, iter_jsonl_records

log = logging.getLogger(__name__)

PARAGRAPH_BREAK = "\n\n"
SEGMENT_MODES = ("document", "paragraph")
SEGMENT_MAP_COLUMNS = ["doc_id", "paragraph", "n_paragraphs"]
# expected: the source document's paragraph count; found: that of the other text
# (reference, hypothesis or external system) it was compared with.
MISMATCH_COLUMNS = ["doc_id", "expected", "found"]

# ``langpair_#_domain_#_source_#_index``: a paragraph line of the human-evaluation release.
_ID_SEPARATOR = "_#_"
_PARAGRAPH_INDEX = re.compile(r"[0-9]+")
_DOCUMENT_ID_PARTS = 3


# --------------------------------------------------------------------------
# Documents of a release.


@dataclass(frozen=True)
class WmtDocument:
    """One document of a release, its paragraphs gathered whatever the layout.

    ``src`` and each ``targets`` entry are the paragraphs as released
    (``text.split("\\n\\n")``, or one per line in the paragraph layout),
    unfolded; ``lines`` are the document's 1-based JSON line numbers in
    paragraph order, ``line`` the first of them in the file.
    """

    doc_id: str
    src: list[str]
    targets: Mapping[str, list[str]]
    lines: list[int]
    origin: str = "WMT JSONL"
    one_line_per_paragraph: bool = False

    @property
    def line(self) -> int:
        return min(self.lines)

    @property
    def n_paragraphs(self) -> int:
        return len(self.src)

    @property
    def names(self) -> list[str]:
        """The ``tgt_text`` names (references and systems) present for the whole document."""
        return list(self.targets)

    def target(self, name: str, what: str = "entry") -> list[str]:
        """The paragraphs of ``tgt_text[name]``; an unknown name lists the document's names."""
        if name not in self.targets:
            raise ValueError(
                f"{self.origin}:{self.line}: document {self.doc_id} has no {what} '{name}' in tgt_text "
                f"(it has: {', '.join(map(repr, self.targets)) or 'none'})"
            )
        return self.targets[name]

    def file_order(self) -> list[int]:
        """The document's paragraph indices in the order of its lines in the file."""
        return sorted(range(len(self.lines)), key=self.lines.__getitem__)


def split_paragraph_id(doc_id: str) -> tuple[str, int | None]:
    """``("{document}", index)`` for a paragraph line's ``{document}_#_{index}``, else ``(doc_id, None)``."""
    parts = doc_id.split(_ID_SEPARATOR)
    if len(parts) > _DOCUMENT_ID_PARTS and _PARAGRAPH_INDEX.fullmatch(parts[-1]):
        return _ID_SEPARATOR.join(parts[:-1]), int(parts[-1])
    return doc_id, None


def iter_documents(lines: Iterable[str | bytes], doc_prefix: str = "",
                   origin: str = "WMT JSONL") -> Iterator[WmtDocument]:
    """Stream the documents whose ``doc_id`` starts with ``doc_prefix``, in file order.

    A line that is not JSON, has no ``src_text`` or no string ``doc_id`` is
    an error naming ``origin`` and the line; so is a document whose lines
    are not consecutive, or whose paragraph lines are not numbered 0..n-1.
    """
    group: list[tuple[int, int | None, dict]] = []
    current, seen = None, set()
    kept = 0
    for line_no, record in iter_jsonl_records(lines, origin):
        doc_id = record.get("doc_id")
        if not isinstance(doc_id, str) or not doc_id:
            raise ValueError(f"{origin}:{line_no}: 'doc_id' must be a non-empty string, got {doc_id!r}")
        if not doc_id.startswith(doc_prefix):
            continue
        kept += 1
        key, index = split_paragraph_id(doc_id)
        if key != current:
            if group:
                yield _document(current, group, origin)
            if key in seen:
                raise ValueError(f"{origin}:{line_no}: document {key} appears again after other documents "
                                 "(the lines of a document must be consecutive)")
            seen.add(key)
            current, group = key, []
        group.append((line_no, index, record))
    if group:
        yield _document(current, group, origin)
    if not kept:
        raise ValueError(f"{origin}: no document with doc_id prefix '{doc_prefix}'")


def read_documents(path: str | os.PathLike, doc_prefix: str = "") -> list[WmtDocument]:
    """The documents of a release file (plain, ``.gz`` or ``.xz``) whose ``doc_id`` starts with ``doc_prefix``."""
    return list(iter_documents(_raw_lines(path), doc_prefix, origin=str(path)))


def _document(key: str, group: list[tuple[int, int | None, dict]], origin: str) -> WmtDocument:
    indices = [index for _, index, _ in group]
    if indices == [None]:  # one line, the whole document
        line_no, _, record = group[0]
        src = _string(record["src_text"], origin, line_no, "src_text").split(PARAGRAPH_BREAK)
        targets = {name: _Lazy([(line_no, value)], split=True)
                   for name, value in _tgt_text(record, origin, line_no).items()}
        return WmtDocument(key, src, _TargetView(targets, origin), [line_no], origin)
    if indices.count(None) > 1:
        raise ValueError(f"{origin}:{group[1][0]}: document {key} is also on line {group[0][0]} (each document once)")
    if None in indices:
        raise ValueError(f"{origin}:{group[0][0]}: document {key} is given both whole and as paragraph lines "
                         f"(lines {_ids([line for line, _, _ in group])})")
    group = sorted(group, key=lambda item: item[1])
    if [index for _, index, _ in group] != list(range(len(group))):
        raise ValueError(f"{origin}:{group[0][0]}: the paragraph lines of document {key} are numbered "
                         f"{_ids(sorted(indices))}; expected 0 to {len(group) - 1}, each once")
    src = [_string(record["src_text"], origin, line_no, "src_text") for line_no, _, record in group]
    per_line = [_tgt_text(record, origin, line_no) for line_no, _, record in group]
    names = [name for name in per_line[0] if all(name in targets for targets in per_line[1:])]
    targets = {name: _Lazy([(line_no, targets[name]) for (line_no, _, _), targets in zip(group, per_line)],
                           split=False) for name in names}
    return WmtDocument(key, src, _TargetView(targets, origin), [line_no for line_no, _, _ in group], origin,
                       one_line_per_paragraph=True)


class _Lazy(NamedTuple):
    """A ``tgt_text`` entry, checked and split only when used (a release holds dozens of systems)."""

    values: list  # (JSON line, raw value) per line of the document
    split: bool  # a whole-document value: split into paragraphs


class _TargetView(Mapping):
    """``tgt_text`` name → paragraphs, each entry checked (a string) when first read."""

    def __init__(self, entries: dict[str, _Lazy], origin: str):
        self._entries, self._origin = entries, origin

    def __getitem__(self, name: str) -> list[str]:
        entry = self._entries[name]
        texts = [_string(value, self._origin, line_no, f"tgt_text.{name}") for line_no, value in entry.values]
        return texts[0].split(PARAGRAPH_BREAK) if entry.split else texts

    def __contains__(self, name) -> bool:  # Mapping's default would read (and check) the value
        return name in self._entries

    def __iter__(self):
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def _tgt_text(record: dict, origin: str, line_no: int) -> dict:
    targets = record.get("tgt_text") or {}
    if not isinstance(targets, dict):
        raise ValueError(f"{origin}:{line_no}: 'tgt_text' must be an object {{name: text}}, "
                         f"got {type(targets).__name__}")
    return targets


def _string(value, origin: str, line_no: int, key: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{origin}:{line_no}: '{key}' must be a string, got {type(value).__name__}")
    return value


def list_systems(release: str | os.PathLike, doc_prefix: str = "") -> list[str]:
    """The ``tgt_text`` names (systems and references) present in every matching document, sorted."""
    common = None
    for doc in iter_documents(_raw_lines(release), doc_prefix, origin=str(release)):
        common = set(doc.names) if common is None else common & set(doc.names)
    return sorted(common or ())


# --------------------------------------------------------------------------
# Segments: the lines of the test set.


class Segment(NamedTuple):
    """One line of the test set and its place in the release; ``src``/``tgt`` None if not valid UTF-8."""

    doc_id: str
    paragraph: int
    n_paragraphs: int
    src: str | None
    tgt: str | None


@dataclass(frozen=True)
class ParagraphMismatch:
    """A document whose ``found`` paragraph count differs from its source's (``expected``)."""

    doc_id: str
    expected: int
    found: int


@dataclass
class SegmentedRelease:
    """The test set cut into segments (valid UTF-8 only), with what could not be paired by paragraph."""

    segments: list[Segment] = field(default_factory=list)
    merged: list[ParagraphMismatch] = field(default_factory=list)  # kept as one segment
    invalid_utf8: list[str] = field(default_factory=list)  # doc ids left out

    @property
    def src(self) -> list[str]:
        return [segment.src for segment in self.segments]

    @property
    def tgt(self) -> list[str]:
        return [segment.tgt for segment in self.segments]


def fold(text: str) -> str | None:
    """A text as one line: whitespace runs (line breaks included) become one space; None if not valid UTF-8.

    Raw bytes that were not UTF-8 (marked by the reader) and escaped lone
    surrogates in the JSON both count as invalid, as in the ingest reader.
    """
    if _INVALID in text or _SURROGATE.search(text):
        return None
    return " ".join(text.split())


def document_segments(doc: WmtDocument, mode: str,
                      reference: str | None) -> tuple[list[Segment], ParagraphMismatch | None]:
    """The segments of one document in ``mode``, and its mismatch if it had to be kept whole.

    ``reference`` is the ``tgt_text`` name of the reference (None/False:
    blind, targets ``""``). A document that is not valid UTF-8 (source or
    reference) is one segment with ``src``/``tgt`` None.
    """
    if mode not in SEGMENT_MODES:
        raise ValueError(f"segment mode must be one of {', '.join(SEGMENT_MODES)}, got {mode!r}")
    ref = doc.target(reference, "reference") if reference else None
    if mode == "document":
        return _line_segments(doc, ref), None
    n = doc.n_paragraphs
    if any(fold(text) is None for text in doc.src + (ref or [])):
        return [Segment(doc.doc_id, 0, 1, None, None)], None
    if ref is not None and len(ref) != n:
        # Pairing paragraph i with reference paragraph i would misalign the rest of the document.
        whole = Segment(doc.doc_id, 0, 1, fold(" ".join(doc.src)), fold(" ".join(ref)))
        return [whole], ParagraphMismatch(doc.doc_id, n, len(ref))
    segments = [Segment(doc.doc_id, index, n, fold(text), fold(ref[index]) if ref else "")
                for index, text in enumerate(doc.src) if fold(text)]
    if not segments:  # nothing to translate: still one (empty) line, so that the document is submitted
        segments = [Segment(doc.doc_id, 0, n, "", fold(ref[0]) if ref else "")]
    return segments, None


def _line_segments(doc: WmtDocument, ref: list[str] | None) -> list[Segment]:
    """``document`` mode: one segment per JSON line, in file order (the ingest reader's own units)."""
    if not doc.one_line_per_paragraph:
        joined_ref = fold(PARAGRAPH_BREAK.join(ref)) if ref is not None else ""
        return [Segment(doc.doc_id, 0, 1, fold(PARAGRAPH_BREAK.join(doc.src)), joined_ref)]
    return [Segment(doc.doc_id, index, doc.n_paragraphs, fold(doc.src[index]), fold(ref[index]) if ref else "")
            for index in doc.file_order()]


def iter_segments(documents: Iterable[WmtDocument], mode: str, reference: str | None,
                  origin: str = "WMT JSONL") -> Iterator[tuple[Segment, ParagraphMismatch | None]]:
    """Each segment of ``documents`` with the mismatch of its document (on the document's first segment)."""
    for doc in documents:
        segments, mismatch = document_segments(doc, mode, reference)
        if mismatch:
            log.warning("%s:%d: document %s has %d source paragraphs but its reference '%s' has %d: "
                        "kept as one segment", origin, doc.line, doc.doc_id, mismatch.expected, reference,
                        mismatch.found)
        for number, segment in enumerate(segments):
            yield segment, mismatch if number == 0 else None


def segment_release(lines: Iterable[str | bytes], doc_prefix: str = "", reference: str | None = None,
                    mode: str = "paragraph", origin: str = "WMT JSONL") -> SegmentedRelease:
    """Cut the matching documents of a release into segments (see the module docstring)."""
    result = SegmentedRelease()
    for segment, mismatch in iter_segments(iter_documents(lines, doc_prefix, origin), mode, reference, origin):
        if mismatch:
            result.merged.append(mismatch)
        if segment.src is None or segment.tgt is None:
            result.invalid_utf8.append(segment.doc_id)
        else:
            result.segments.append(segment)
    if result.invalid_utf8:
        log.warning("%s: left out %d document(s) that are not valid UTF-8: %s", origin,
                    len(result.invalid_utf8), _ids(result.invalid_utf8))
    if result.merged:
        log.warning("%s: %d document(s) kept as one segment (reference paragraph count differs): %s", origin,
                    len(result.merged), _ids([m.doc_id for m in result.merged]))
    return result


def read_segmented(path: str | os.PathLike, doc_prefix: str = "", reference: str | None = None,
                   mode: str = "paragraph") -> SegmentedRelease:
    """:func:`segment_release` of a release file (plain, ``.gz`` or ``.xz``)."""
    return segment_release(_raw_lines(path), doc_prefix, reference, mode, origin=str(path))


def iter_paragraph_pairs(path: str | os.PathLike, doc_prefix: str = "",
                         reference: str | None = None) -> Iterator[RawPair]:
    """The ingest stream of ``segment: paragraph``: one pair per segment; ``line`` is the 1-based segment number.

    A document that is not valid UTF-8 is one pair with ``None`` sides (it is
    dropped and counted downstream, as ingest does for every format).
    """
    origin = str(path)
    documents = iter_documents(_raw_lines(path), doc_prefix, origin)
    for number, (segment, _mismatch) in enumerate(iter_segments(documents, "paragraph", reference, origin), 1):
        yield RawPair(number, segment.src, segment.tgt)


# --------------------------------------------------------------------------
# The segment map and the paragraph reports.


def write_segment_map(path: str | os.PathLike, segments: Iterable[Segment]) -> int:
    """Write the segment map (one row per line of the test set), atomically; return the row count."""
    table = pd.DataFrame([(s.doc_id, s.paragraph, s.n_paragraphs) for s in segments], columns=SEGMENT_MAP_COLUMNS)
    write_tsv(path, table)
    return len(table)


def read_segment_map(path: str | os.PathLike) -> list[Segment]:
    """Read a segment map back (``src``/``tgt`` None); a malformed row is an error naming file and line."""
    lines = read_lines(path)
    if not lines or lines[0].split("\t") != SEGMENT_MAP_COLUMNS:
        header = "<TAB>".join(SEGMENT_MAP_COLUMNS)
        raise ValueError(f"{path}:1: not a segment map: the header must be {header}")
    rows, places = [], {}
    for line_no, line in enumerate(lines[1:], 2):
        fields = line.split("\t")
        try:
            doc_id, paragraph, n_paragraphs = fields[0], int(fields[1]), int(fields[2])
            if len(fields) != 3 or not doc_id or not 0 <= paragraph < n_paragraphs:
                raise ValueError
        except (ValueError, IndexError):
            raise ValueError(f"{path}:{line_no}: expected doc_id, paragraph (0 <= paragraph < n_paragraphs) "
                             f"and n_paragraphs, got {line!r}") from None
        if (doc_id, paragraph) in places:
            raise ValueError(f"{path}:{line_no}: paragraph {paragraph} of {doc_id} is also on line "
                             f"{places[doc_id, paragraph]}")
        places[doc_id, paragraph] = line_no
        rows.append(Segment(doc_id, paragraph, n_paragraphs, None, None))
    _check_documents_consecutive(rows, path)
    return rows


def _check_documents_consecutive(rows: list[Segment], path) -> None:
    counts, finished = {}, set()
    for line_no, (row, previous) in enumerate(zip(rows, [None, *rows]), 2):
        if previous is not None and previous.doc_id != row.doc_id:
            finished.add(previous.doc_id)
        if row.doc_id in finished:
            raise ValueError(f"{path}:{line_no}: {row.doc_id} appears again after other documents")
        if counts.setdefault(row.doc_id, row.n_paragraphs) != row.n_paragraphs:
            raise ValueError(f"{path}:{line_no}: {row.doc_id} has n_paragraphs {row.n_paragraphs} here and "
                             f"{counts[row.doc_id]} above")


def write_mismatches(path: str | os.PathLike, mismatches: Iterable[ParagraphMismatch]) -> int:
    """Write a per-document paragraph-count report (``doc_id``, ``expected``, ``found``) atomically."""
    table = pd.DataFrame([(m.doc_id, m.expected, m.found) for m in mismatches], columns=MISMATCH_COLUMNS)
    write_tsv(path, table)
    return len(table)


# --------------------------------------------------------------------------
# Submissions: one JSON line per document, paragraphs rejoined.


def write_submission(segment_map: str | os.PathLike, hypotheses: str | os.PathLike | list[str],
                     out_path: str | os.PathLike) -> int:
    """Write a WMT25 submission from line-aligned hypotheses; return the number of documents.

    One line per document of the map, in the map's (the release's) order:
    ``{"doc_id", "hypothesis"}``, the hypothesis being the document's
    paragraphs joined by a blank line, an empty paragraph where the source's
    was empty (so the paragraph count is the release's). ``hypotheses`` is a
    file (one line per segment) or a list; its length must be the map's.
    """
    rows = read_segment_map(segment_map)
    named = hypotheses if isinstance(hypotheses, (str, os.PathLike)) else "the hypotheses given"
    lines = read_lines(hypotheses) if isinstance(hypotheses, (str, os.PathLike)) else list(hypotheses)
    if len(lines) != len(rows):
        raise ValueError(f"{named} has {len(lines)} hypotheses but the segment map {segment_map} has "
                         f"{len(rows)} segments; they must be line-aligned")
    documents: dict[str, list[str]] = {}
    for row, hypothesis in zip(rows, lines):
        if "\n" in hypothesis:
            raise ValueError(f"{named}: the hypothesis of {row.doc_id} paragraph {row.paragraph} has a line break")
        documents.setdefault(row.doc_id, [""] * row.n_paragraphs)[row.paragraph] = hypothesis
    return write_jsonl(out_path, ({"doc_id": doc_id, "hypothesis": PARAGRAPH_BREAK.join(paragraphs)}
                                  for doc_id, paragraphs in documents.items()))


@dataclass
class Submission:
    """A submission read back: doc id → hypothesis (file order), and the per-document paragraph mismatches."""

    path: str
    hypotheses: dict[str, str]
    mismatches: list[ParagraphMismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every hypothesis has its source document's paragraph count."""
        return not self.mismatches


def read_submission(path: str | os.PathLike, release: str | os.PathLike | None = None, doc_prefix: str = "",
                    strict: bool = False) -> Submission:
    """Read a WMT25 submission and check it against the release it answers.

    Every line must be a JSON object with a string ``doc_id`` (each once) and
    a string ``hypothesis``; with ``release`` (its documents starting with
    ``doc_prefix``), every document must be answered and no other. These
    problems raise one ``ValueError`` listing them all. A hypothesis whose
    paragraph count (``split("\\n\\n")``, as the organisers pair them)
    differs from its source document's is reported in ``mismatches``;
    ``strict`` makes that an error too.
    """
    hypotheses, problems = _read_submission_lines(path)
    submission = Submission(str(path), hypotheses)
    if release is not None:
        expected = {doc.doc_id: doc.n_paragraphs
                    for doc in iter_documents(_raw_lines(release), doc_prefix, origin=str(release))}
        problems += _coverage_problems(hypotheses, expected, release, doc_prefix)
        submission.mismatches = [
            ParagraphMismatch(doc_id, expected[doc_id], len(text.split(PARAGRAPH_BREAK)))
            for doc_id, text in hypotheses.items()
            if doc_id in expected and len(text.split(PARAGRAPH_BREAK)) != expected[doc_id]
        ]
        if strict:
            problems += [f"{m.doc_id}: {m.found} paragraph(s), the source has {m.expected}"
                         for m in submission.mismatches]
    if problems:
        shown = "\n  ".join(problems[:20]) + (f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise ValueError(f"{path}: not a valid WMT25 submission ({len(problems)} problem(s)):\n  {shown}")
    return submission


def _read_submission_lines(path) -> tuple[dict[str, str], list[str]]:
    hypotheses, first_line, problems = {}, {}, []
    # The reader every release goes through: a .gz/.xz submission and a BOM are read like the release.
    for line_no, raw in enumerate(_raw_lines(path), 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            problems.append(f"line {line_no}: not valid UTF-8 ({err.reason})")
            continue
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as err:
            problems.append(f"line {line_no}: not valid JSON ({err.msg})")
            continue
        doc_id = record.get("doc_id") if isinstance(record, dict) else None
        hypothesis = record.get("hypothesis") if isinstance(record, dict) else None
        if not isinstance(doc_id, str) or not doc_id:
            problems.append(f"line {line_no}: 'doc_id' must be a non-empty string")
        elif not isinstance(hypothesis, str):
            problems.append(f"line {line_no}: 'hypothesis' of {doc_id} must be a string, "
                            f"got {type(hypothesis).__name__}")
        elif doc_id in hypotheses:
            problems.append(f"line {line_no}: {doc_id} is answered again (first on line {first_line[doc_id]})")
        else:
            hypotheses[doc_id], first_line[doc_id] = hypothesis, line_no
    if not hypotheses and not problems:
        problems.append("no documents (empty file)")
    return hypotheses, problems


def _coverage_problems(hypotheses: dict, expected: dict, release, doc_prefix: str) -> list[str]:
    where = f"{release}" + (f" (doc_id prefix '{doc_prefix}')" if doc_prefix else "")
    unknown = [doc_id for doc_id in hypotheses if doc_id not in expected]
    missing = [doc_id for doc_id in expected if doc_id not in hypotheses]
    problems = []
    if unknown:
        problems.append(f"{len(unknown)} doc_id(s) not in {where}: {_ids(unknown)}")
    if missing:
        problems.append(f"{len(missing)} document(s) of {where} not answered: {_ids(missing)}")
    return problems


# --------------------------------------------------------------------------
# Other systems' outputs from the human-evaluation release.


def external_hypotheses(release: str | os.PathLike, doc_prefix: str, system_name: str,
                        segment_map: str | os.PathLike) -> tuple[list[str], list[ParagraphMismatch]]:
    """``tgt_text[system_name]`` of each test document, one hypothesis per segment of the map.

    The system's text is split into paragraphs as the source is and fitted
    to the map's ``n_paragraphs`` of the document by one fixed rule: extra
    paragraphs are joined (with a space) onto the last one, missing ones are
    empty. A document the map keeps as one segment so gets the system's
    whole text. A document whose system paragraph count differs from the
    source's is reported (``expected``: the source's, ``found``: the
    system's). A document without ``system_name`` is an error listing the
    names it has; so is a map document that is not in the release.
    """
    rows = read_segment_map(segment_map)
    wanted = {row.doc_id for row in rows}
    texts, mismatches = {}, []
    for doc in iter_documents(_raw_lines(release), doc_prefix, origin=str(release)):
        if doc.doc_id not in wanted:
            continue
        paragraphs = doc.target(system_name, "system")
        texts[doc.doc_id] = paragraphs
        if len(paragraphs) != doc.n_paragraphs:
            mismatches.append(ParagraphMismatch(doc.doc_id, doc.n_paragraphs, len(paragraphs)))
    missing = [doc_id for doc_id in dict.fromkeys(row.doc_id for row in rows) if doc_id not in texts]
    if missing:
        raise ValueError(f"{len(missing)} document(s) of the segment map {segment_map} are not in {release} "
                         f"(doc_id prefix '{doc_prefix}'): {_ids(missing)}")
    for mismatch in mismatches:
        log.warning("%s: %s of document %s has %d paragraph(s), the source %d: fitted by the fixed rule",
                    release, system_name, mismatch.doc_id, mismatch.found, mismatch.expected)
    return [_fitted_paragraph(texts[row.doc_id], row, system_name, release) for row in rows], mismatches


def _fitted_paragraph(paragraphs: list[str], row: Segment, system_name: str, release) -> str:
    """Paragraph ``row.paragraph`` of ``paragraphs`` fitted to ``row.n_paragraphs`` (see external_hypotheses)."""
    last = row.n_paragraphs - 1
    if row.paragraph < last:
        text = paragraphs[row.paragraph] if row.paragraph < len(paragraphs) else ""
    else:
        text = " ".join(paragraphs[last:])
    folded = fold(text)
    if folded is None:
        raise ValueError(f"{release}: {system_name}'s text of document {row.doc_id} is not valid UTF-8")
    return folded
