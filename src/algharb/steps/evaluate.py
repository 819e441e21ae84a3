"""Evaluation steps: score one system on one test set; significance; the ablation table and its companions.

Per system and direction, :func:`evaluate_file` writes the corpus scores
(JSON), one row per segment with every metric (TSV) and the error spans of
the metrics whose model predicts them (JSON). :func:`significance_tables`
resamples the segments of all systems together (paired bootstrap, see
:mod:`algharb.metrics.significance`); the ablation table marks the
differences it finds significant.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import atomic_write, read_json, read_lines, write_json
from ..metrics import MetricInputs, build_metric
from ..metrics.registry import Metric, MetricResult
from ..metrics.significance import Comparison, bootstrap_counts, compare, pair_seed, percentile_interval
from .common import read_parallel_lines

log = logging.getLogger(__name__)

SEGMENT_COLUMNS = ["id", "source", "hypothesis", "reference"]
AVERAGE = "AVG"
# Error spans pooled over every direction's segments.
ALL_DIRECTIONS = "all"
# Marks of the ablation table (gains only; a significant loss against the row above is marked too).
GAIN_OVER_ROW_ABOVE = "†"
GAIN_OVER_BASELINE = "‡"
LOSS_TO_ROW_ABOVE = "§"


def evaluate_file(src_path, ref_path, hyp_path, out_path, metrics: list[str], tgt_lang: str, model: dict | None,
                  batch_size: int, threads: int = 1, segments_path=None, spans_path=None,
                  metric_models: Mapping[str, dict] | None = None) -> dict:
    """Corpus scores (0–100) of one hypothesis file, with signatures, as JSON; segments and spans beside it.

    ``metrics`` are registry names (``evaluate.metrics``: chrf, bleu, xcomet,
    ...); ``model`` is ``models.evaluation`` and ``batch_size``
    ``evaluate.comet_batch_size``, for the metrics that run a model;
    ``metric_models`` the ``models`` entries of metrics with a model of their
    own (``bertscore``), by entry name.
    ``segments_path`` gets one row per segment (id, source, hypothesis,
    reference, one column per metric); ``spans_path`` the error spans of the
    model-based metrics, or why there are none.
    """
    sources, references = read_parallel_lines(src_path, ref_path)
    hypotheses = read_lines(hyp_path)
    if len(hypotheses) != len(sources):
        raise ValueError(f"{hyp_path} has {len(hypotheses)} lines but the test set {src_path} has {len(sources)}")
    inputs = MetricInputs(tgt_lang=tgt_lang, model=model, batch_size=batch_size, threads=threads,
                          models=dict(metric_models or {}))
    results = {name: _checked_result(name, build_metric(name, inputs).score(sources, hypotheses, references),
                                     len(sources)) for name in metrics}
    summary = {"n_segments": len(sources), "hypotheses": str(hyp_path),
               "scores": {name: result.summary() for name, result in results.items()}}
    if segments_path is not None:
        write_segment_table(segments_path, sources, hypotheses, references, results)
    if spans_path is not None:
        write_json(spans_path, _spans_record(results))
    write_json(out_path, summary)
    return summary


def _checked_result(name: str, result: MetricResult, n_segments: int) -> MetricResult:
    if len(result.segments) != n_segments:
        raise ValueError(f"metric {name!r} returned {len(result.segments)} segment scores for {n_segments} segments")
    if result.spans is not None and len(result.spans) != n_segments:
        raise ValueError(f"metric {name!r} returned error spans for {len(result.spans)} of {n_segments} segments")
    return result


def write_segment_table(path, sources, hypotheses, references, results: Mapping[str, MetricResult]) -> None:
    table = pd.DataFrame({"id": range(1, len(sources) + 1), "source": sources, "hypothesis": hypotheses,
                          "reference": references})
    for name, result in results.items():
        table[name] = result.segments
    with atomic_write(path) as handle:
        table.to_csv(handle, sep="\t", index=False, float_format="%.4f")


def read_segment_table(path) -> pd.DataFrame:
    """A segment table as written by :func:`evaluate_file` (texts stay texts: "NA" is not a missing value)."""
    table = pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[], dtype={c: str for c in SEGMENT_COLUMNS[1:]})
    missing = [c for c in SEGMENT_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: not a segment table (missing columns {missing})")
    return table


def _spans_record(results: Mapping[str, MetricResult]) -> dict:
    """Error spans of every model-based metric, or the reason it has none; string metrics are left out."""
    record = {}
    for name, result in results.items():
        if result.spans is not None:
            record[name] = {"available": True, "segments": result.spans}
        elif result.spans_note:
            record[name] = {"available": False, "note": result.spans_note}
    return record


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
    wide.insert(0, AVERAGE, wide.mean(axis=1, skipna=False))
    wide.index.name = "system"
    return wide.round(2)


# --------------------------------------------------------------------------
# Significance: every cell's interval, each row against the row above and the baseline.


def significance_tables(
    segment_files: Mapping[tuple[str, str], str],
    test_sources: Mapping[str, str],
    metrics: Sequence[str],
    systems: Sequence[str],
    pairs: Sequence[str],
    tgt_langs: Mapping[str, str],
    baseline: str,
    resamples: int,
    confidence: float,
    seed: int,
    model: dict | None = None,
    metric_models: Mapping[str, dict] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Paired bootstrap over all systems of each direction, and over their average.

    ``segment_files`` maps (system, pair) to a segment table; ``test_sources``
    maps each pair to its test-set source file, which every segment table must
    match line for line. Returns the long significance table (one row per
    direction or AVG, metric and system) and the metric-family table (the
    gain of every system over ``baseline`` averaged within each metric
    family). ``model`` and ``metric_models`` are what :func:`evaluate_file`
    was given; no model is loaded here (segment scores are resampled).
    """
    resampled: dict[tuple[str, str, str], tuple[float, np.ndarray]] = {}
    families = {}
    for pair in pairs:
        tables = _aligned_tables(segment_files, pair, test_sources[pair], systems)
        if not tables:
            continue
        counts = bootstrap_counts(len(next(iter(tables.values()))), resamples, pair_seed(seed, pair))
        for name in metrics:
            metric = _metric_for_resampling(name, tgt_langs[pair], model, metric_models)
            families[name] = metric.family
            for system, table in tables.items():
                statistic = metric.resampling_statistic(table["hypothesis"].tolist(), table["reference"].tolist(),
                                                        table[name].tolist())
                observed = statistic.score_of(statistic.stats.sum(axis=0), len(table))
                resampled[(pair, name, system)] = (observed, statistic.scores(counts))
    _add_averages(resampled, pairs, metrics, systems)
    rows = _significance_rows(resampled, [*pairs, AVERAGE], metrics, families, systems, baseline, confidence)
    family_rows = _family_rows(resampled, [*pairs, AVERAGE], metrics, families, systems, baseline, confidence)
    return pd.DataFrame(rows), pd.DataFrame(family_rows)


