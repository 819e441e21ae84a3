"""File helpers shared by every stage: atomic writes and JSONL.

Every output is written to a temporary file beside its destination and then
renamed, so a killed job never leaves a half-written file that looks complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    Works for files and for directories (e.g. a saved model): the caller
    writes whatever it wants at the yielded path.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent)) / final.name
    try:
        yield tmp
        if final.is_dir() and not final.is_symlink():
            _remove_tree(final)
        os.replace(tmp, final)
    finally:
        _remove_tree(tmp.parent)


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8"):
    """Open a temporary file for writing and move it onto ``path`` when closed cleanly."""
    with atomic_path(path) as tmp:
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": "\n"}
        with open(tmp, mode, **kwargs) as handle:
            yield handle


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict[str, Any]]) -> int:
    """Write ``rows`` as JSON lines (UTF-8, not ASCII-escaped) atomically; return the count."""
    count = 0
    with atomic_write(path) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def read_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read a JSON-lines file; a malformed line raises an error naming file and line."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{line_no}: not valid JSON ({err.msg})") from None
    return rows


def write_lines(path: str | os.PathLike, lines: Iterable[str]) -> int:
    """Write one string per line atomically; newlines inside a string are an error."""
    count = 0
    with atomic_write(path) as handle:
        for line in lines:
            if "\n" in line:
                raise ValueError(f"{path}: line {count + 1} contains a newline")
            handle.write(line + "\n")
            count += 1
    return count


def read_lines(path: str | os.PathLike) -> list[str]:
    """Read a UTF-8 text file into a list of lines without trailing newlines.

    Invalid UTF-8 is an error naming the file and line (raw corpora, where bad
    lines are dropped and counted instead, go through ``algharb.data.ingest``).
    """
    lines = []
    with open(path, "rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            try:
                lines.append(raw.decode("utf-8").removesuffix("\n").removesuffix("\r"))
            except UnicodeDecodeError as err:
                raise ValueError(f"{path}:{line_no}: not valid UTF-8 ({err.reason})") from None
    return lines


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write one JSON document atomically (pretty-printed, UTF-8)."""
    with atomic_write(path) as handle:
        json.dump(obj, handle, ensure_ascii=False, indent=2)
        handle.write("\n")


def read_json(path: str | os.PathLike) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
