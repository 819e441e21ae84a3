"""The preference comparison table: SFT and every compared method on the same test sets.

Rows: SFT, then each chain of ``rl.compare`` (CPO, DPO, CPO on noised
rejected translations, the paper's CPO → dynamic, M2PO). Columns per
direction:

- the primary metric (``evaluate.primary``);
- ``QE``: the score the preference pairs were picked by (the weighted mean of
  ``rl.pairs.scorers``) on the outputs: a method that games its reward gains
  here without gaining elsewhere (ALMA-R's "better or just metric-preferred?");
- the other evaluation metrics (chrF and BLEU against the references:
  metrics no pair was picked by);
- in the demo, the share of outputs that drop source content, judged by the
  world's oracle (M2PO's target: partial errors QE models miss).

Primary, chrF and BLEU carry a mark when the row differs from SFT under the
paired bootstrap (:func:`algharb.steps.evaluate.significance_tables`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from ..io import atomic_write, read_jsonl, read_lines
from ..report.tables import write_table
from .evaluate import significance_tables
from .rl import weighted_scores

log = logging.getLogger(__name__)

SFT_ROW = "two_step_sft"
BETTER_THAN_SFT = "†"
WORSE_THAN_SFT = "§"
COLUMN_NAMES = {"chrf": "chrF", "bleu": "BLEU", "qe": "QE", "omission_share": "omission %"}


def output_qe_file(hypothesis_paths: Mapping[str, str], source_path, out_path, scorers: dict, batch_size: int,
                   threads: int = 1) -> pd.DataFrame:
    """Per system and segment, the pair-picking score of the output (TSV: system, line, qe).

    ``scorers``: ``{name: {"model": models entry, "weight": w}}``, as the
    pools were scored (:func:`algharb.steps.rl.weighted_scores`).
    """
    sources = read_lines(source_path)
    systems, texts = [], []
    for system, path in hypothesis_paths.items():
        hypotheses = read_lines(path)
        if len(hypotheses) != len(sources):
            raise ValueError(f"{path} has {len(hypotheses)} lines but the test sources {source_path} have "
                             f"{len(sources)}")
        systems.append(system)
        texts += hypotheses
    _, combined = weighted_scores(scorers, sources * len(systems), texts, batch_size, threads)
    table = pd.DataFrame({"system": [s for s in systems for _ in sources],
                          "line": list(range(1, len(sources) + 1)) * len(systems), "qe": combined})
    with atomic_write(out_path) as handle:
        table.to_csv(handle, sep="\t", index=False)
    return table


def comparison_tables(
    segment_files: Mapping[tuple[str, str], str],
    qe_files: Mapping[str, str],
    test_sources: Mapping[str, str],
    rows: Mapping[str, str],
    pairs: Sequence[str],
    tgt_langs: Mapping[str, str],
    primary: str,
    metrics: Sequence[str],
    settings: Mapping,
    seed: int,
    omission_share: Callable[[Sequence[dict], Sequence[str], str], float] | None = None,
    model: dict | None = None,
    metric_models: Mapping[str, dict] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(long numeric table, wide marked table) of the comparison.

    ``rows`` maps each system to its label, SFT first; ``metrics`` are the
    evaluated ones (``evaluate.metrics``), each compared with SFT. The long table has one row per (pair, system, column)
    with the score and, for resampled metrics, the interval and the
    difference to SFT with its interval and p-value.
    """
    if SFT_ROW not in rows:
        raise ValueError(f"the comparison needs the SFT row {SFT_ROW!r}; rows: {list(rows)}")
    resampled = [primary] + [m for m in metrics if m != primary]
    significance, _ = significance_tables(
        segment_files, test_sources, resampled, list(rows), pairs, tgt_langs, baseline=SFT_ROW,
        resamples=settings["resamples"], confidence=settings["confidence"], seed=seed, model=model,
        metric_models=metric_models)
    significance = significance[significance["pair"].isin(pairs)]
    long = [{"pair": r.pair, "system": r.system, "column": r.metric, "score": r.score, "ci_low": r.ci_low,
             "ci_high": r.ci_high, "delta_sft": r.delta_baseline, "delta_sft_low": r.delta_baseline_low,
             "delta_sft_high": r.delta_baseline_high, "p_sft": r.p_baseline} for r in significance.itertuples()]
    for pair in pairs:
        qe = pd.read_csv(qe_files[pair], sep="\t")
        for system in rows:
            long.append({"pair": pair, "system": system, "column": "qe",
                         "score": 100 * qe.loc[qe["system"] == system, "qe"].mean()})
        if omission_share is not None:
            long += _omission_rows(segment_files, pair, rows, tgt_langs[pair], omission_share)
    long_table = pd.DataFrame(long)
    columns = [primary, "qe", *resampled[1:]] + (["omission_share"] if omission_share is not None else [])
    return long_table, _marked(long_table, rows, pairs, columns, settings["alpha"])


def _omission_rows(segment_files, pair, rows, tgt_lang, omission_share) -> list[dict]:
    from .evaluate import read_segment_table

    out = []
    for system in rows:
        table = read_segment_table(segment_files[(system, pair)])
        share = omission_share([{"src": src} for src in table["source"]], table["hypothesis"].tolist(), tgt_lang)
        out.append({"pair": pair, "system": system, "column": "omission_share", "score": 100 * share})
    return out


