"""The cleaning runner: normalise every pair, run the rule filters, apply the QE cut.

:func:`apply_rule_filters` turns a corpus into a decision table
(:mod:`algharb.data.decisions`) for one direction's
:class:`~algharb.data.config.FilterConfig`: each filter, built from the
filter registry, runs over the pairs still kept, in order, so the first
failing filter gives the reason; the corpus-level dedup filters run last.
:func:`apply_qe_rejections` then marks the pairs the QE cut
(:mod:`algharb.data.qe`) rejected.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
from tqdm import tqdm

from algharb.data.config import CleanConfig, FilterConfig, NormalizeConfig
from algharb.data.decisions import check_columns
from algharb.data.dedup import dedup_keys, dedup_reasons
from algharb.data.filters import FILTERS, build_filter, reject_codes
from algharb.data.ingest import ParallelCorpus
from algharb.data.lid import LanguagePredictor, load_identifier
from algharb.data.normalize import normalizer
from algharb.data.qe import QE_REASON
from algharb.data.textstats import TextColumn, select

_PROGRESS_MIN_PAIRS = 100_000  # below this a progress bar is noise


def apply_rule_filters(
    corpus: ParallelCorpus,
    src_lang: str,
    tgt_lang: str,
    config: FilterConfig | Mapping[str, Any],
    lid: LanguagePredictor | None = None,
    lid_model: Mapping | None = None,
    progress: bool | None = None,
    dedup: bool = True,
) -> pd.DataFrame:
    """Normalise every pair and run the configured filters; return the decision table.

    Each filter runs over the pairs still kept (so the first failing filter
    gives the reason, and batched filters such as language ID see whole
    columns). ``lid`` is the loaded language identifier for ``language_id``;
    without it one is loaded (:func:`algharb.data.lid.load_identifier`) from
    ``lid_model`` (a config model entry: the workflow's ``models.lid``), else
    from that filter's ``model`` path. Malformed lines dropped at
    ingest appear as rejected rows with their reason (``invalid_utf8``,
    ``too_few_columns``). ``progress`` shows tqdm bars (default: for large inputs).
    A mapping config is a ``clean`` section, parsed for pair ``"{src_lang}-{tgt_lang}"``.
    ``dedup=False`` leaves the dedup filters to the caller (a shard of a
    larger corpus is deduplicated with the others from its keys: the step
    layer's ``clean_shard_step``).
    """
    if isinstance(config, Mapping):
        config = CleanConfig.from_dict(config, where="clean").filter_config(f"{src_lang}-{tgt_lang}")
    show = len(corpus) >= _PROGRESS_MIN_PAIRS if progress is None else progress
    srcs, tgts = _normalize_columns(corpus, src_lang, tgt_lang, config.normalize, show)
    reasons: list[str] = [""] * len(srcs)
    active = list(range(len(srcs)))
    for name, options in config.pair_filters:
        if FILTERS.get(name).needs_lid and lid is None:
            lid = _load_identifier(options, lid_model)
        rule = build_filter(name, options, src_lang, tgt_lang, lid)
        active = _run_filter(rule, active, srcs, tgts, reasons, show)
    if dedup and config.dedup_filters:
        kept_srcs, kept_tgts = [srcs[i] for i in active], [tgts[i] for i in active]
        keys = [(name, dedup_keys(name, options, kept_srcs, kept_tgts)) for name, options in config.dedup_filters]
        for index, reason in zip(active, dedup_reasons(keys)):
            reasons[index] = reason
    decisions = pd.DataFrame(
        {
            "line": np.asarray(corpus.line_numbers, dtype=np.int64),
            "src": srcs,
            "tgt": tgts,
            "kept": [reason == "" for reason in reasons],
            "reason": reasons,
        }
    )
    return _with_malformed_lines(decisions, corpus.malformed_lines)


def _normalize_columns(corpus, src_lang, tgt_lang, settings: NormalizeConfig, show) -> tuple[list[str], list[str]]:
    """Normalise both sides (or only validate the languages when normalisation is off).

    The columns are TextColumns (lists) so that the filters count each text once.
    """

    src_norm = normalizer(src_lang, settings.fix_casing)
    tgt_norm = normalizer(tgt_lang, settings.fix_casing)
    if not settings.enabled:
        return TextColumn(corpus.src), TextColumn(corpus.tgt)
    bar = tqdm(total=len(corpus), desc="normalize", unit="pair", disable=not show)
    srcs = TextColumn()
    tgts = TextColumn()
    chunk = 10_000  # progress granularity
    for start in range(0, len(corpus), chunk):
        stop = min(start + chunk, len(corpus))
        srcs.extend(map(src_norm, corpus.src[start:stop]))
        tgts.extend(map(tgt_norm, corpus.tgt[start:stop]))
        bar.update(stop - start)
    bar.close()
    return srcs, tgts


def _load_identifier(options, lid_model: Mapping | None) -> LanguagePredictor | None:
    """The identifier a language_id filter's ``options`` name, with the model ``lid_model`` or, without it,
    their own ``model`` path; None when there is neither.
    """
    if lid_model is None and options.model:
        lid_model = {"path": options.model}
    return None if lid_model is None else load_identifier(options.identifier, lid_model)


def _run_filter(rule, active, srcs, tgts, reasons: list[str], show: bool) -> np.ndarray:
    """Run one filter over the active pairs in chunks; record reasons; return the survivors.

    ``active`` holds indices into ``srcs``/``tgts``; the filter sees subsets
    that share the columns' per-line counts (see :func:`select`).
    """

    active = np.asarray(active, dtype=np.intp)
    survivors = [active[:0]]
    chunk = 50_000  # progress granularity
    bar = tqdm(total=len(active), desc=rule.name, unit="pair", disable=not show)
    for start in range(0, len(active), chunk):
        indices = active[start : start + chunk]
        codes, labels = reject_codes(rule, select(srcs, indices), select(tgts, indices))
        rejected = np.flatnonzero(codes)
        for index, code in zip(indices[rejected].tolist(), codes[rejected].tolist()):
            reasons[index] = labels[code]
        survivors.append(indices[codes == 0])
        bar.update(len(indices))
    bar.close()
    return np.concatenate(survivors)


def _with_malformed_lines(decisions: pd.DataFrame, malformed_lines: dict[int, str]) -> pd.DataFrame:
    """Add rejected rows, with their reasons, for the malformed lines dropped at ingest, keeping file order."""
    if not malformed_lines:
        return decisions
    malformed = pd.DataFrame(
        {
            "line": np.fromiter(malformed_lines, dtype=np.int64, count=len(malformed_lines)),
            "src": "",
            "tgt": "",
            "kept": False,
            "reason": list(malformed_lines.values()),
        }
    )
    merged = pd.concat([decisions, malformed], ignore_index=True)
    return merged.sort_values("line", kind="stable").reset_index(drop=True)


def apply_qe_rejections(decisions: pd.DataFrame, scores, rejected) -> pd.DataFrame:
    """Attach QE ``scores`` to the kept rows and reject those flagged in ``rejected`` (reason ``qe``).

    Both are aligned with the kept rows in table order (a length mismatch
    raises); rows rejected earlier keep their reason and get a NaN score.
    """
    check_columns(decisions)
    kept_rows = np.flatnonzero(decisions["kept"].to_numpy(dtype=bool))
    scores = np.asarray(scores, dtype=float)
    rejected = np.asarray(rejected, dtype=bool)
    if scores.ndim != 1 or scores.size != kept_rows.size or rejected.shape != scores.shape:
        raise ValueError(f"qe: got {scores.size} scores and {rejected.size} decisions for {kept_rows.size} kept "
                         "pairs; they must match")
    result = decisions.copy()
    all_scores = np.full(len(result), np.nan)
    all_scores[kept_rows] = scores
    result["qe_score"] = all_scores
    rejected_rows = kept_rows[rejected]
    result.loc[result.index[rejected_rows], "kept"] = False
    result.loc[result.index[rejected_rows], "reason"] = QE_REASON
    return result


