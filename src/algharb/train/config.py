"""Hyperparameters of the training stages: one typed section per stage.

Each field carries its default and meaning; nothing else in the package
defaults a training hyperparameter. The paper's common settings
(Marco-MT-Algharb, WMT25, §3.1: Adam β1 0.9, β2 0.99, global batch 64 in
every phase) are the defaults. ``seed`` and ``threads`` are filled in by the
workflow from the top-level ``seed`` and ``resources.threads``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from algharb.config.section import Section, option


@dataclass(frozen=True)
class TrainerConfig(Section):
    """Settings every training stage understands."""

    # Set by the workflow from the top-level config, not under the stage's key.
    WORKFLOW_KEYS = ("seed", "threads")

    seed: int = option(0, "seed of data order, dropout and LoRA initialisation (the run's seed)")
    threads: int | None = option(1, "torch CPU threads (resources.threads); None leaves torch's default")
    learning_rate: float = option(1e-5, "peak learning rate")
    lr_scheduler_type: str = option("cosine", "transformers scheduler name")
    warmup_ratio: float = option(0.03, "share of steps spent warming up")
    warmup_steps: int = option(0, "warm-up steps; > 0 overrides warmup_ratio")
    max_steps: int | None = option(None, "optimizer steps; None trains for num_epochs instead")
    num_epochs: float = option(1.0, "epochs when max_steps is None")
    global_batch_size: int = option(64, "examples per optimizer step, kept constant whatever the GPU count")
    per_device_batch_size: int = option(8, "examples per device and forward; accumulation fills the rest")
    adam_beta1: float = option(0.9, "Adam β1")
    adam_beta2: float = option(0.99, "Adam β2")
    weight_decay: float = option(0.0, "AdamW weight decay")
    max_grad_norm: float = option(1.0, "gradient clipping norm")
    max_length: int = option(1024, "tokens per example (prompt + completion); longer ones are truncated")
    save_steps: int = option(200, "steps between resumable checkpoints")
    save_total_limit: int = option(2, "checkpoints kept")
    bf16: bool = option(False, "bf16 mixed precision")
    gradient_checkpointing: bool = option(False, "recompute activations in the backward pass")
    deepspeed: str | None = option(None, "DeepSpeed JSON config path, passed to TrainingArguments")
    model_dtype: str = option("auto", "dtype the weights are loaded in ('auto': as saved)")
    attn_implementation: str | None = option(None, "attention kernel; None: the model's default (sdpa)")
    eos_token: str = option("<|im_end|>", "the chat template's end of turn; generation stops there")
    use_liger_kernel: bool = option(False, "Liger's Triton kernels (GPU, pip install 'algharb[gpu]')")
    torch_compile: bool = option(False, "torch.compile the model")
    ddp_timeout: int = option(1800, "seconds a collective (NCCL, gloo) waits for a missing rank before the job fails")
    peak_tflops: float | None = option(None, "accelerator peak for MFU in the throughput log; None: by GPU name")

    def stage_dict(self) -> dict[str, Any]:
        """The options set under the stage's own config key (without the workflow's seed/threads)."""
        return {k: v for k, v in self.to_dict().items() if k not in self.WORKFLOW_KEYS}


@dataclass(frozen=True)
class LoraOptions(Section):
    """LoRA settings of the two RL stages."""

    lora_r: int = option(64, "LoRA rank")
    lora_alpha: float = option(128, "LoRA scaling α")
    lora_target_modules: str | list[str] = option("all-linear", "'all-linear' or module names, e.g. [q_proj, v_proj]")
    # At lr 1e-6 a LoRA update can be below bf16's resolution; "float32" keeps it.
    merged_dtype: str = option("auto", "dtype the adapter is merged and saved in ('auto': the base's)")


@dataclass(frozen=True)
class SFTConfig(TrainerConfig):
    """Full-parameter SFT (both steps)."""

    learning_rate: float = option(2e-5, "peak learning rate (step 1 of the paper; step 2 uses 1e-5)")
    # Packing (BFD) fills rows of max_length tokens with whole examples and no
    # padding; each example attends only within itself. Without packing,
    # group_by_length batches similar lengths.
    packing: bool = option(False, "pack whole examples into rows of max_length tokens (no padding)")
    packing_strategy: str = option("bfd", "'bfd' (best-fit decreasing, no example split) or 'wrapped'")
    group_by_length: bool = option(False, "batches of similar lengths (without packing)")


@dataclass(frozen=True)
class CPOConfig(LoraOptions, TrainerConfig):
    """CPO (Xu et al. 2024) with LoRA, on the pairs of ``rl.pairs``."""

    learning_rate: float = option(1e-4, "peak learning rate (ALMA-R's CPO rate for LoRA; the paper gives none)")
    beta: float = option(0.1, "β of the preference term")
    cpo_alpha: float = option(1.0, "weight of the NLL term on the chosen translation")
    loss_type: str = option("sigmoid", "trl CPO loss: sigmoid, hinge, ipo or simpo")


@dataclass(frozen=True)
class DPOConfig(LoraOptions, TrainerConfig):
    """DPO (Rafailov et al. 2023) with LoRA on the same pairs as CPO; the frozen reference is the
    starting model (the LoRA adapter switched off), as in ALMA-R's CPO-vs-DPO analysis."""

    learning_rate: float = option(1e-4, "peak learning rate (CPO's, so the two differ in the loss only)")
    beta: float = option(0.1, "β of DPO's implicit reward")
    loss_type: str = option("sigmoid", "trl DPO loss, e.g. sigmoid, hinge, ipo")


