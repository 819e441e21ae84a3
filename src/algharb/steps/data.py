"""Cleaning steps, as the workflow runs them on a sharded corpus (see :mod:`algharb.data.shards`).

shard_corpus → clean_shard (per shard: normalisation, rule filters, LID,
dedup keys) → dedup (all shards) → qe_scores (per shard) → qe_cutoff (all
shards) → finalize_shard (per shard: kept / rejected / decisions) →
merge_shards (the direction's decisions, clean/rejected JSONL, funnel).
:func:`clean_corpus` runs the same steps in-process for ``algharb clean``.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.clean import QE_REASON, FilterConfig, apply_qe_rejections, apply_rule_filters, funnel_from_counts
from ..data.clean import read_decisions
from ..data.clean import INVALID_UTF8, write_decisions, write_tsv
from ..data.dedup import dedup_keys, gather_duplicates, save_dedup_keys
from ..data.filters import qe_cutoff
from ..data.ingest import iter_raw_pairs, read_corpus
from ..data.shards import load_line_reasons, merge_shard_decisions, read_shard, save_line_reasons, shard_ids
from ..data.shards import write_shards
from ..io import atomic_write, write_lines
from ..models import local_model_dir
from .common import comet_scorer

log = logging.getLogger(__name__)

# The fastText LID model's file inside its hub repository.
LID_HUB_FILENAME = "model.bin"


def load_lid(spec: dict | None):
    from ..demo.lid import LanguageIdentifier

    return None if spec is None else LanguageIdentifier(local_model_dir(spec, filename=LID_HUB_FILENAME))


def shard_corpus_step(spec: dict, out_dir, shard_size: int, where: str = "corpus") -> dict:
    """Read a raw corpus (any format of :mod:`algharb.data.ingest`) and cut it into shards."""
    manifest = write_shards(iter_raw_pairs(spec, where=where), out_dir, shard_size)
    summary = {"lines": int(manifest["lines"].sum()), "shards": len(manifest),
               "invalid_utf8": int(manifest["invalid_utf8"].sum())}
    log.info("%s: %s", where, summary)
    if summary["invalid_utf8"]:
        log.warning("%s: %d line(s) are not valid UTF-8; they are rejected as %s", where,
                    summary["invalid_utf8"], INVALID_UTF8)
    return summary


def prepare_split_step(spec: dict, out_src, out_tgt, where: str = "split") -> int:
    """Write a dev/test set of any ingest format as two plain line-aligned files."""
    corpus = read_corpus(spec, where=where)
    if corpus.invalid_utf8_lines:
        log.warning("%s: dropped %d pair(s) that are not valid UTF-8 (lines %s)", where,
                    len(corpus.invalid_utf8_lines), corpus.invalid_utf8_lines[:10])
    write_lines(out_src, corpus.src)
    write_lines(out_tgt, corpus.tgt)
    return len(corpus)


def clean_shard_step(shard_path, out_decisions, out_keys, src_lang: str, tgt_lang: str, clean: dict,
                     lid: dict | None, identifier=None) -> dict:
    """Normalise and rule-filter one shard; write its decision table and the dedup keys of its kept pairs.

    ``identifier`` (a loaded language identifier) overrides ``lid``.
    """
    corpus = read_shard(shard_path)
    config = FilterConfig.from_dict(clean, pair=f"{src_lang}-{tgt_lang}")
    if identifier is None and "language_id" in config.filter_names:
        identifier = load_lid(lid)
    decisions = apply_rule_filters(corpus, src_lang, tgt_lang, config, lid=identifier, dedup=False)
    kept = decisions[decisions["kept"]]
    keys = [(name, dedup_keys(name, params, kept["src"].tolist(), kept["tgt"].tolist()))
            for name, params in config.dedup_filters]
    write_tsv(out_decisions, decisions)
    save_dedup_keys(out_keys, kept["line"].to_numpy(), keys)
    summary = {"pairs": len(decisions), "kept": len(kept),
               "removed": decisions.loc[~decisions["kept"], "reason"].value_counts().to_dict()}
    log.info("%s %s-%s rule filters: %s", shard_path, src_lang, tgt_lang, summary)
    return summary


def dedup_step(key_paths, out_path) -> dict:
    """Deduplicate all shards of a direction together from their keys."""
    lines, reasons = gather_duplicates(key_paths)
    save_line_reasons(out_path, lines, reasons)
    counts = {reason: reasons.count(reason) for reason in sorted(set(reasons))}
    log.info("duplicates over %d shard(s): %s", len(key_paths), counts)
    return counts


def qe_scores_file(decisions_path, out_path, model: dict, batch_size: int = 64, threads: int = 1,
                   duplicates_path=None, scorer=None) -> int:
    """CometKiwi-style QE score of every pair that survived the rule filters and dedup.

    ``scorer`` (anything with ``score(srcs, tgts)``) overrides ``model``.
    """
    decisions = _with_duplicates(read_decisions(decisions_path), duplicates_path)
    kept = decisions[decisions["kept"]]
    if len(kept):
        scorer = scorer or comet_scorer(model, batch_size=batch_size, threads=threads)
        scores = scorer.score(kept["src"].tolist(), kept["tgt"].tolist())
    else:
        scores = []
    with atomic_write(out_path) as handle:
        handle.write("line\tqe_score\n")
        for line, score in zip(kept["line"], scores):
            handle.write(f"{int(line)}\t{float(score):.6f}\n")
    return len(kept)


def qe_cutoff_step(score_paths, out_path, src_lang: str, tgt_lang: str, clean: dict) -> int:
    """Apply the direction's QE threshold or quantile to the scores of all shards together."""
    config = FilterConfig.from_dict(clean, pair=f"{src_lang}-{tgt_lang}")
    if not config.qe:
        raise ValueError(f"clean.qe: no threshold or quantile for {src_lang}-{tgt_lang}")
    scores = pd.concat([_read_scores(path) for path in score_paths], ignore_index=True)
    rejected = qe_cutoff(scores["qe_score"].to_numpy(), threshold=config.qe.get("threshold"),
                         quantile=config.qe.get("quantile"))
    save_line_reasons(out_path, scores["line"].to_numpy()[rejected], [QE_REASON] * int(rejected.sum()))
    log.info("%s-%s QE %s: %d of %d pairs rejected", src_lang, tgt_lang, config.qe, rejected.sum(), len(scores))
    return int(rejected.sum())


