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

from ..data.clean import apply_qe_rejections, apply_rule_filters
from ..data.config import CleanConfig, FilterConfig, QEConfig
from ..data.decisions import funnel_from_counts, read_decisions, write_decisions, write_tsv
from ..data.dedup import dedup_keys, gather_duplicates, save_dedup_keys
from ..data.ingest import MALFORMED_REASONS, iter_raw_pairs, spec_paths
from ..data.qe import QE_REASON, qe_cutoff
from ..data.shards import load_line_reasons, merge_shard_decisions, read_shard, save_line_reasons, shard_ids
from ..data.shards import write_shards
from ..io import atomic_write, write_lines
from ..metrics.comet import comet_scorer
from .common import read_spec_corpus

log = logging.getLogger(__name__)


def shard_corpus_step(spec: dict, out_dir, shard_size: int, where: str = "corpus",
                      max_malformed_share: float = CleanConfig.max_malformed_share) -> dict:
    """Read a raw corpus (any format of :mod:`algharb.data.ingest`) and cut it into shards.

    Malformed lines are dropped and counted per reason; more than
    ``max_malformed_share`` of the input is an error naming its files
    (:func:`algharb.data.shards.check_malformed_share`).
    """
    origin = f"{where} ({' / '.join(spec_paths(spec, where))})"
    manifest = write_shards(iter_raw_pairs(spec, where=where), out_dir, shard_size, max_malformed_share, origin)
    malformed = {reason: int(manifest[reason].sum()) for reason in MALFORMED_REASONS}
    summary = {"lines": int(manifest["lines"].sum()), "shards": len(manifest), **malformed}
    log.info("%s: %s", where, summary)
    if any(malformed.values()):
        log.warning("%s: dropped %d malformed line(s) (%s), within clean.max_malformed_share = %s; they are "
                    "rejected rows with these reasons", where, sum(malformed.values()),
                    ", ".join(f"{count} {reason}" for reason, count in malformed.items() if count),
                    max_malformed_share)
    return summary


def prepare_split_step(spec: dict, out_src, out_tgt, where: str = "split") -> int:
    """Write a dev/test set of any ingest format as two plain line-aligned files."""
    corpus = read_spec_corpus(spec, where)
    write_lines(out_src, corpus.src)
    write_lines(out_tgt, corpus.tgt)
    return len(corpus)


def clean_shard_step(shard_path, out_decisions, out_keys, src_lang: str, tgt_lang: str, rules: dict,
                     lid: dict | None) -> dict:
    """Normalise and rule-filter one shard; write its decision table and the dedup keys of its kept pairs.

    ``rules`` is the direction's ``CleanConfig.rule_settings`` (filters and
    normalisation); ``lid`` the config's LID model entry (``models.lid``),
    loaded only when the filters include ``language_id``.
    """
    corpus = read_shard(shard_path)
    config = FilterConfig.from_dict(rules)
    decisions = apply_rule_filters(corpus, src_lang, tgt_lang, config, lid_model=lid, dedup=False)
    kept = decisions[decisions["kept"]]
    keys = [(name, dedup_keys(name, options, kept["src"].tolist(), kept["tgt"].tolist()))
            for name, options in config.dedup_filters]
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


def qe_scores_file(decisions_path, out_path, model: dict, batch_size: int, threads: int = 1,
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


def qe_cutoff_step(score_paths, out_path, src_lang: str, tgt_lang: str, qe: dict) -> int:
    """Apply the direction's QE cut to the scores of all shards together.

    ``qe`` is ``QEConfig.cut()`` of the direction's ``CleanConfig.qe_for``.
    """
    config = QEConfig.from_dict(qe, where="clean.qe")
    scores = pd.concat([_read_scores(path) for path in score_paths], ignore_index=True)
    rejected = qe_cutoff(scores["qe_score"].to_numpy(), config)
    save_line_reasons(out_path, scores["line"].to_numpy()[rejected], [QE_REASON] * int(rejected.sum()))
    log.info("%s-%s QE %s: %d of %d pairs rejected", src_lang, tgt_lang, config.check(), rejected.sum(),
             len(scores))
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


def clean_corpus(spec: dict, out_dir, src_lang: str, tgt_lang: str, clean: dict, lid: dict | None = None,
                 qe_scorer=None) -> dict:
    """Clean one corpus by hand (``algharb clean``): the workflow's steps, as a single shard.

    ``clean`` is a ``clean`` config section; ``lid`` an LID model entry
    (``{path|hub}``; None: the language_id filter's own ``model``, if any);
    ``qe_scorer`` a loaded QE model (or None: no QE filtering). Writes into
    ``out_dir`` the per-shard files (kept.src, kept.tgt, rejected.tsv,
    decisions.tsv) and the direction's clean.jsonl, rejected.jsonl and funnel.tsv.
    """
    config = CleanConfig.from_dict(clean, where="clean")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".work.", dir=out) as tmp:
        return _clean_corpus_in(Path(tmp), spec, out, src_lang, tgt_lang, config, lid, qe_scorer)


def _clean_corpus_in(work: Path, spec, out: Path, src_lang, tgt_lang, clean: CleanConfig, lid, qe_scorer) -> dict:
    pair = f"{src_lang}-{tgt_lang}"
    shard_corpus_step(spec, work / "shards", shard_size=2**62, where=pair,
                      max_malformed_share=clean.max_malformed_share)
    shard = work / "shards" / f"{shard_ids(work / 'shards')[0]}.jsonl"
    # Config order, unlike the workflow's name order (CleanConfig.rule_settings).
    clean_shard_step(shard, work / "rule_decisions.tsv", work / "dedup_keys.npz", src_lang, tgt_lang,
                     clean.filter_config(pair).to_dict(), lid=lid)
    dedup_step([work / "dedup_keys.npz"], work / "duplicates.npz")
    qe = {}
    if qe_scorer is not None:
        qe_scores_file(work / "rule_decisions.tsv", work / "qe_scores.tsv", {}, clean.qe.batch_size,
                       duplicates_path=work / "duplicates.npz", scorer=qe_scorer)
        qe_cutoff_step([work / "qe_scores.tsv"], work / "qe_rejected.npz", src_lang, tgt_lang,
                       clean.qe_for(pair).cut())
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