def _metric_for_resampling(name: str, tgt_lang: str, model: dict | None,
                           metric_models: Mapping[str, dict] | None) -> Metric:
    # Model-based metrics resample their saved segment scores: they load their model only to score.
    return build_metric(name, MetricInputs(tgt_lang=tgt_lang, model=model, batch_size=1, threads=1,
                                           models=dict(metric_models or {})))


def _aligned_tables(segment_files, pair: str, test_source: str, systems) -> dict[str, pd.DataFrame]:
    """The segment tables of one direction, each checked against the test set's sources, in row order."""
    sources = read_lines(test_source)
    tables = {}
    for system in systems:
        path = segment_files.get((system, pair))
        if path is None:
            continue
        table = read_segment_table(path)
        if len(table) != len(sources):
            raise ValueError(f"{path} has {len(table)} segments but the test set {test_source} has {len(sources)}")
        differing = [i for i, (a, b) in enumerate(zip(table["source"], sources), 1) if a != b]
        if differing:
            raise ValueError(f"{path} does not line up with the test set {test_source}: "
                             f"segment {differing[0]} has another source ({len(differing)} segments differ)")
        tables[system] = table
    return tables


def _add_averages(resampled: dict, pairs, metrics, systems) -> None:
    """The AVG column: per resample, the mean over directions (only for systems with every direction)."""
    for name in metrics:
        for system in systems:
            cells = [resampled.get((pair, name, system)) for pair in pairs]
            if cells and all(cell is not None for cell in cells):
                observed = float(np.mean([cell[0] for cell in cells]))
                resampled[(AVERAGE, name, system)] = (observed, np.mean([cell[1] for cell in cells], axis=0))


