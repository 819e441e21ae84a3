"""Collab-MT steps: the experts' training rows, the scores of every decoding, the Table 6 layout."""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

import pandas as pd

from pathlib import Path

from ..data.decisions import write_tsv
from ..generation.chunks import translate_in_chunks
from ..generation.sampling import Sampling
from ..io import atomic_path, read_lines, write_jsonl, write_lines
from ..metrics import MetricInputs, build_metric
from ..prompts import split_pair
from ..report.tables import write_table
from .common import read_nonempty_lines, read_parallel_lines, read_spec_corpus
from ..collab.table import comparison_table, display_caption, display_table

log = logging.getLogger(__name__)


def train_rows_step(spec: dict, direction: str, out_path, where: str) -> int:
    """A direction's training corpus as SFT rows {src, tgt, src_lang, tgt_lang} (JSONL)."""
    corpus = read_spec_corpus(spec, where)
    if not len(corpus):
        raise ValueError(f"{where}: the training corpus of {direction} is empty")
    src_lang, tgt_lang = split_pair(direction)
    rows = [{"src": s, "tgt": t, "src_lang": src_lang, "tgt_lang": tgt_lang} for s, t in zip(corpus.src, corpus.tgt)]
    write_jsonl(out_path, rows)
    log.info("%s: %d training rows", direction, len(rows))
    return len(rows)


def decode_direction(generators: Mapping[str, dict], src_path, out_dir, src_lang: str, tgt_lang: str,
                     sampling: dict, chunk_dir, chunk_size: int, threads: int = 1) -> int:
    """Every distinct decoding of a direction, ``{row}.txt`` each, in one job (one import, shared test set).

    ``generators``: decoded row → its models entry (``transformers`` or
    ``fusion``). Each row is generated in chunks kept under
    ``chunk_dir/{row}`` (:func:`~algharb.generation.chunks.translate_in_chunks`),
    so a killed job resumes from its finished rows and chunks.
    """
    sources = read_nonempty_lines(src_path)
    settings = Sampling.from_dict(sampling, where="collab.sampling")
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        for row, generator in generators.items():
            log.info("decoding %s (%s)", row, generator.get("backend"))
            outputs = translate_in_chunks(generator, sources, src_lang, tgt_lang, settings, chunk_size=chunk_size,
                                          chunk_dir=Path(chunk_dir) / row, threads=threads)
            write_lines(tmp / f"{row}.txt", [texts[0] for texts in outputs])
    return len(generators)


def score_decodings(src_path, ref_path, hypotheses: Mapping[str, str], decoded_as: Mapping[str, str],
                    direction: str, metrics: Sequence[str], metric_models: Mapping[str, dict], batch_size: int,
                    threads: int, out_path) -> pd.DataFrame:
    """Every table row's score under every metric for one direction, each decoding scored once.

    ``hypotheses``: decoded row → hypothesis file; ``decoded_as``: table row →
    the decoded row whose output it shares. Writes a TSV with columns row,
    direction, metric, score, decoded_as, signature.
    """
    sources, references = read_parallel_lines(src_path, ref_path)
    inputs = MetricInputs(tgt_lang=split_pair(direction)[1], model=None, batch_size=batch_size, threads=threads,
                          models=dict(metric_models))
    scorers = {name: build_metric(name, inputs) for name in metrics}
    scored = {}
    for decoded, path in hypotheses.items():
        outputs = read_lines(path)
        if len(outputs) != len(sources):
            raise ValueError(f"{path} has {len(outputs)} lines but the test set {src_path} has {len(sources)}")
        scored[decoded] = {name: scorer.score(sources, outputs, references) for name, scorer in scorers.items()}
    lines = []
    for row, decoded in decoded_as.items():
        if decoded not in scored:
            raise ValueError(f"collab scores: row {row!r} reuses {decoded!r}, which has no hypothesis file")
        lines += [{"row": row, "direction": direction, "metric": name, "score": result.score,
                   "decoded_as": decoded, "signature": result.signature}
                  for name, result in scored[decoded].items()]
    table = pd.DataFrame(lines)
    write_tsv(out_path, table)
    return table


def table_step(score_paths: Sequence[str], rows: Sequence[Mapping], directions: Sequence[str],
               metrics: Sequence[str], out_tsv, out_md, out_tex) -> pd.DataFrame:
    """Table 6: TSV with one number per column; Markdown and LaTeX with "BLEU / BERTScore" cells."""
    scores = pd.concat([pd.read_csv(path, sep="\t") for path in score_paths], ignore_index=True)
    table = comparison_table(scores, rows, directions, metrics)
    write_table(table.set_index(["size", "method", "formula"]), tsv_path=out_tsv)
    shown = display_table(table, directions, metrics)
    caption = "Logit fusion (Collab-MT Table 6 layout); " + display_caption(metrics)
    write_table(shown, md_path=out_md, tex_path=out_tex, caption=caption, note=caption)
    return table
