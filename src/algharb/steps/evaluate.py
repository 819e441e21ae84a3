"""Evaluation steps: score one system on one test set; build the ablation table."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..io import read_json, read_lines, write_json
from ..metrics import MetricInputs, build_metric
from .common import read_parallel_lines

log = logging.getLogger(__name__)


def evaluate_file(src_path, ref_path, hyp_path, out_path, metrics: list[str], tgt_lang: str, model: dict | None,
                  batch_size: int, threads: int = 1) -> dict:
    """Corpus scores (0–100) of one hypothesis file, with signatures, as JSON.

    ``metrics`` are registry names (``evaluate.metrics``: chrf, bleu, xcomet,
    ...); ``model`` is ``models.evaluation`` and ``batch_size``
    ``evaluate.comet_batch_size``, for the metrics that run a model.
    """
    sources, references = read_parallel_lines(src_path, ref_path)
    hypotheses = read_lines(hyp_path)
    if len(hypotheses) != len(sources):
        raise ValueError(f"{hyp_path} has {len(hypotheses)} lines but the test set {src_path} has {len(sources)}")
    inputs = MetricInputs(tgt_lang=tgt_lang, model=model, batch_size=batch_size, threads=threads)
    result = {"n_segments": len(sources), "hypotheses": str(hyp_path), "scores": {}}
    for name in metrics:
        result["scores"][name] = build_metric(name, inputs).score(sources, hypotheses, references)
    write_json(out_path, result)
    return result


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