def _significance_rows(resampled, columns, metrics, families, systems, baseline, confidence) -> list[dict]:
    rows = []
    for column in columns:
        for name in metrics:
            present = [s for s in systems if (column, name, s) in resampled]
            for index, system in enumerate(present):
                observed, samples = resampled[(column, name, system)]
                low, high = percentile_interval(samples, confidence)
                row = {"pair": column, "metric": name, "family": families.get(name, ""), "system": system,
                       "score": observed, "ci_low": low, "ci_high": high}
                above = present[index - 1] if index else None
                row.update(_comparison_columns("above", above, resampled.get((column, name, above)),
                                               observed, samples, confidence))
                other = baseline if baseline in present and baseline != system else None
                row.update(_comparison_columns("baseline", other, resampled.get((column, name, other)),
                                               observed, samples, confidence))
                rows.append(row)
    return rows


def _comparison_columns(prefix: str, other: str | None, other_cell, observed, samples, confidence) -> dict:
    comparison = (compare(observed, samples, other_cell[0], other_cell[1], confidence)
                  if other is not None else Comparison(np.nan, np.nan, np.nan, np.nan))
    return {prefix: other or "", f"delta_{prefix}": comparison.delta, f"delta_{prefix}_low": comparison.low,
            f"delta_{prefix}_high": comparison.high, f"p_{prefix}": comparison.p_value}


def _family_rows(resampled, columns, metrics, families, systems, baseline, confidence) -> list[dict]:
    """Each system's gain over ``baseline`` averaged within a metric family, with its interval."""
    rows = []
    for column in columns:
        for family in sorted(set(families.values())):
            members = [m for m in metrics if families.get(m) == family]
            for system in systems:
                if system == baseline:
                    continue
                cells = [(resampled.get((column, m, system)), resampled.get((column, m, baseline))) for m in members]
                if not cells or any(a is None or b is None for a, b in cells):
                    continue
                comparison = compare(float(np.mean([a[0] for a, _ in cells])), np.mean([a[1] for a, _ in cells], 0),
                                     float(np.mean([b[0] for _, b in cells])), np.mean([b[1] for _, b in cells], 0),
                                     confidence)
                rows.append({"pair": column, "family": family, "metrics": ",".join(members), "system": system,
                             "baseline": baseline, "delta": comparison.delta, "delta_low": comparison.low,
                             "delta_high": comparison.high, "p": comparison.p_value})
    return rows


def marked_ablation_table(table: pd.DataFrame, significance: pd.DataFrame, metric: str, alpha: float) -> pd.DataFrame:
    """The ablation table as text cells with significance marks (see :func:`significance_legend`)."""
    chosen = significance[significance["metric"] == metric].set_index(["system", "pair"])
    marked = table.copy().astype(object)
    for system in table.index:
        for column in table.columns:
            value = table.loc[system, column]
            if pd.isna(value):
                marked.loc[system, column] = ""
                continue
            row = chosen.loc[(system, column)] if (system, column) in chosen.index else None
            marked.loc[system, column] = f"{value:.2f}{_marks(row, alpha)}"
    return marked


