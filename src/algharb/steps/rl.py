"""RL data steps: sample RL sources, build candidate pools, score them with QE."""

from __future__ import annotations

import logging
import random
from pathlib import Path

from ..config.sections import PoolConfig
from ..decode.align import AlignerInputs, build_aligner
from ..decode.config import AlignConfig
from ..generation import Sampling, translate_in_chunks
from ..io import read_jsonl, read_lines, write_jsonl, write_lines
from ..metrics.comet import comet_scorer
from .common import read_nonempty_lines

log = logging.getLogger(__name__)


def sample_rl_sources(in_path, out_path, n: int, seed: int, exclude_paths=(), lines_path=None) -> int:
    """Up to ``n`` distinct source sentences (seeded), never a test-set source.

    ``lines_path`` gets the 1-based line number of each chosen source in
    ``in_path``, so that a reference file aligned with ``in_path`` can be
    read for exactly these sources (:func:`rl_references`).
    """
    excluded = {line for path in exclude_paths for line in read_lines(path)}
    seen, candidates, numbers = set(), [], []
    for number, line in enumerate(read_nonempty_lines(in_path), 1):
        text = " ".join(line.split())
        if text and text not in excluded and text not in seen:
            seen.add(text)
            candidates.append(text)
            numbers.append(number)
    if len(candidates) < n:
        log.warning("%s: only %d usable sources for the %d requested", in_path, len(candidates), n)
    chosen = random.Random(seed).sample(range(len(candidates)), min(n, len(candidates)))
    if lines_path is not None:
        write_lines(lines_path, [str(numbers[i]) for i in chosen])
    return write_lines(out_path, [candidates[i] for i in chosen])


def rl_references(references_path, sources_path, lines_path) -> list[str]:
    """The references of the sampled RL sources: line ``k`` of ``references_path`` for each chosen line ``k``.

    ``references_path`` must be line-aligned with the RL source file the
    sources were sampled from; a shorter file or an empty reference is an
    error naming the file and line.
    """
    references = read_lines(references_path)
    numbers = [int(line) for line in read_lines(lines_path)]
    if len(numbers) != len(read_lines(sources_path)):
        raise ValueError(f"{lines_path} has {len(numbers)} line numbers for the sources of {sources_path}")
    picked = []
    for number in numbers:
        if number > len(references) or not references[number - 1].strip():
            raise ValueError(f"{references_path}: no reference on line {number} (the file has {len(references)} "
                             "lines; it must be line-aligned with the RL source file)")
        picked.append(" ".join(references[number - 1].split()))
    return picked


def build_pool(sources_path, out_path, src_lang: str, tgt_lang: str, policy: dict, teacher: dict | None,
               pool: PoolConfig, seed: int, threads: int = 1, chunk_dir=None,
               references: list[str] | None = None) -> int:
    """Per source: ``pool.samples`` translations of the policy + (optionally) one of the teacher
    + the reference, when ``references`` (one per source) is given.

    ``seed`` (the run's) seeds the policy's sampling unless ``pool.sampling``
    has its own; the teacher decodes greedily. With ``chunk_dir`` both models
    work ``pool.chunk_size`` sources at a time (chunks in its ``self/`` and
    ``teacher/``) and a rerun resumes from the finished chunks (see
    ``translate_in_chunks``).
    """
    sources = read_nonempty_lines(sources_path)
    sampling = Sampling.from_dict({"seed": seed, **pool.sampling, "n": pool.samples}, where="rl.pool.sampling")
    chunking = {"chunk_size": pool.chunk_size, "threads": threads}
    own = translate_in_chunks(policy, sources, src_lang, tgt_lang, sampling,
                              chunk_dir=_subdir(chunk_dir, "self"), **chunking)
    teacher_out = [[] for _ in sources]
    if pool.include_teacher and teacher is not None:
        greedy = Sampling(n=1, temperature=0.0, max_new_tokens=sampling.max_new_tokens,
                          batch_size=sampling.batch_size)
        teacher_out = translate_in_chunks(teacher, sources, src_lang, tgt_lang, greedy,
                                          chunk_dir=_subdir(chunk_dir, "teacher"), **chunking)
    if references is not None and len(references) != len(sources):
        raise ValueError(f"{len(references)} references for the {len(sources)} sources of {sources_path}")
    rows = []
    for i, (src, samples, taught) in enumerate(zip(sources, own, teacher_out)):
        candidates = [{"text": t, "origin": "self"} for t in samples]
        candidates += [{"text": t, "origin": "teacher"} for t in taught]
        if references is not None:
            candidates.append({"text": references[i], "origin": "reference"})
        rows.append({"id": f"{src_lang}-{tgt_lang}-{i}", "src": src, "src_lang": src_lang,
                     "tgt_lang": tgt_lang, "candidates": candidates})
    return write_jsonl(out_path, rows)


def _subdir(directory, name: str):
    return None if directory is None else Path(directory) / name


def weighted_scores(scorers: dict, sources: list[str], texts: list[str], batch_size: int,
                    threads: int = 1) -> tuple[dict[str, list[float]], list[float]]:
    """Every scorer's reference-free score of each text, and their weighted mean (ALMA-R's pair score).

    ``scorers`` maps a name to ``{"model": models entry, "weight": w}``.
    """
    from ..train.pairing import weighted_score

    per_scorer = {}
    for name, scorer in scorers.items():
        log.info("scoring %d texts with %s", len(texts), name)
        scores = comet_scorer(scorer["model"], batch_size=batch_size, threads=threads).score(sources, texts)
        per_scorer[name] = [round(float(score), 6) for score in scores]
    weights = {name: scorer["weight"] for name, scorer in scorers.items()}
    combined = [round(weighted_score({name: per_scorer[name][i] for name in scorers}, weights), 6)
                for i in range(len(texts))]
    return per_scorer, combined


def score_pool(pool_path, out_path, scorers: dict, batch_size: int, threads: int = 1, align: AlignConfig | None = None,
               tgt_lang: str | None = None, reference_path=None) -> int:
    """Score every candidate of every pool row: each scorer, their weighted mean, and S_align.

    Each candidate gains ``scores`` ({scorer: score}), ``qe`` (the weighted
    mean the pairs are picked by: :func:`weighted_scores`) and, unless
    ``align`` is None or its backend is ``none``, ``align`` (the
    word-alignment coverage hybrid decoding uses; ``reference_path``: the
    pair's clean training data, eflomal's lexical statistics).
    """
    rows = read_jsonl(pool_path)
    if not rows:
        raise ValueError(f"{pool_path} holds no pool rows")
    flat_src = [r["src"] for r in rows for _ in r["candidates"]]
    flat_mt = [c["text"] for r in rows for c in r["candidates"]]
    per_scorer, combined = weighted_scores(scorers, flat_src, flat_mt, batch_size, threads)
    alignments = None
    if align is not None:
        aligner = build_aligner(align, AlignerInputs(tgt_lang=tgt_lang, reference_path=reference_path))
        alignments = aligner.score(flat_src, flat_mt)
    position = 0
    for row in rows:
        for cand in row["candidates"]:
            cand["scores"] = {name: scores[position] for name, scores in per_scorer.items()}
            cand["qe"] = combined[position]
            if alignments is not None:
                cand["align"] = round(float(alignments[position]), 6)
            position += 1
    return write_jsonl(out_path, rows)
