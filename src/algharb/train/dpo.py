"""DPO (Rafailov et al. 2023) on the same preference pairs as CPO: ALMA-R's CPO-vs-DPO analysis.

DPO scores the policy against a frozen reference model,
``−log σ(β·[(log π(y_w) − log π_ref(y_w)) − (log π(y_l) − log π_ref(y_l))])``,
and has no NLL term. :func:`run_dpo` trains a LoRA adapter (r 64, α 128)
with TRL's ``DPOTrainer``; the reference is the starting model itself, read
with the adapter switched off, so it costs no second copy of the weights and
receives no gradient (the base weights are frozen under LoRA). The adapter is
merged into the base and the full model saved, as for CPO.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from algharb.train.common import (
    LOG_NAME,
    JsonlStepLog,
    lora_config,
    model_init_kwargs,
    stage_config,
    training_arguments_kwargs,
)
from algharb.train.config import DPOConfig
from algharb.train.cpo import run_trl_preference
from algharb.train.throughput import sequence_lengths


def dpo_trainer(model_dir: Path, examples: list[dict[str, str]], tokenizer, checkpoint_dir, hp: DPOConfig):
    """TRL's DPOTrainer on chat-rendered examples, LoRA policy, adapter-off reference."""
    from datasets import Dataset
    from trl import DPOConfig as TrlDPOConfig
    from trl import DPOTrainer

    config = TrlDPOConfig(
        **training_arguments_kwargs(hp, checkpoint_dir),
        max_length=hp.max_length,
        beta=hp.beta,
        loss_type=[hp.loss_type],
        remove_unused_columns=False,
        model_init_kwargs={**model_init_kwargs(hp), "device_map": None},
    )
    return DPOTrainer(
        model=str(model_dir),
        ref_model=None,  # with a peft_config: the same model with its adapter disabled
        args=config,
        train_dataset=Dataset.from_list(examples),
        processing_class=tokenizer,
        peft_config=lora_config(hp),
        callbacks=[JsonlStepLog(Path(checkpoint_dir) / LOG_NAME)],
    )


def run_dpo(
    model_dir: str | os.PathLike,
    pairs: Iterable[Mapping[str, Any]],
    out_dir: str | os.PathLike,
    checkpoint_dir: str | os.PathLike,
    hparams: DPOConfig | Mapping[str, Any] | None = None,
    throughput_log: str | os.PathLike | None = None,
) -> Path:
    """Train a LoRA adapter on ``pairs`` with DPO; save the merged model to ``out_dir``.

    ``out_dir/adapter`` holds the adapter alone. Checkpoints (adapter +
    optimizer) go to ``checkpoint_dir`` and a rerun resumes from them.
    """
    hp = stage_config(DPOConfig, hparams, "dpo")

    def build(model_dir, examples, tokenizer):
        return dpo_trainer(model_dir, examples, tokenizer, checkpoint_dir, hp)

    # TRL's DPO batches stack prompt+chosen over prompt+rejected under one attention mask.
    return run_trl_preference(hp, model_dir, pairs, build, out_dir, checkpoint_dir, throughput_log,
                              sequence_lengths)
