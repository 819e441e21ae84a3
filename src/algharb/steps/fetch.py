"""Fetch the paper's data on a connected machine (the demo never calls these).

- training corpora with ``mtdata`` (WMT's own tool for its data recipes);
- WMT24/25 general-MT test sets from the organisers' JSONL release;
- RL source sentences from WMT test sets through sacrebleu.

Every output is written atomically, so an interrupted download leaves no
file that looks complete.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from ..data.ingest import read_wmt_jsonl  # the parser lives with the other readers; re-exported here
from ..io import atomic_path, write_lines

__all__ = ["fetch_mtdata", "fetch_sacrebleu_sources", "fetch_wmt_jsonl", "read_wmt_jsonl"]

log = logging.getLogger(__name__)


def fetch_mtdata(langs: str, datasets: list[str], out_src, out_tgt) -> None:
    """``mtdata get -l {langs} --train ... --merge`` and move the merged train files into place."""
    if not datasets:
        raise ValueError(f"no mtdata datasets configured for {langs}")
    src_lang, tgt_lang = langs.split("-")
    with tempfile.TemporaryDirectory(dir=Path(out_src).parent) as work:
        command = ["mtdata", "get", "-l", langs, "--train", *datasets, "--merge", "--out", work]
        log.info("running %s", " ".join(command))
        subprocess.run(command, check=True)
        merged = {side: _find_merged(Path(work), side) for side in (src_lang, tgt_lang)}
        for side, out in ((src_lang, out_src), (tgt_lang, out_tgt)):
            with atomic_path(out) as tmp:
                shutil.copyfile(merged[side], tmp)


def _find_merged(work: Path, lang: str) -> Path:
    matches = sorted(p for p in work.rglob(f"train*.{lang}") if p.is_file())
    if not matches:
        raise FileNotFoundError(f"mtdata produced no merged train file for '{lang}' under {work}")
    return matches[0]


def fetch_wmt_jsonl(url: str, doc_prefix: str, reference_key: str | None, out_src, out_ref) -> None:
    """Download a WMT JSONL release and write the matching documents as line-aligned source/reference files.

    The response is parsed line by line as it arrives (the release is large);
    a blind set (no ``reference_key``) gets an empty reference per source.
    """
    with urllib.request.urlopen(url, timeout=300) as response:
        sources, references = read_wmt_jsonl(response, doc_prefix, reference_key, origin=url)
    write_lines(out_src, sources)
    write_lines(out_ref, references if reference_key else [""] * len(sources))


def fetch_sacrebleu_sources(testsets: list[str], out_path) -> int:
    """Source sides of ``testset:langpair`` entries (e.g. ``wmt22:en-de``), concatenated."""
    import sacrebleu

    lines: list[str] = []
    for entry in testsets:
        testset, langpair = entry.split(":")
        path = sacrebleu.get_source_file(testset, langpair=langpair)
        lines += [line.rstrip("\n") for line in open(path, encoding="utf-8")]
    return write_lines(out_path, lines)