def finalize_shard_step(decisions_path, out_kept_src, out_kept_tgt, out_rejected, out_decisions,
                        duplicates_path=None, scores_path=None, qe_rejected_path=None) -> dict:
    """One shard's final decisions: rule filters, then duplicates, then QE; kept/rejected files."""
    decisions = _with_duplicates(read_decisions(decisions_path), duplicates_path)
    if scores_path is not None:
        decisions = _with_qe(decisions, scores_path, qe_rejected_path)
    write_decisions(decisions, out_kept_src, out_kept_tgt, out_rejected, out_decisions)
    return {"pairs": len(decisions), "kept": int(decisions["kept"].sum())}


def merge_shards_step(decision_paths, src_lang: str, tgt_lang: str, out_decisions, out_clean, out_rejected,
                      out_funnel) -> dict:
    """Gather the shards' final tables into the direction's decisions, clean/rejected JSONL and funnel."""
    total, removed = merge_shard_decisions(decision_paths, src_lang, tgt_lang, out_decisions, out_clean,
                                           out_rejected)
    table = funnel_from_counts(total, removed)
    write_tsv(out_funnel, table)
    kept = int(table["pairs"].iloc[-1])
    log.info("%s-%s: %d of %d pairs kept; removed %s", src_lang, tgt_lang, kept, total, removed)
    if kept == 0:
        raise ValueError(f"{src_lang}-{tgt_lang}: every pair was filtered out (removed: {removed}); "
                         "check the clean section and the LID/QE models")
    return {"pairs": total, "kept": kept, "removed": removed}


