"""Training steps: two-step SFT, CPO pairs and training, dynamic multi-reward RL."""

from __future__ import annotations

import logging

from ..io import read_jsonl, write_json, write_jsonl
from ..models import local_model_dir

log = logging.getLogger(__name__)


def _hparams(hparams: dict, seed: int, threads: int) -> dict:
    # The workflow owns seed and threads; the config section holds the rest.
    return {**hparams, "seed": seed, "threads": threads}


def read_rows(paths) -> list[dict]:
    rows = []
    for path in paths:
        part = read_jsonl(path)
        log.info("%s: %d rows", path, len(part))
        rows += part
    if not rows:
        raise ValueError(f"no training rows in {list(map(str, paths))}")
    return rows


def sft_step(base: dict, data_paths, out_dir, checkpoint_dir, hparams: dict, seed: int, threads: int = 1):
    """One SFT step on the rows of every direction (mixed and shuffled by the trainer)."""
    from ..train.sft import run_sft

    rows = [{k: r[k] for k in ("src", "tgt", "src_lang", "tgt_lang")} for r in read_rows(data_paths)]
    return run_sft(local_model_dir(base), rows, out_dir, checkpoint_dir, _hparams(hparams, seed, threads))


def cpo_pairs_step(pool_paths, pairs_path, stats_path, margin: float) -> dict:
    """Chosen/rejected pairs from the QE-scored pools; skipped sources are counted."""
    from ..train.cpo import build_preference_pairs

    pairs, stats = build_preference_pairs(read_rows(pool_paths), margin)
    write_jsonl(pairs_path, pairs)
    write_json(stats_path, {"margin": margin, **stats})
    log.info("CPO pairs: %s", stats)
    return stats


def cpo_step(model_dir, pairs_path, out_dir, checkpoint_dir, hparams: dict, seed: int, threads: int = 1):
    from ..train.cpo import run_cpo

    hparams = {k: v for k, v in hparams.items() if k != "margin"}  # used when forming pairs
    return run_cpo(model_dir, read_jsonl(pairs_path), out_dir, checkpoint_dir, _hparams(hparams, seed, threads))


def dynamic_step(model_dir, pool_paths, out_dir, checkpoint_dir, hparams: dict, seed: int, threads: int = 1):
    from ..train.dynamic import run_dynamic

    return run_dynamic(model_dir, read_rows(pool_paths), out_dir, checkpoint_dir,
                       _hparams(hparams, seed, threads))
