"""Evaluation steps: score one system on one test set; build the ablation table."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import read_json, read_lines, write_json
from ..metrics.sacre import corpus_score
from .common import comet_scorer, read_parallel_lines

log = logging.getLogger(__name__)

# Metric names in config → how they are computed. ``xcomet`` is whatever
# COMET checkpoint ``models.evaluation`` names (XCOMET-XXL in the paper).
SACREBLEU = ("chrf", "bleu")


def evaluate_file(src_path, ref_path, hyp_path, out_path, metrics: list[str], tgt_lang: str,
                  model: dict | None = None, batch_size: int = 64, threads: int = 1) -> dict:
    """Corpus scores (0–100) of one hypothesis file, with signatures, as JSON."""
    sources, references = read_parallel_lines(src_path, ref_path)
    hypotheses = read_lines(hyp_path)
    if len(hypotheses) != len(sources):
        raise ValueError(f"{hyp_path} has {len(hypotheses)} lines but the test set {src_path} has {len(sources)}")
    result = {"n_segments": len(sources), "hypotheses": str(hyp_path), "scores": {}}
    for metric in metrics:
        if metric in SACREBLEU:
            result["scores"][metric] = corpus_score(metric, hypotheses, references, tgt_lang)
        elif metric == "xcomet":
            result["scores"][metric] = _comet_score(model, sources, hypotheses, references, batch_size, threads)
        else:
            raise ValueError(f"unknown evaluation metric {metric!r}")
    write_json(out_path, result)
    return result


def _comet_score(model, sources, hypotheses, references, batch_size, threads) -> dict:
    if model is None:
        raise ValueError("metric 'xcomet' needs models.evaluation")
    scorer = comet_scorer(model, batch_size=batch_size, threads=threads)
    segments = scorer.score(sources, hypotheses, references)
    # Reported ×100 as in Table 2 of the paper.
    return {"metric": "xcomet", "score": 100.0 * float(np.mean(segments)),
            "signature": f"comet:{model.get('path', model.get('hub'))}"}


def collect_scores(eval_paths) -> pd.DataFrame:
    """Long table: system, pair, metric, score, signature — from results/eval/{system}/{pair}.json."""
    rows = []
    for path in eval_paths:
        path = Path(path)
        result = read_json(path)
        for metric, value in result["scores"].items():
            rows.append({"system": path.parent.name, "pair": path.stem, "metric": metric,
                         "score": value["score"], "signature": value["signature"]})
    return pd.DataFrame(rows, columns=["system", "pair", "metric", "score", "signature"])


def ablation_table(scores: pd.DataFrame, metric: str, systems: list[str], pairs: list[str]) -> pd.DataFrame:
    """Table 2 layout: one row per system, AVG then one column per direction."""
    chosen = scores[scores["metric"] == metric]
    wide = chosen.pivot(index="system", columns="pair", values="score")
    wide = wide.reindex(index=[s for s in systems if s in wide.index], columns=pairs)
    wide.insert(0, "AVG", wide.mean(axis=1, skipna=False))
    wide.index.name = "system"
    return wide.round(2)