def clean_corpus(spec: dict, out_dir, src_lang: str, tgt_lang: str, clean: dict, lid=None,
                 qe_scorer=None) -> dict:
    """Clean one corpus by hand (``algharb clean``): the workflow's steps, as a single shard.

    ``lid``/``qe_scorer`` are loaded models (or None: no language ID / no QE
    filtering). Writes into ``out_dir`` the per-shard files (kept.src,
    kept.tgt, rejected.tsv, decisions.tsv) and the direction's clean.jsonl,
    rejected.jsonl and funnel.tsv.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".work.", dir=out) as tmp:
        return _clean_corpus_in(Path(tmp), spec, out, src_lang, tgt_lang, clean, lid, qe_scorer)


def _clean_corpus_in(work: Path, spec, out: Path, src_lang, tgt_lang, clean, lid, qe_scorer) -> dict:
    shard_corpus_step(spec, work / "shards", shard_size=2**62, where=f"{src_lang}-{tgt_lang}")
    shard = work / "shards" / f"{shard_ids(work / 'shards')[0]}.jsonl"
    clean_shard_step(shard, work / "rule_decisions.tsv", work / "dedup_keys.npz", src_lang, tgt_lang, clean,
                     lid=None, identifier=lid)
    dedup_step([work / "dedup_keys.npz"], work / "duplicates.npz")
    qe = {}
    if qe_scorer is not None:
        qe_scores_file(work / "rule_decisions.tsv", work / "qe_scores.tsv", {}, duplicates_path=work / "duplicates.npz",
                       scorer=qe_scorer)
        qe_cutoff_step([work / "qe_scores.tsv"], work / "qe_rejected.npz", src_lang, tgt_lang, clean)
        qe = {"scores_path": work / "qe_scores.tsv", "qe_rejected_path": work / "qe_rejected.npz"}
    finalize_shard_step(work / "rule_decisions.tsv", out / "kept.src", out / "kept.tgt", out / "rejected.tsv",
                        work / "decisions.tsv", duplicates_path=work / "duplicates.npz", **qe)
    return merge_shards_step([work / "decisions.tsv"], src_lang, tgt_lang, out / "decisions.tsv",
                             out / "clean.jsonl", out / "rejected.jsonl", out / "funnel.tsv")


def _read_scores(path) -> pd.DataFrame:
    scores = pd.read_csv(path, sep="\t", dtype={"line": np.int64, "qe_score": float})
    if list(scores.columns) != ["line", "qe_score"]:
        raise ValueError(f"{path}: expected columns line, qe_score; got {list(scores.columns)}")
    return scores


def _with_duplicates(decisions: pd.DataFrame, duplicates_path) -> pd.DataFrame:
    """Mark the kept pairs that the corpus-wide dedup rejected."""
    if duplicates_path is None or decisions.empty:
        return decisions
    found = load_line_reasons(duplicates_path, *_line_range(decisions))
    if not found:
        return decisions
    result = decisions.copy()
    reasons = result["line"].map(found)
    hit = reasons.notna().to_numpy()
    if not result.loc[hit, "kept"].all():
        raise ValueError(f"{duplicates_path} marks a pair as duplicate that the rule filters already rejected")
    result.loc[hit, "kept"] = False
    result.loc[hit, "reason"] = reasons[hit]
    return result


def _with_qe(decisions: pd.DataFrame, scores_path, qe_rejected_path) -> pd.DataFrame:
    """Attach QE scores and apply the corpus-wide QE cut (reason ``qe``)."""
    scores = _read_scores(scores_path)
    kept_lines = decisions.loc[decisions["kept"], "line"].to_numpy()
    if not np.array_equal(kept_lines, scores["line"].to_numpy()):
        raise ValueError(f"{scores_path} does not score exactly the pairs kept after rules and dedup")
    cut = load_line_reasons(qe_rejected_path, *_line_range(decisions)) if len(decisions) else {}
    return apply_qe_rejections(decisions, scores["qe_score"].to_numpy(), np.isin(kept_lines, list(cut)))


def _line_range(decisions: pd.DataFrame) -> tuple[int, int]:
    return int(decisions["line"].min()), int(decisions["line"].max())


def filter_quality_file(decision_paths, label_paths, pairs, out_tsv, out_md, out_filters_tsv,
                        out_filters_md) -> "pd.DataFrame":
    """Demo only: how well cleaning separated the injected noise, per noise kind and per filter.

    Per kind: the share of its lines rejected (recall), with ``target`` the
    bar the issue sets for kinds a rule can catch (and for the last row,
    ``precision_of_kept``: the share of kept pairs that are clean).
    Per filter: removed lines, precision and recall on its target kinds.
    """
    from ..data.quality import RULE_KINDS, TARGET_PRECISION, TARGET_RECALL, filter_precision_recall
    from ..data.quality import filter_quality, kept_precision
    from ..report.tables import write_table

    kinds, filters = [], []
    for pair, decisions_path, labels_path in zip(pairs, decision_paths, label_paths):
        decisions = read_decisions(decisions_path)
        labels = pd.read_csv(labels_path, sep="\t")
        table = filter_quality(decisions, labels).rename(columns={"rejected_share": "share"})
        table["target"] = [TARGET_RECALL if kind in RULE_KINDS else float("nan") for kind in table.index]
        table.loc["precision_of_kept"] = {"lines": int(decisions["kept"].sum()), "top_reason": "",
                                          "share": kept_precision(decisions, labels), "target": TARGET_PRECISION}
        kinds.append(table.reset_index().assign(pair=pair))
        filters.append(filter_precision_recall(decisions, labels).reset_index().assign(pair=pair))
    result = pd.concat(kinds)[["pair", "kind", "lines", "share", "target", "top_reason"]].set_index("pair")
    result["meets_target"] = [("yes" if share >= target else "NO") if target == target else ""
                              for share, target in zip(result["share"], result["target"])]
    write_table(result, tsv_path=out_tsv, md_path=out_md)
    per_filter = pd.concat(filters)[["pair", "filter", "removed", "precision", "recall", "targets"]]
    write_table(per_filter.set_index("pair"), tsv_path=out_filters_tsv, md_path=out_filters_md)
    missed = result[result["meets_target"] == "NO"]
    if len(missed):
        log.warning("below target: %s", missed[["kind", "share", "target"]].to_dict("records"))
    return result