def _marked(long: pd.DataFrame, rows: Mapping[str, str], pairs, columns, alpha: float) -> pd.DataFrame:
    cells = long.set_index(["system", "pair", "column"])
    wide = pd.DataFrame(index=pd.Index(list(rows.values()), name="method"))
    for pair in pairs:
        for column in columns:
            wide[f"{pair} {COLUMN_NAMES.get(column, column)}"] = [
                _cell(cells, system, pair, column, alpha) for system in rows]
    return wide


def _cell(cells: pd.DataFrame, system: str, pair: str, column: str, alpha: float) -> str:
    if (system, pair, column) not in cells.index:
        return ""
    row = cells.loc[(system, pair, column)]
    mark = ""
    if pd.notna(row.get("p_sft")) and row["p_sft"] < alpha:
        mark = BETTER_THAN_SFT if row["delta_sft"] > 0 else WORSE_THAN_SFT
    return f"{row['score']:.2f}{mark}"


def comparison_legend(alpha: float, resamples: int, scorers: Mapping[str, float]) -> str:
    weights = " + ".join(f"{weight:g}·{name}" for name, weight in scorers.items())
    return (f"{BETTER_THAN_SFT} significantly better, {WORSE_THAN_SFT} significantly worse than SFT (paired "
            f"bootstrap, {resamples} resamples, p < {alpha}). QE: the score the preference pairs were picked by "
            f"({weights}, normalised), ×100, on the outputs. Every method starts from the same SFT checkpoint and "
            "learns from the same candidate pools.")


# --- how well the reward ranks the pools ---------------------------------------------------------

PAIR_SCORE = "pair score"


def reward_ranking(pools: Mapping[str, Sequence[dict]]) -> pd.DataFrame:
    """How well each score the preference pairs are picked by ranks the candidate pools, per direction.

    ``pools`` maps a direction to its scored pool rows (``rl_pool_qe``). For
    every scorer of ``rl.pairs.scorers`` and for their weighted mean (the
    pair score, ``qe``):

    - ``reference first (%)``: of the pools that hold the reference
      translation (``rl.pool.include_reference``), the share in which the
      reference scores at least as high as every other candidate — the
      chosen translation of a reward that knew better;
    - ``Kendall τ with chrF``: the mean over pools of Kendall's τ between
      the score and sentence chrF against the reference, over the
      candidates other than the reference (pools where either is constant
      are left out); ``pools for τ`` counts the rest.

    A reward that games well but ranks badly shows here before any training.
    """
    from sacrebleu.metrics import CHRF
    from scipy.stats import kendalltau

    chrf = CHRF()
    rows = []
    for pair, pool in pools.items():
        with_reference = [row for row in pool if _reference(row) is not None]
        if not with_reference:
            continue
        names = list(with_reference[0]["candidates"][0].get("scores", {})) + [PAIR_SCORE]
        first = dict.fromkeys(names, 0)
        taus: dict[str, list[float]] = {name: [] for name in names}
        for row in with_reference:
            reference = _reference(row)
            others = [cand for cand in row["candidates"] if cand.get("origin") != "reference"]
            overlap = [chrf.sentence_score(cand["text"], [reference["text"]]).score for cand in others]
            for name in names:
                ref_score = _score(reference, name)
                first[name] += all(ref_score >= _score(cand, name) for cand in others)
                tau = kendalltau([_score(cand, name) for cand in others], overlap).statistic if len(others) > 1 \
                    else float("nan")
                if tau == tau:  # NaN: a constant score or chrF
                    taus[name].append(float(tau))
        for name in names:
            rows.append({"direction": pair, "score": name, "pools": len(with_reference),
                         "reference first (%)": 100.0 * first[name] / len(with_reference),
                         "Kendall τ with chrF": sum(taus[name]) / len(taus[name]) if taus[name] else float("nan"),
                         "pools for τ": len(taus[name])})
    return pd.DataFrame(rows).set_index(["direction", "score"]) if rows else pd.DataFrame()


def _reference(row: dict) -> dict | None:
    return next((cand for cand in row["candidates"] if cand.get("origin") == "reference"), None)


def _score(candidate: dict, name: str) -> float:
    return float(candidate["qe"] if name == PAIR_SCORE else candidate["scores"][name])


def reward_ranking_file(pool_paths: Sequence, pairs: Sequence[str], tsv_path, md_path) -> pd.DataFrame:
    """:func:`reward_ranking` of the scored pools (one path per direction, in ``pairs`` order), as TSV and Markdown."""
    if len(pool_paths) != len(pairs):
        raise ValueError(f"{len(pool_paths)} pool files for {len(pairs)} directions")
    table = reward_ranking({pair: read_jsonl(path) for pair, path in zip(pairs, pool_paths)})
    note = ("Computed before any training, on the scored RL pools. Without `rl.pool.include_reference` no pool "
            "holds a reference and the table is empty.")
    write_table(table, tsv_path, md_path, note=note)
    log.info("reward ranking:\n%s", table.to_string() if not table.empty else "(no pool holds a reference)")
    return table
