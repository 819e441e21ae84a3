"""Fetch the paper's data on a connected machine (the demo never calls these).

- training corpora with ``mtdata`` (WMT's own tool for its data recipes);
- WMT24/25 general-MT test sets from the organisers' JSONL release;
- RL source sentences from WMT test sets through sacrebleu.

Every output is written atomically, so an interrupted download leaves no
file that looks complete.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from ..io import atomic_path, write_lines

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


def read_wmt_jsonl(lines, doc_prefix: str, reference_key: str | None) -> tuple[list[str], list[str]]:
    """Sources (and references) of the documents whose ``doc_id`` starts with ``doc_prefix``.

    WMT24/25 release one JSON object per document with ``doc_id``, ``src_text``
    and, in the human-evaluation release, ``tgt_text`` keyed by system/reference
    name. A document is one segment here; internal newlines become spaces so
    that files stay line-aligned.
    """
    sources, references = [], []
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        if not str(record.get("doc_id", "")).startswith(doc_prefix):
            continue
        sources.append(" ".join(record["src_text"].split()))
        if reference_key:
            targets = record.get("tgt_text") or {}
            if reference_key not in targets:
                raise ValueError(f"line {line_no}: document {record['doc_id']} has no reference '{reference_key}'")
            references.append(" ".join(targets[reference_key].split()))
    if not sources:
        raise ValueError(f"no document with doc_id prefix '{doc_prefix}'")
    return sources, references


def fetch_wmt_jsonl(url: str, doc_prefix: str, reference_key: str | None, out_src, out_ref) -> None:
    with urllib.request.urlopen(url, timeout=300) as response:
        text = response.read().decode("utf-8")
    sources, references = read_wmt_jsonl(text.splitlines(), doc_prefix, reference_key)
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
