"""Distillation step: the teacher re-translates the sources of rejected pairs.

Which rejected pairs are worth a new target? Those whose *target* was the
problem. A rejection that implicates the source (a ``:src`` reason, e.g. the
source is in the wrong language or is junk) or a duplicate of a kept pair
would only add noise or repeats, so those sources are skipped and counted.
"""

from __future__ import annotations

import logging
import random
from collections import Counter

from ..generation import Sampling, load_backend
from ..io import read_jsonl, write_jsonl

log = logging.getLogger(__name__)

SKIPPED_REASONS = ("duplicate",)


def distillable(row: dict) -> bool:
    reason = row.get("reason", "")
    return not reason.endswith(":src") and reason.split(":")[0] not in SKIPPED_REASONS


def distill_file(rejected_path, out_path, src_lang: str, tgt_lang: str, teacher: dict, max_pairs: int,
                 sampling: dict, seed: int, threads: int = 1) -> dict:
    """Teacher translations for up to ``max_pairs`` distinct rejected sources (seeded choice)."""
    rejected = read_jsonl(rejected_path)
    reasons = Counter(r.get("reason", "") for r in rejected if not distillable(r))
    seen, usable = set(), []
    for row in rejected:
        if distillable(row) and row["src"] not in seen:
            seen.add(row["src"])
            usable.append(row)
    chosen = random.Random(seed).sample(usable, min(max_pairs, len(usable)))
    chosen.sort(key=lambda r: r["line"])  # keep corpus order for traceability
    settings = Sampling.from_dict({"seed": seed, **sampling})
    outputs = load_backend(teacher, threads=threads).translate(
        [r["src"] for r in chosen], src_lang, tgt_lang, settings
    ) if chosen else []
    rows = [
        {"line": r["line"], "src": r["src"], "tgt": out[0], "rejected_tgt": r["tgt"],
         "reason": r["reason"], "src_lang": src_lang, "tgt_lang": tgt_lang}
        for r, out in zip(chosen, outputs)
    ]
    write_jsonl(out_path, rows)
    stats = {"rejected": len(rejected), "distillable": len(usable), "distilled": len(rows),
             "skipped_by_reason": dict(reasons)}
    log.info("distillation %s-%s: %s", src_lang, tgt_lang, stats)
    return stats
