"""Read raw parallel corpora: two line-aligned text files or one TSV file.

Files may be plain, gzip (``.gz``) or xz (``.xz``) compressed, chosen by
suffix. Every pair keeps the 1-based line number it had in the raw file, so
each later decision can be traced back to it. A line that is not valid UTF-8
(on either side) drops its pair — the other side's line too, so the corpus
stays aligned — and its line number is recorded rather than failing the
whole corpus; a corpus where *no* line decodes is an error (wrong encoding).
"""

from __future__ import annotations

import gzip
import lzma
import os
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import BinaryIO, Iterator

_BOM = "\ufeff"


@dataclass
class ParallelCorpus:
    """Aligned source/target lines with their original 1-based line numbers.

    ``src[i]``, ``tgt[i]`` and ``line_numbers[i]`` describe one pair; the
    columns are kept as separate lists (not pair objects) so later stages can
    work on whole columns. ``invalid_utf8_lines`` lists the raw line numbers
    whose pair was dropped because a side was not valid UTF-8.
    """

    src: list[str]
    tgt: list[str]
    line_numbers: list[int]
    invalid_utf8_lines: list[int] = field(default_factory=list)
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
    """Yield the lines of ``path`` as bytes without their line ending.

    Splits on b"\\n" only (not on the Unicode line separators that
    ``str.splitlines`` would honour), so line numbers match ``wc -l``.
    Decompression errors become a ``ValueError`` naming the file.
    """
    try:
        with open_binary(path) as handle:
            for raw in handle:
                yield raw.rstrip(b"\r\n")
    except (OSError, EOFError, lzma.LZMAError) as err:
        if isinstance(err, FileNotFoundError):
            raise FileNotFoundError(f"{path}: no such file") from None
        raise ValueError(f"{path}: cannot read ({err})") from None


def _decode(raw: bytes, line_no: int) -> str | None:
    """Decode one line as UTF-8 (dropping a leading BOM on line 1); None if invalid."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if line_no == 1 and text.startswith(_BOM):
        text = text[1:]
    return text


def read_parallel(src_path: str | os.PathLike, tgt_path: str | os.PathLike) -> ParallelCorpus:
    """Read two line-aligned files into a :class:`ParallelCorpus`.

    Raises ``ValueError`` if either file has no lines, if their line counts
    differ (naming both files and both counts), or if no line decodes.
    """
    corpus = ParallelCorpus([], [], [], origin=f"{src_path} / {tgt_path}")
    src_count = tgt_count = 0
    for line_no, (src_raw, tgt_raw) in enumerate(zip_longest(_raw_lines(src_path), _raw_lines(tgt_path)), 1):
        src_count += src_raw is not None
        tgt_count += tgt_raw is not None
        if src_raw is None or tgt_raw is None:
            continue  # keep counting the longer file for the error message
        _add_pair(corpus, line_no, _decode(src_raw, line_no), _decode(tgt_raw, line_no))
    for path, count in ((src_path, src_count), (tgt_path, tgt_count)):
        if count == 0:
            raise ValueError(f"{path}: file is empty (no lines)")
    if src_count != tgt_count:
        raise ValueError(
            f"line counts differ: {src_path} has {src_count} lines, {tgt_path} has {tgt_count} lines"
        )
    _check_some_valid(corpus)
    return corpus


def read_tsv(path: str | os.PathLike, src_col: int = 0, tgt_col: int = 1) -> ParallelCorpus:
    """Read a tab-separated file whose columns ``src_col``/``tgt_col`` hold the pair.

    Fields are split on tabs only, without CSV quoting (quotes are text in
    parallel corpora). A row with too few columns raises ``ValueError``
    naming file and line; so do an empty file and a file with no valid line.
    """
    if min(src_col, tgt_col) < 0 or src_col == tgt_col:
        raise ValueError(f"{path}: src_col={src_col} and tgt_col={tgt_col} must be distinct and >= 0")
    needed = max(src_col, tgt_col) + 1
    corpus = ParallelCorpus([], [], [], origin=str(path))
    line_no = 0
    for line_no, raw in enumerate(_raw_lines(path), 1):
        fields = raw.split(b"\t")
        if len(fields) < needed:
            raise ValueError(f"{path}:{line_no}: {len(fields)} column(s), need at least {needed}")
        _add_pair(corpus, line_no, _decode(fields[src_col], line_no), _decode(fields[tgt_col], line_no))
    if line_no == 0:
        raise ValueError(f"{path}: file is empty (no lines)")
    _check_some_valid(corpus)
    return corpus


def _add_pair(corpus: ParallelCorpus, line_no: int, src: str | None, tgt: str | None) -> None:
    """Append a decoded pair, or record its line as invalid UTF-8."""
    if src is None or tgt is None:
        corpus.invalid_utf8_lines.append(line_no)
        return
    corpus.src.append(src)
    corpus.tgt.append(tgt)
    corpus.line_numbers.append(line_no)


def _check_some_valid(corpus: ParallelCorpus) -> None:
    """A corpus where every line failed to decode is in another encoding: say so."""
    if not corpus.src and corpus.invalid_utf8_lines:
        raise ValueError(
            f"{corpus.origin}: none of the {len(corpus.invalid_utf8_lines)} lines is valid UTF-8 "
            "(is the file in another encoding?)"
        )
