"""Contrastive Preference Optimisation (CPO) on QE-ranked translation pairs.

The pairs come from :mod:`algharb.train.preference_data` (chosen = the
best-scored candidate of a source, rejected = the worst, or a noised copy of
the chosen one). :func:`run_cpo` trains a LoRA adapter with TRL's CPO trainer
(``−log σ(β·(log π(y_w) − log π(y_l))) + cpo_alpha·NLL(y_w)``), merges it
into the base and saves the full model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from algharb.train.common import (
    LOG_NAME,
    JsonlStepLog,
    check_model_dir,
    load_tokenizer,
    lora_config,
    model_init_kwargs,
    prompt_and_completion,
    stage_config,
    save_merged_model,
    set_threads,
    train_with_resume,
    training_arguments_kwargs,
)
from algharb.train.config import CPOConfig
from algharb.train.throughput import attach_throughput_log, preference_sequence_lengths

def preference_examples(tokenizer, pairs: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Chat-rendered {prompt, chosen, rejected} strings for TRL's CPO and DPO trainers.

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


def run_trl_preference(hp, model_dir, pairs, build_trainer, out_dir, checkpoint_dir, throughput_log,
                       lengths) -> Path:
    """What CPO and DPO share: load the tokenizer, render ``pairs``, train with resume, save merged.

    ``build_trainer(model_dir, examples, tokenizer)`` makes the TRL trainer;
    ``lengths`` measures its batches for the throughput log.
    """
    set_threads(hp.threads)
    model_dir = check_model_dir(model_dir)
    tokenizer = load_tokenizer(model_dir, hp.eos_token)
    trainer = build_trainer(model_dir, preference_examples(tokenizer, pairs), tokenizer)
    attach_throughput_log(trainer, throughput_log, hp.peak_tflops, lengths)
    train_with_resume(trainer, checkpoint_dir)
    return save_merged_model(trainer, model_dir, out_dir, checkpoint_dir, hp.merged_dtype)


def cpo_trainer(model_dir: Path, examples: list[dict[str, str]], tokenizer, checkpoint_dir, hp: CPOConfig):
    """TRL's CPOTrainer on chat-rendered examples with a LoRA policy."""
    from datasets import Dataset

    # CPO lives in trl.experimental since TRL 1.x; the import warns about that on every run.
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from trl.experimental import cpo as trl_cpo

    config = trl_cpo.CPOConfig(
        **training_arguments_kwargs(hp, checkpoint_dir),
        max_length=hp.max_length,
        beta=hp.beta,
        cpo_alpha=hp.cpo_alpha,
        loss_type=hp.loss_type,
        remove_unused_columns=False,
        model_init_kwargs={**model_init_kwargs(hp), "device_map": None},
    )
    return trl_cpo.CPOTrainer(
        model=str(model_dir),
        args=config,
        train_dataset=Dataset.from_list(examples),
        processing_class=tokenizer,
        peft_config=lora_config(hp),
        callbacks=[JsonlStepLog(Path(checkpoint_dir) / LOG_NAME)],
    )


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
    hp = stage_config(CPOConfig, hparams, "cpo")

    def build(model_dir, examples, tokenizer):
        return cpo_trainer(model_dir, examples, tokenizer, checkpoint_dir, hp)

    return run_trl_preference(hp, model_dir, pairs, build, out_dir, checkpoint_dir, throughput_log,
                              preference_sequence_lengths)