def _marks(row, alpha: float) -> str:
    if row is None:
        return ""
    marks = ""
    if row["p_above"] < alpha:
        marks += GAIN_OVER_ROW_ABOVE if row["delta_above"] > 0 else LOSS_TO_ROW_ABOVE
    if row["p_baseline"] < alpha and row["delta_baseline"] > 0:
        marks += GAIN_OVER_BASELINE
    return marks


def significance_legend(baseline: str, alpha: float, resamples: int, confidence: float) -> str:
    return (f"{GAIN_OVER_ROW_ABOVE} significantly better than the row above, {LOSS_TO_ROW_ABOVE} significantly worse "
            f"than the row above, {GAIN_OVER_BASELINE} significantly better than {baseline} (paired bootstrap, "
            f"{resamples} resamples, p < {alpha}; {confidence:.0%} intervals in results/tables/significance.tsv).")


def family_gain_table(families: pd.DataFrame, column: str = AVERAGE) -> pd.DataFrame:
    """Gain over the baseline per metric family, one row per system: "Δ [low, high]" text cells."""
    chosen = families[families["pair"] == column]
    cells = {(row.system, row.family): f"{row.delta:+.2f} [{row.delta_low:+.2f}, {row.delta_high:+.2f}]"
             for row in chosen.itertuples()}
    systems = list(dict.fromkeys(chosen["system"]))
    names = list(dict.fromkeys(chosen["family"]))
    table = pd.DataFrame([[cells.get((s, f), "") for f in names] for s in systems], index=systems,
                         columns=[f"{f} (mean of {chosen[chosen['family'] == f]['metrics'].iloc[0]})" for f in names])
    table.index.name = f"Δ over {chosen['baseline'].iloc[0]}" if len(chosen) else "system"
    return table


# --------------------------------------------------------------------------
# Error spans.


def span_summary(span_files: Mapping[tuple[str, str], str], systems: Sequence[str], pairs: Sequence[str]) -> pd.DataFrame:
    """Per system, direction and metric: minor/major/critical spans per 100 segments, share with a major+ span.

    A metric whose model predicts no spans gets a note instead of zeros.
    """
    rows = []
    for system in systems:
        pooled: dict[str, list[dict]] = {}
        for pair in pairs:
            path = span_files.get((system, pair))
            if path is None:
                continue
            for metric, record in read_json(path).items():
                rows.append({"system": system, "pair": pair, "metric": metric, **_span_counts(record)})
                pooled.setdefault(metric, []).append(record)
        for metric, records in pooled.items():
            if len(records) > 1:
                rows.append({"system": system, "pair": ALL_DIRECTIONS, "metric": metric, **_span_counts(_pool(records))})
    columns = ["system", "pair", "metric", "segments", "minor_per_100", "major_per_100", "critical_per_100",
               "major_or_critical_share", "note"]
    return pd.DataFrame(rows, columns=columns)


def _pool(records: list[dict]) -> dict:
    """One record of all directions' segments (available only if every direction has spans)."""
    if all(record.get("available") for record in records):
        return {"available": True, "segments": [spans for record in records for spans in record["segments"]]}
    return next(record for record in records if not record.get("available"))


def _span_counts(record: dict) -> dict:
    if not record.get("available"):
        return {"segments": np.nan, "minor_per_100": np.nan, "major_per_100": np.nan, "critical_per_100": np.nan,
                "major_or_critical_share": np.nan, "note": record.get("note", "no error spans")}
    segments = record["segments"]
    n = max(len(segments), 1)
    per_100 = {severity: 100.0 * sum(1 for spans in segments for span in spans if span["severity"] == severity) / n
               for severity in ("minor", "major", "critical")}
    severe = sum(1 for spans in segments if any(span["severity"] in ("major", "critical") for span in spans))
    return {"segments": len(segments), "minor_per_100": per_100["minor"], "major_per_100": per_100["major"],
            "critical_per_100": per_100["critical"], "major_or_critical_share": 100.0 * severe / n, "note": ""}
