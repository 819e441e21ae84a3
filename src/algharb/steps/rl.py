"""RL data steps: sample RL sources, build candidate pools, score them with QE."""

from __future__ import annotations

import logging
import random
from pathlib import Path

from ..config.sections import PoolConfig
from ..generation import Sampling, translate_in_chunks
from ..io import read_jsonl, read_lines, write_jsonl, write_lines
from ..metrics.comet import comet_scorer
from .common import read_nonempty_lines

log = logging.getLogger(__name__)


def sample_rl_sources(in_path, out_path, n: int, seed: int, exclude_paths=()) -> int:
    """Up to ``n`` distinct source sentences (seeded), never a test-set source."""
    excluded = {line for path in exclude_paths for line in read_lines(path)}
    seen, candidates = set(), []
    for line in read_nonempty_lines(in_path):
        text = " ".join(line.split())
        if text and text not in excluded and text not in seen:
            seen.add(text)
            candidates.append(text)
    if len(candidates) < n:
        log.warning("%s: only %d usable sources for the %d requested", in_path, len(candidates), n)
    chosen = random.Random(seed).sample(candidates, min(n, len(candidates)))
    return write_lines(out_path, chosen)


def build_pool(sources_path, out_path, src_lang: str, tgt_lang: str, policy: dict, teacher: dict | None,
               pool: PoolConfig, seed: int, threads: int = 1, chunk_dir=None) -> int:
    """Per source: ``pool.samples`` translations of the policy + (optionally) one of the teacher.

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
    rows = []
    for i, (src, samples, taught) in enumerate(zip(sources, own, teacher_out)):
        candidates = [{"text": t, "origin": "self"} for t in samples]
        candidates += [{"text": t, "origin": "teacher"} for t in taught]
        rows.append({"id": f"{src_lang}-{tgt_lang}-{i}", "src": src, "src_lang": src_lang,
                     "tgt_lang": tgt_lang, "candidates": candidates})
    return write_jsonl(out_path, rows)


def _subdir(directory, name: str):
    return None if directory is None else Path(directory) / name


def score_pool(pool_path, out_path, model: dict, batch_size: int, threads: int = 1) -> int:
    """Attach a QE score to every candidate of every pool row (``batch_size``: the QE section's)."""
    rows = read_jsonl(pool_path)
    flat_src = [r["src"] for r in rows for _ in r["candidates"]]
    flat_mt = [c["text"] for r in rows for c in r["candidates"]]
    scores = comet_scorer(model, batch_size=batch_size, threads=threads).score(flat_src, flat_mt)
    position = 0
    for row in rows:
        for cand in row["candidates"]:
            cand["qe"] = round(float(scores[position]), 6)
            position += 1
    return write_jsonl(out_path, rows)
