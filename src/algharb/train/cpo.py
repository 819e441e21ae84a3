"""Contrastive Preference Optimisation (CPO) on QE-ranked translation pairs.

For each source the candidate pool holds the SFT model's own samples
(origin ``"self"``) and the teacher's translation (``"teacher"``), each with a
reference-free QE score. :func:`build_preference_pairs` turns a pool into one
(chosen, rejected) pair: chosen is the highest-QE candidate, rejected the
lowest-QE candidate with a different text, kept only if their QE gap reaches
``margin``. :func:`run_cpo` trains a LoRA adapter with TRL's CPO trainer
(``−log σ(β·(log π(y_w) − log π(y_l))) + cpo_alpha·NLL(y_w)``), merges it
into the base and saves the full model.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping

from algharb.train.common import (
    LOG_NAME,
    JsonlStepLog,
    check_model_dir,
    load_tokenizer,
    lora_config,
    model_init_kwargs,
    pool_candidates,
    prompt_and_completion,
    stage_config,
    save_merged_model,
    set_threads,
    train_with_resume,
    training_arguments_kwargs,
)
from algharb.train.config import CPOConfig
from algharb.train.throughput import attach_throughput_log, preference_sequence_lengths

SKIP_REASONS = ("no_margin", "fewer_than_two_distinct")


def select_pair(candidates: list[Mapping[str, Any]]) -> tuple[int, int] | None:
    """Indices (chosen, rejected): highest QE, and lowest QE among different texts.

    Ties go to the earlier candidate. None when no candidate differs in text
    from the chosen one.
    """
    if not candidates:
        return None
    chosen = max(range(len(candidates)), key=lambda i: (candidates[i]["qe"], -i))
    others = [i for i in range(len(candidates)) if candidates[i]["text"] != candidates[chosen]["text"]]
    if not others:
        return None
    rejected = min(others, key=lambda i: (candidates[i]["qe"], i))
    return chosen, rejected


def build_preference_pairs(
    pool_rows: Iterable[Mapping[str, Any]], margin: float
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One (chosen, rejected) pair per source whose QE gap is at least ``margin``.

    Returns the pairs, each with the texts, origins, QE scores and their gap
    (``margin``), and stats: ``sources``, ``pairs``, ``skipped`` by reason
    (``no_margin``, ``fewer_than_two_distinct``) and counts of chosen/rejected
    origins. Pure: no I/O, no randomness.
    """
    if margin < 0 or not math.isfinite(margin):
        raise ValueError(f"margin must be a finite number ≥ 0, got {margin}")
    pairs: list[dict[str, Any]] = []
    skipped = Counter({reason: 0 for reason in SKIP_REASONS})
    chosen_origins: Counter = Counter()
    rejected_origins: Counter = Counter()
    sources = 0
    for index, row in enumerate(pool_rows):
        sources += 1
        candidates = pool_candidates(row, index)
        selected = select_pair(candidates)
        if selected is None:
            skipped["fewer_than_two_distinct"] += 1
            continue
        chosen, rejected = candidates[selected[0]], candidates[selected[1]]
        gap = chosen["qe"] - rejected["qe"]
        if gap < margin:
            skipped["no_margin"] += 1
            continue
        chosen_origins[chosen["origin"]] += 1
        rejected_origins[rejected["origin"]] += 1
        pairs.append(
            {
                "id": row["id"],
                "src": row["src"],
                "src_lang": row["src_lang"],
                "tgt_lang": row["tgt_lang"],
                "chosen": chosen["text"],
                "rejected": rejected["text"],
                "chosen_origin": chosen["origin"],
                "rejected_origin": rejected["origin"],
                "chosen_qe": chosen["qe"],
                "rejected_qe": rejected["qe"],
                "margin": gap,
            }
        )
    stats = {
        "sources": sources,
        "pairs": len(pairs),
        "skipped": dict(skipped),
        "chosen_origin": dict(chosen_origins),
        "rejected_origin": dict(rejected_origins),
    }
    return pairs, stats


def cpo_examples(tokenizer, pairs: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Chat-rendered {prompt, chosen, rejected} strings for TRL's CPO trainer.

    The messages come from :mod:`algharb.prompts`; rendering here (rather than
    inside TRL) lets each answer end at the eos token, see
    :func:`algharb.train.common.prompt_and_completion`.
    """
    examples = []
    for index, pair in enumerate(pairs):
        missing = [key for key in ("src", "src_lang", "tgt_lang", "chosen", "rejected") if key not in pair]
        if missing:
            raise ValueError(f"preference pair {index} lacks {missing}")
        prompt, chosen = prompt_and_completion(tokenizer, pair, pair["chosen"])
        _, rejected = prompt_and_completion(tokenizer, pair, pair["rejected"])
        examples.append({"prompt": prompt, "chosen": chosen, "rejected": rejected})
    if not examples:
        raise ValueError("no preference pairs to train on")
    return examples


def run_cpo(
    model_dir: str | os.PathLike,
    pairs: Iterable[Mapping[str, Any]],
    out_dir: str | os.PathLike,
    checkpoint_dir: str | os.PathLike,
    hparams: CPOConfig | Mapping[str, Any] | None = None,
    throughput_log: str | os.PathLike | None = None,
) -> Path:
    """Train a LoRA adapter on ``pairs`` with CPO; save the merged model to ``out_dir``.

    ``out_dir/adapter`` holds the adapter alone; ``throughput_log`` gets
    tokens/s and MFU per step. Checkpoints (adapter +
    optimizer) go to ``checkpoint_dir`` and a rerun resumes from them.
    """
    from datasets import Dataset

    # CPO lives in trl.experimental since TRL 1.x; the import warns about that on every run.
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from trl.experimental import cpo as trl_cpo

    # ``margin`` is the pair builder's (build_preference_pairs); the trainer ignores it.
    hp = stage_config(CPOConfig, hparams, "cpo")
    set_threads(hp.threads)
    model_dir = check_model_dir(model_dir)
    tokenizer = load_tokenizer(model_dir, hp.eos_token)
    examples = cpo_examples(tokenizer, pairs)

    config = trl_cpo.CPOConfig(
        **training_arguments_kwargs(hp, checkpoint_dir),
        max_length=hp.max_length,
        beta=hp.beta,
        cpo_alpha=hp.cpo_alpha,
        loss_type=hp.loss_type,
        remove_unused_columns=False,
        model_init_kwargs={**model_init_kwargs(hp), "device_map": None},
    )
    trainer = trl_cpo.CPOTrainer(
        model=str(model_dir),
        args=config,
        train_dataset=Dataset.from_list(examples),
        processing_class=tokenizer,
        peft_config=lora_config(hp),
        callbacks=[JsonlStepLog(Path(checkpoint_dir) / LOG_NAME)],
    )
    attach_throughput_log(trainer, throughput_log, hp.peak_tflops, preference_sequence_lengths)
    train_with_resume(trainer, checkpoint_dir)
    return save_merged_model(trainer, model_dir, out_dir, checkpoint_dir, hp.merged_dtype)