@dataclass(frozen=True)
class DynamicConfig(LoraOptions, TrainerConfig):
    """Dynamic multi-reward optimisation (Marco-MT-Algharb, WMT25, eq. 1-2) with LoRA."""

    learning_rate: float = option(1e-6, "peak learning rate")
    preference_loss: str = option("cpo", "pairwise base loss by registry name (algharb.train.preference)")
    beta: float = option(0.1, "β of the preference term")
    nll_weight: float = option(1.0, "weight of the NLL term on the chosen candidate")
    kl_weight: float = option(1.0, "weight of L_KL (Marco-MT-Algharb, WMT25, eq. 2) in the objective")
    tau: float = option(0.3, "τ in σ(τ·ΔQE)")
    qe_scale: float = option(100.0, "QE scale inside σ(τ·ΔQE) (100: COMET points)")
    w_start: float = option(0.05, "w(t) at the first step (weight of R_self)")
    w_end: float = option(0.8, "w(t) at the last step")
    length_normalise: bool = option(True, "R_self = mean per-token log-prob (true) or the sum")
    score_batch_size: int = option(16, "sequences per no-grad scoring forward")


@dataclass(frozen=True)
class M2POConfig(LoraOptions, TrainerConfig):
    """M2PO ("Beyond Single-Reward: Multi-Pair, Multi-Perspective Preference Optimization for Machine
    Translation", §3) with LoRA. Where the paper is silent (schedule shape, base loss, weights) the
    choices are these options' defaults; see :mod:`algharb.train.m2po`."""

    learning_rate: float = option(1e-6, "peak learning rate (the dynamic stage's)")
    preference_loss: str = option("cpo", "pairwise base loss by registry name (algharb.train.preference)")
    beta: float = option(0.1, "β of the preference term")
    nll_weight: float = option(1.0, "weight of the NLL term on each source's best candidate")
    faithfulness_weight: float = option(1.0, "λ_f in r_s = r_QE + λ_f·S_align (both on 0-1)")
    alpha_start: float = option(0.0, "α_t at the first step: weight of the policy's z-scored log-prob")
    alpha_end: float = option(0.5, "α_t at the last step (linear in between)")
    length_normalise: bool = option(True, "r_d = mean per-token log-prob (true) or the sum")
    score_batch_size: int = option(16, "sequences per no-grad scoring forward")
