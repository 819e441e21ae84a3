"""Decoding steps: greedy baselines, candidate pools, hybrid MBR scores, selection."""

from __future__ import annotations

import logging

import numpy as np

from ..decode.align import ALIGNERS, EflomalAligner, WSPAlignAligner
from ..decode.mbr import select_scored_row, utility_matrices
from ..generation import Sampling, load_backend, translate_in_chunks
from ..io import read_jsonl, write_jsonl, write_lines
from ..metrics import triple_utility
from ..models import ModelSpec, local_model_dir
from .common import comet_scorer, read_nonempty_lines

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


def hybrid_scores_file(candidates_path, out_path, tgt_lang: str, utility_model: dict, mbr: dict,
                       align: dict, reference_path=None, threads: int = 1, seed: int | None = None) -> int:
    """Save, per source, the N×N utility matrix and the N alignment scores.

    Selection (and any λ sweep) then needs no model call.
    """
    rows = read_jsonl(candidates_path)
    if not rows:
        raise ValueError(f"{candidates_path} holds no candidates")
    utility_name = mbr.get("utility", "comet")
    scorer = (
        comet_scorer(utility_model, batch_size=mbr.get("batch_size", 64), threads=threads)
        if utility_name == "comet"
        else None
    )
    matrices = _utility_matrices(rows, utility_name, tgt_lang, scorer, mbr)
    alignments = _alignment_scores(rows, align, reference_path, seed)
    out = []
    for row, matrix, align_scores in zip(rows, matrices, alignments):
        out.append({**row, "utility": np.round(matrix, 6).tolist(), "align": align_scores,
                    "utility_name": utility_name, "align_backend": align.get("backend", "none")})
    return write_jsonl(out_path, out)


# Sentences whose candidates are encoded together by the factorised COMET utility.
COMET_SENTENCES_PER_BATCH = 32


def _utility_matrices(rows, utility_name: str, tgt_lang: str, scorer, mbr: dict) -> list[np.ndarray]:
    """N×N utilities per source: COMET factorised (each sentence encoded once) when the model allows it."""
    sources, candidates = [r["src"] for r in rows], [r["candidates"] for r in rows]
    if utility_name == "chrf":
        from ..metrics.chrf_matrix import chrf_matrix  # all N×N sentence chrF at once, equal to sacrebleu's

        return [chrf_matrix(texts) for texts in candidates]
    if scorer is not None:
        from ..metrics.comet_mbr import UnsupportedCometModel, check_supported, comet_utility_matrices

        try:
            check_supported(scorer.model)
        except UnsupportedCometModel as err:
            log.warning("%s; scoring every candidate pair with the full model instead", err)
        else:
            device = "cuda" if scorer.gpus else "cpu"
            matrices = []
            for start in range(0, len(rows), COMET_SENTENCES_PER_BATCH):
                stop = start + COMET_SENTENCES_PER_BATCH
                matrices += comet_utility_matrices(scorer.model, sources[start:stop], candidates[start:stop],
                                                   batch_size=mbr.get("batch_size", 64), device=device,
                                                   precision=mbr.get("precision"))
            return matrices
    utility = triple_utility(utility_name, lang=tgt_lang, comet_scorer=scorer)
    return utility_matrices(sources, candidates, utility)


def build_aligner(align: dict, reference_path=None, seed: int | None = None):
    """The configured alignment backend, or None for ``backend: none``.

    ``seed`` (the run's seed) makes eflomal reproducible unless ``align.seed`` overrides it (null: unseeded).
    """
    backend = align.get("backend", "none")
    if backend == "none":
        return None
    if backend == "eflomal":
        reference = read_jsonl(reference_path)[: align.get("reference_pairs", 10000)] if reference_path else []
        return EflomalAligner([r["src"] for r in reference], [r["tgt"] for r in reference],
                              symmetrize_mode=align.get("symmetrize", "intersection"),
                              seed=align.get("seed", seed))
    if backend == "wspalign":
        if "model" not in align:
            raise ValueError("decode.align.model is required for the wspalign backend")
        return WSPAlignAligner(local_model_dir(align["model"]), threshold=align.get("threshold", 0.1),
                               batch_size=align.get("batch_size", 64))
    raise ValueError(f"unknown alignment backend {backend!r}; choose one of {['none', *sorted(ALIGNERS)]}")


def _alignment_scores(rows, align: dict, reference_path, seed=None) -> list[list[float] | None]:
    aligner = build_aligner(align, reference_path, seed)
    if aligner is None:
        return [None] * len(rows)
    flat_src = [r["src"] for r in rows for _ in r["candidates"]]
    flat_hyp = [c for r in rows for c in r["candidates"]]
    flat = aligner.score(flat_src, flat_hyp)
    scores, offset = [], 0
    for row in rows:
        scores.append([round(s, 6) for s in flat[offset : offset + len(row["candidates"])]])
        offset += len(row["candidates"])
    return scores


def hybrid_select_file(scores_path, hyp_path, selections_path, lam: float, mbr: dict) -> int:
    """Pick one candidate per source with S_MBR + λ·S_align and write the output."""
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


def lambda_sweep_file(score_paths, reference_paths, pairs, lambdas, mbr: dict, out_tsv, out_md, out_png,
                      world: dict | None = None) -> "pd.DataFrame":
    """The λ sweep table and plot from saved hybrid scores (no model call).

    ``world`` (the demo world's config, with seed and pairs) adds the share
    of outputs that omit source content, judged by the world's oracle.
    """
    from ..decode.sweep import sweep
    from ..io import read_lines
    from ..report.plots import lambda_sweep_lines
    from ..report.tables import write_table

    rows = {pair: read_jsonl(path) for pair, path in zip(pairs, score_paths)}
    references = {pair: read_lines(path) for pair, path in zip(pairs, reference_paths)}
    oracles = _omission_oracles(pairs, world) if world is not None else None
    table = sweep(pairs, rows, references, lambdas, mbr, oracles)
    write_table(table.set_index("pair"), tsv_path=out_tsv, md_path=out_md)
    lambda_sweep_lines(table, out_png)
    log.info("lambda sweep:\n%s", table.to_string())
    return table


def _omission_oracles(pairs, world: dict) -> dict:
    from ..demo.world import load_world

    oracle = load_world(world)
    return {pair: (lambda src, hyp, lang=pair.split("-", 1)[1]: bool(oracle.omitted_content(src, hyp, lang)))
            for pair in pairs}
