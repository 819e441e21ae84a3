"""Helpers shared by the file-level steps."""

from __future__ import annotations

import logging

from ..io import read_lines

log = logging.getLogger(__name__)


def read_spec_corpus(spec: dict, where: str):
    """The corpus a config spec describes; malformed lines (e.g. invalid UTF-8) are left out and reported."""
    from ..data.ingest import read_corpus

    corpus = read_corpus(spec, where=where)
    if corpus.malformed_lines:
        first = [f"{line} ({reason})" for line, reason in list(corpus.malformed_lines.items())[:10]]
        log.warning("%s: dropped %d malformed pair(s) (lines %s)", where, len(corpus.malformed_lines),
                    ", ".join(first))
    return corpus


def read_parallel_lines(src_path, tgt_path) -> tuple[list[str], list[str]]:
    """Two line-aligned files; different lengths are an error naming both."""
    sources, targets = read_lines(src_path), read_lines(tgt_path)
    if len(sources) != len(targets):
        raise ValueError(f"{src_path} has {len(sources)} lines but {tgt_path} has {len(targets)}")
    return sources, targets


def read_nonempty_lines(path) -> list[str]:
    lines = read_lines(path)
    if not lines:
        raise ValueError(f"{path} is empty")
    return lines

