"""Supervised fine-tuning on translation pairs (both SFT steps of the paper).

Step 1 trains Qwen3-14B-Base on parallel data (lr 2e-5); step 2 continues from
step 1's output on distilled data (lr 1e-5). Both are :func:`run_sft` with
different rows and hparams.

Each row becomes a conversational prompt–completion example: the prompt is
:func:`algharb.prompts.translation_messages` and the completion
:func:`algharb.prompts.completion_messages`. TRL's ``SFTTrainer`` renders
them with the model's chat template and masks the prompt, so the loss is on
the assistant turn only (translation, end-of-turn token and the template's
newline after it). All directions are mixed in one shuffled stream.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any, Iterable, Mapping

from algharb.prompts import completion_messages, translation_messages
from algharb.train.common import (
    LOG_NAME,
    JsonlStepLog,
    check_model_dir,
    load_tokenizer,
    model_init_kwargs,
    stage_config,
    save_trained_model,
    set_threads,
    train_with_resume,
    training_arguments_kwargs,
)
from algharb.train.config import SFTConfig
from algharb.train.throughput import attach_throughput_log

ROW_KEYS = ("src", "tgt", "src_lang", "tgt_lang")


def sft_examples(rows: Iterable[Mapping[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Conversational prompt–completion examples from translation rows, shuffled with ``seed``."""
    examples = []
    for index, row in enumerate(rows):
        missing = [key for key in ROW_KEYS if key not in row]
        if missing:
            raise ValueError(f"SFT row {index} lacks {missing}; each row needs {list(ROW_KEYS)}")
        examples.append(
            {
                "prompt": translation_messages(row["src"], row["src_lang"], row["tgt_lang"]),
                "completion": completion_messages(row["tgt"]),
            }
        )
    if not examples:
        raise ValueError("SFT rows are empty")
    random.Random(seed).shuffle(examples)
    return examples


def build_sft_trainer(
    model_dir: str | os.PathLike,
    rows: Iterable[Mapping[str, Any]],
    checkpoint_dir: str | os.PathLike,
    hparams: SFTConfig | Mapping[str, Any] | None = None,
    throughput_log: str | os.PathLike | None = None,
):
    """TRL's ``SFTTrainer`` for ``rows`` ({src, tgt, src_lang, tgt_lang}), checkpointing into ``checkpoint_dir``."""
    from datasets import Dataset
    import trl

    hp = stage_config(SFTConfig, hparams, "sft")
    if hp.packing and hp.group_by_length:
        raise ValueError("sft: packing and group_by_length exclude each other (packed rows are all max_length long)")
    set_threads(hp.threads)
    model_dir = check_model_dir(model_dir)
    examples = sft_examples(rows, hp.seed)
    tokenizer = load_tokenizer(model_dir, hp.eos_token)

    config = trl.SFTConfig(
        **training_arguments_kwargs(hp, checkpoint_dir),
        max_length=hp.max_length,
        packing=hp.packing,
        packing_strategy=hp.packing_strategy,
        group_by_length=hp.group_by_length,
        completion_only_loss=True,
        eos_token=tokenizer.eos_token,
        model_init_kwargs=model_init_kwargs(hp),
    )
    trainer = trl.SFTTrainer(
        model=str(model_dir),
        args=config,
        train_dataset=Dataset.from_list(examples),
        processing_class=tokenizer,
        callbacks=[JsonlStepLog(Path(checkpoint_dir) / LOG_NAME)],
    )
    attach_throughput_log(trainer, throughput_log, hp.peak_tflops)
    return trainer


def run_sft(
    model_dir: str | os.PathLike,
    rows: Iterable[Mapping[str, Any]],
    out_dir: str | os.PathLike,
    checkpoint_dir: str | os.PathLike,
    hparams: SFTConfig | Mapping[str, Any] | None = None,
    throughput_log: str | os.PathLike | None = None,
) -> Path:
    """Fine-tune ``model_dir`` on ``rows`` ({src, tgt, src_lang, tgt_lang}); save to ``out_dir``.

    Checkpoints every ``save_steps`` into ``checkpoint_dir`` and resumes from
    the newest one when rerun. With ``throughput_log``, tokens/s and MFU per
    step are written there (:mod:`algharb.train.throughput`). Returns ``out_dir``.
    """
    trainer = build_sft_trainer(model_dir, rows, checkpoint_dir, hparams, throughput_log)
    train_with_resume(trainer, checkpoint_dir)
    return save_trained_model(trainer, out_dir, checkpoint_dir)
