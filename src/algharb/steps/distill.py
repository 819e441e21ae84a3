"""Distillation step: the teacher re-translates the sources of rejected pairs.

Which rejected pairs are worth a new target? Those whose *target* was the
problem. A rejection that implicates the source (a ``:src`` reason, e.g. the
source is in the wrong language or is junk) or a duplicate of a kept pair
would only add noise or repeats, so those sources are skipped and counted.
The teacher's outputs then pass the same rule filters and language ID as the
raw data (a teacher can copy, truncate or answer in the wrong language);
pairs that fail are dropped and counted by reason.
"""

from __future__ import annotations

import logging
import random
from collections import Counter

from ..generation import Sampling, translate_in_chunks
from ..io import read_jsonl, write_json, write_jsonl

log = logging.getLogger(__name__)

# A (near) duplicate's source already has a kept translation: re-translating it adds a copy.
SKIPPED_REASONS = ("duplicate", "near_duplicate")


def distillable(row: dict) -> bool:
    reason = row["reason"]
    return not reason.endswith(":src") and reason.split(":")[0] not in SKIPPED_REASONS


def distill_file(rejected_path, out_path, src_lang: str, tgt_lang: str, teacher: dict, max_pairs: int,
                 sampling: dict, seed: int, threads: int, refilter: dict | None, lid: dict | None,
                 chunk_size: int, chunk_dir=None, stats_path=None) -> dict:
    """Teacher translations for up to ``max_pairs`` distinct rejected sources (seeded choice).

    With ``refilter`` (the direction's ``CleanConfig.rule_settings``; None:
    no re-filter) the outputs pass the rule filters again, language ID with
    the LID model entry ``lid``. With ``chunk_dir`` the teacher works
    ``chunk_size`` sources at a time and a rerun resumes from the finished
    chunks (see ``translate_in_chunks``).
    """
    rejected = read_jsonl(rejected_path)
    reasons = Counter(r["reason"] for r in rejected if not distillable(r))
    seen, usable = set(), []
    for row in rejected:
        if distillable(row) and row["src"] not in seen:
            seen.add(row["src"])
            usable.append(row)
    chosen = random.Random(seed).sample(usable, min(max_pairs, len(usable)))
    chosen.sort(key=lambda r: r["line"])  # keep corpus order for traceability
    settings = Sampling.from_dict({"seed": seed, **sampling})
    outputs = translate_in_chunks(teacher, [r["src"] for r in chosen], src_lang, tgt_lang, settings,
                                  chunk_dir=chunk_dir, chunk_size=chunk_size, threads=threads)
    rows = [
        {"line": r["line"], "src": r["src"], "tgt": out[0], "rejected_tgt": r["tgt"],
         "reason": r["reason"], "src_lang": src_lang, "tgt_lang": tgt_lang}
        for r, out in zip(chosen, outputs)
    ]
    rows, refiltered = (rows, {}) if refilter is None else refilter_rows(rows, src_lang, tgt_lang, refilter, lid)
    write_jsonl(out_path, rows)
    stats = {"rejected": len(rejected), "distillable": len(usable), "translated": len(chosen),
             "kept": len(rows), "skipped_by_reason": dict(reasons), "refilter_rejected_by_reason": refiltered}
    if stats_path:
        write_json(stats_path, stats)
    log.info("distillation %s-%s: %s", src_lang, tgt_lang, stats)
    return stats


def refilter_rows(rows: list[dict], src_lang: str, tgt_lang: str, rules: dict, lid: dict | None):
    """Keep the teacher pairs that pass the rule filters ``rules`` (rule settings); count the others by reason."""
    from ..data.clean import apply_rule_filters
    from ..data.config import FilterConfig
    from ..data.ingest import ParallelCorpus

    if not rows:
        return rows, {}
    config = FilterConfig.from_dict(rules)
    corpus = ParallelCorpus.from_pairs([(r["src"], r["tgt"]) for r in rows])
    decisions = apply_rule_filters(corpus, src_lang, tgt_lang, config, lid_model=lid, progress=False)
    kept = decisions["kept"].tolist()
    reasons = Counter(decisions.loc[~decisions["kept"], "reason"])
    return [r for r, keep in zip(rows, kept) if keep], dict(reasons)
