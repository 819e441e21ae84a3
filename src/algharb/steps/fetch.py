"""Fetch the paper's data on a connected machine (the demo never calls these).

- training corpora with ``mtdata`` (WMT's own tool for its data recipes);
- WMT24/25 general-MT test sets from the organisers' JSONL release;
- RL source sentences from WMT test sets through sacrebleu;
- Collab-MT's data: the ALT corpus (its own train/dev/test split by article),
  a WMT test set's both sides through sacrebleu, and a seeded sample of a
  fetched corpus split into train and test.

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

__all__ = ["fetch_alt", "fetch_mtdata", "fetch_sacrebleu_pair", "fetch_sacrebleu_sources", "fetch_wmt_jsonl",
           "read_alt", "read_wmt_jsonl", "sample_train_test"]

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


ALT_SPLITS = ("train", "dev", "test")


def read_alt(data: dict[str, str], split_urls: dict[str, str]) -> dict[str, dict[str, list[str]]]:
    """ALT sentences by split and language, aligned by sentence id.

    ``data``: language → the text of ``data_{lang}.txt`` (lines ``SNT.{article}.{sentence}\t{text}``);
    ``split_urls``: split → the text of ``URL-{split}.txt`` (lines ``URL.{article}\t{url}``), which
    assign whole articles to a split. A sentence missing in one language is left out of every split.
    """
    texts = {lang: _alt_sentences(content, lang) for lang, content in data.items()}
    shared = set.intersection(*(set(sentences) for sentences in texts.values()))
    article_split = {}
    for split, content in split_urls.items():
        for number, line in enumerate(content.splitlines(), 1):
            if line.strip():
                key = line.split("\t", 1)[0]
                if not key.startswith("URL."):
                    raise ValueError(f"ALT URL-{split}.txt line {number}: expected 'URL.<article>\\t<url>', got {line!r}")
                article_split[key[len("URL."):]] = split
    out = {split: {lang: [] for lang in texts} for split in split_urls}
    for sentence_id in sorted(shared, key=_alt_order):
        split = article_split.get(sentence_id.split(".")[1])
        if split is not None:
            for lang, sentences in texts.items():
                out[split][lang].append(sentences[sentence_id])
    return out


def _alt_sentences(content: str, lang: str) -> dict[str, str]:
    sentences = {}
    for number, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        key, _, text = line.partition("\t")
        if not key.startswith("SNT.") or key.count(".") != 2:
            raise ValueError(f"ALT data_{lang}.txt line {number}: expected 'SNT.<article>.<sentence>\\t<text>'")
        sentences[key] = " ".join(text.split())
    return sentences


def _alt_order(sentence_id: str) -> tuple[int, int]:
    _, article, sentence = sentence_id.split(".")
    return int(article), int(sentence)


def fetch_alt(url: str, langs: list[str], out_dir) -> dict:
    """Download the ALT parallel corpus (a zip) and write ``{split}.{lang}`` for each split under ``out_dir``."""
    import io
    import zipfile

    with urllib.request.urlopen(url, timeout=600) as response:
        archive = zipfile.ZipFile(io.BytesIO(response.read()))

    def member(name: str) -> str:
        matches = [n for n in archive.namelist() if n.endswith("/" + name) or n == name]
        if not matches:
            raise FileNotFoundError(f"{url}: the archive has no {name}")
        return archive.read(matches[0]).decode("utf-8")

    splits = read_alt({lang: member(f"data_{lang}.txt") for lang in langs},
                      {split: member(f"URL-{split}.txt") for split in ALT_SPLITS})
    counts = {}
    for split, sides in splits.items():
        for lang, lines in sides.items():
            write_lines(Path(out_dir) / f"{split}.{lang}", lines)
        counts[split] = len(next(iter(sides.values())))
    log.info("ALT %s: %s", langs, counts)
    return counts


def fetch_sacrebleu_pair(testset: str, langpair: str, out_src, out_tgt) -> int:
    """Both sides of a sacrebleu test set (e.g. ``wmt18``, ``en-de``) as line-aligned files."""
    import sacrebleu

    source = sacrebleu.get_source_file(testset, langpair=langpair)
    reference = sacrebleu.get_reference_files(testset, langpair=langpair)[0]
    sources, references = (open(path, encoding="utf-8").read().splitlines() for path in (source, reference))
    if len(sources) != len(references):
        raise ValueError(f"sacrebleu {testset} {langpair}: {len(sources)} sources but {len(references)} references")
    write_lines(out_src, sources)
    return write_lines(out_tgt, references)


def sample_train_test(src_path, tgt_path, n_train: int, n_test: int, seed: int, out: dict) -> dict:
    """A seeded sample of ``n_train + n_test`` distinct pairs of a corpus, the first ``n_test`` as test.

    Collab-MT's WMT19 en–de data: 20,000 pairs drawn from the training data,
    2,000 of them held out as the test set. ``out`` maps train_src,
    train_tgt, test_src, test_tgt to paths. Empty and repeated pairs are
    not drawn.
    """
    import random

    from .common import read_parallel_lines

    sources, targets = read_parallel_lines(src_path, tgt_path)
    pairs = list(dict.fromkeys((s, t) for s, t in zip(sources, targets) if s.strip() and t.strip()))
    if len(pairs) < n_train + n_test:
        raise ValueError(f"{src_path}: {len(pairs)} distinct non-empty pairs, fewer than the {n_train} + {n_test} "
                         "to sample")
    chosen = random.Random(seed).sample(pairs, n_train + n_test)
    for split, part in (("test", chosen[:n_test]), ("train", chosen[n_test:])):
        write_lines(out[f"{split}_src"], [s for s, _ in part])
        write_lines(out[f"{split}_tgt"], [t for _, t in part])
    return {"train": n_train, "test": n_test, "pool": len(pairs)}
