"""Cleaning steps: rule filters + language ID, QE scoring, QE threshold and outputs."""

from __future__ import annotations

import logging

import numpy as np

from ..data.clean import FilterConfig, apply_qe_config, apply_rule_filters, funnel, read_decisions, write_tsv
from ..data.clean import write_decision_jsonl
from ..data.ingest import read_parallel
from ..io import atomic_write
from ..models import local_model_dir
from .common import comet_scorer

log = logging.getLogger(__name__)

# The fastText LID model's file inside its hub repository.
LID_HUB_FILENAME = "model.bin"


def load_lid(spec: dict | None):
    from ..demo.lid import LanguageIdentifier

    return None if spec is None else LanguageIdentifier(local_model_dir(spec, filename=LID_HUB_FILENAME))


def rule_decisions_file(src_path, tgt_path, out_path, src_lang: str, tgt_lang: str, clean: dict,
                        lid: dict | None) -> dict:
    """Normalise and rule-filter one direction's raw corpus; write the decision table."""
    corpus = read_parallel(src_path, tgt_path)
    config = FilterConfig.from_dict(clean, pair=f"{src_lang}-{tgt_lang}")
    needs_lid = "language_id" in config.filter_names
    decisions = apply_rule_filters(corpus, src_lang, tgt_lang, config, lid=load_lid(lid) if needs_lid else None)
    summary = {"pairs": len(decisions), "kept": int(decisions["kept"].sum()),
               "removed": decisions.loc[~decisions["kept"], "reason"].value_counts().to_dict()}
    log.info("%s-%s rule filters: %s", src_lang, tgt_lang, summary)
    if summary["kept"] == 0:
        raise ValueError(f"{src_lang}-{tgt_lang}: the rule filters removed every pair of {src_path} "
                         f"(removed by reason: {summary['removed']}); check the clean section and the LID model")
    write_tsv(out_path, decisions)
    return summary


def qe_scores_file(decisions_path, out_path, model: dict, batch_size: int = 64, threads: int = 1) -> int:
    """CometKiwi-style QE score of every pair that survived the rule filters."""
    decisions = read_decisions(decisions_path)
    kept = decisions[decisions["kept"]]
    scores = comet_scorer(model, batch_size=batch_size, threads=threads).score(
        kept["src"].tolist(), kept["tgt"].tolist()
    ) if len(kept) else []
    with atomic_write(out_path) as handle:
        handle.write("line\tqe_score\n")
        for line, score in zip(kept["line"], scores):
            handle.write(f"{int(line)}\t{float(score):.6f}\n")
    return len(kept)


def apply_qe_file(decisions_path, scores_path, src_lang: str, tgt_lang: str, clean: dict,
                  out_decisions, out_clean, out_rejected, out_funnel) -> dict:
    """Apply the QE threshold; write the final table, clean/rejected JSONL and the funnel.

    ``scores_path=None`` skips QE filtering (rule filters and LID only).
    """
    decisions = read_decisions(decisions_path)
    final = decisions if scores_path is None else _with_qe(decisions, decisions_path, scores_path,
                                                             FilterConfig.from_dict(clean, pair=f"{src_lang}-{tgt_lang}"))
    write_tsv(out_decisions, final)
    n_clean, n_rejected = write_decision_jsonl(final, out_clean, out_rejected, src_lang, tgt_lang)
    write_tsv(out_funnel, funnel(final))
    if n_clean == 0:
        raise ValueError(f"{src_lang}-{tgt_lang}: every pair was filtered out; check the clean section")
    return {"clean": n_clean, "rejected": n_rejected}


def _with_qe(decisions, decisions_path, scores_path, config):
    import pandas as pd

    scores = pd.read_csv(scores_path, sep="\t")
    kept_lines = decisions.loc[decisions["kept"], "line"].to_numpy()
    if not np.array_equal(kept_lines, scores["line"].to_numpy()):
        raise ValueError(f"{scores_path} does not score exactly the pairs kept in {decisions_path}")
    return apply_qe_config(decisions, scores["qe_score"].to_numpy(), config)


def filter_quality_file(decision_paths, label_paths, pairs, out_tsv, out_md) -> "pd.DataFrame":
    """Demo only: per pair and noise kind, the share of lines the cleaning rejected.

    A last row per pair, ``precision_of_kept``, holds the share of kept pairs
    that are clean.
    """
    import pandas as pd

    from ..data.quality import filter_quality, kept_precision
    from ..report.tables import write_table

    parts = []
    for pair, decisions_path, labels_path in zip(pairs, decision_paths, label_paths):
        decisions = read_decisions(decisions_path)
        labels = pd.read_csv(labels_path, sep="\t")
        table = filter_quality(decisions, labels).rename(columns={"rejected_share": "share"})
        table.loc["precision_of_kept"] = {"lines": int(decisions["kept"].sum()),
                                          "share": kept_precision(decisions, labels), "top_reason": ""}
        parts.append(table.reset_index().assign(pair=pair))
    result = pd.concat(parts)[["pair", "kind", "lines", "share", "top_reason"]].set_index("pair")
    write_table(result, tsv_path=out_tsv, md_path=out_md)
    return result
