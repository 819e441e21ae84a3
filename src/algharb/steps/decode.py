"""Decoding steps: greedy baselines, candidate pools, hybrid MBR scores, selection."""

from __future__ import annotations

import logging

import numpy as np

from ..decode.align import AlignerInputs, build_aligner
from ..decode.config import AlignConfig, MBRConfig
from ..decode.mbr import select_scored_row
from ..decode.utility import UtilityInputs, build_utility
from ..generation import Sampling, load_backend, translate_in_chunks
from ..io import read_jsonl, write_jsonl, write_lines
from ..models import ModelSpec
from .common import read_nonempty_lines

log = logging.getLogger(__name__)


def translate_file(model: dict, src_path, out_path, src_lang: str, tgt_lang: str,
                   sampling: dict, threads: int = 1) -> int:
    """One translation per source line (greedy unless the sampling says otherwise)."""
    sources = read_nonempty_lines(src_path)
    settings = Sampling.from_dict(sampling, where="decode.baseline_sampling")
    outputs = load_backend(model, threads=threads).translate(sources, src_lang, tgt_lang, settings)
    return write_lines(out_path, [texts[0] for texts in outputs])


def candidates_file(model: dict, src_path, out_path, src_lang: str, tgt_lang: str, n: int,
                    sampling: dict, seed: int, chunk_size: int, threads: int = 1, chunk_dir=None) -> int:
    """N sampled candidates per source, as JSONL with the sampling settings recorded.

    ``n``, ``sampling`` and ``chunk_size`` are those of ``decode.candidates``
    (``CandidatesConfig``); ``seed`` (the run's) seeds the sampling unless
    ``sampling`` has its own. With ``chunk_dir`` the model works
    ``chunk_size`` sources at a time and a rerun resumes from the finished
    chunks (see ``translate_in_chunks``).
    """
    spec = ModelSpec.from_dict(model)
    sources = read_nonempty_lines(src_path)
    settings = Sampling.from_dict({"seed": seed, **sampling, "n": n}, where="decode.candidates.sampling")
    outputs = translate_in_chunks(model, sources, src_lang, tgt_lang, settings, chunk_dir=chunk_dir,
                                  chunk_size=chunk_size, threads=threads)
    rows = (
        {
            "id": i,
            "src": src,
            "candidates": cands,
            "sampling": settings.to_dict(),
            "backend": spec.backend,
            "model": spec.location,
        }
        for i, (src, cands) in enumerate(zip(sources, outputs))
    )
    return write_jsonl(out_path, rows)


def candidate_scores_file(candidates_path, out_path, tgt_lang: str, utility_model: dict | None, mbr: MBRConfig,
                          align: AlignConfig, reference_path=None, threads: int = 1) -> int:
    """Save, per source, the N×N utility matrix and the N alignment scores (the ``hybrid_scores`` rule).

    ``mbr`` names the utility (``utility_model`` is ``models.utility``),
    ``align`` the aligner (``reference_path``: the pair's clean training
    data, eflomal's lexical statistics). Selection (and any λ sweep) then
    needs no model call.
    """
    rows = read_jsonl(candidates_path)
    if not rows:
        raise ValueError(f"{candidates_path} holds no candidates")
    utility = build_utility(mbr, UtilityInputs(tgt_lang=tgt_lang, model=utility_model, threads=threads))
    matrices = utility.matrices([r["src"] for r in rows], [r["candidates"] for r in rows])
    aligner = build_aligner(align, AlignerInputs(tgt_lang=tgt_lang, reference_path=reference_path))
    alignments = _alignment_scores(rows, aligner)
    out = []
    for row, matrix, align_scores in zip(rows, matrices, alignments):
        out.append({**row, "utility": np.round(matrix, 6).tolist(), "align": align_scores,
                    "utility_name": mbr.utility, "align_backend": align.backend})
    return write_jsonl(out_path, out)


def _alignment_scores(rows, aligner) -> list[list[float] | None]:
    """Per row, the rounded ``S_align`` of each candidate (None per row without an alignment term)."""
    flat_src = [r["src"] for r in rows for _ in r["candidates"]]
    flat_hyp = [c for r in rows for c in r["candidates"]]
    flat = aligner.score(flat_src, flat_hyp)
    if flat is None:
        return [None] * len(rows)
    scores, offset = [], 0
    for row in rows:
        scores.append([round(s, 6) for s in flat[offset : offset + len(row["candidates"])]])
        offset += len(row["candidates"])
    return scores


def hybrid_select_file(scores_path, hyp_path, selections_path, lam: float, mbr: MBRConfig) -> int:
    """Pick one candidate per source with S_MBR + λ·S_align and write the output.

    Only ``mbr.aggregate`` and ``mbr.include_self`` matter here (``MBRConfig.selection()``).
    """
    rows = read_jsonl(scores_path)
    selections, hyps = [], []
    empty = [row.get("id") for row in rows if not row["candidates"]]
    if empty:
        # A source without any candidate gets an empty output, counted and logged, never a crash mid-file.
        log.warning("%d source(s) have no candidate and get an empty output (ids %s)", len(empty), empty[:10])
    for row in rows:
        choice = select_scored_row(row, lam, mbr)
        kept = {k: v for k, v in row.items() if k not in ("utility", "align")}
        if choice is None:
            hyps.append("")
            selections.append({**kept, "selected": "", "index": None, "lambda": lam})
            continue
        hyps.append(row["candidates"][choice.index])
        selections.append({**kept, "selected": hyps[-1], "index": choice.index, "mbr": choice.mbr,
                           "align": choice.align, "hybrid": choice.hybrid, "lambda": lam})
    write_jsonl(selections_path, selections)
    return write_lines(hyp_path, hyps)


def lambda_sweep_file(score_paths, reference_paths, pairs, lambdas, mbr: MBRConfig, out_tsv, out_md, out_png,
                      columns: dict | None = None) -> "pd.DataFrame":
    """The λ sweep table and plot from saved hybrid scores (no model call).

    ``columns`` adds statistics of the chosen outputs (see :func:`algharb.decode.sweep.sweep`).
    """
    from ..decode.sweep import sweep
    from ..io import read_lines
    from ..report.plots import lambda_sweep_lines
    from ..report.tables import write_table

    rows = {pair: read_jsonl(path) for pair, path in zip(pairs, score_paths)}
    references = {pair: read_lines(path) for pair, path in zip(pairs, reference_paths)}
    table = sweep(pairs, rows, references, lambdas, mbr, columns)
    write_table(table.set_index("pair"), tsv_path=out_tsv, md_path=out_md)
    lambda_sweep_lines(table, out_png)
    log.info("lambda sweep:\n%s", table.to_string())
    return table
