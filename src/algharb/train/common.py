"""Pieces shared by the three training stages (SFT, CPO, dynamic rewards).

Every stage follows one contract:

* ``model_dir`` is a Hugging Face model directory (the tiny demo Qwen3 or
  Qwen3-14B-Base / the previous stage's output);
* checkpoints go to ``checkpoint_dir``, which lives outside ``out_dir`` so that
  Snakemake's removal of an incomplete output does not delete them; a rerun
  resumes from the newest complete checkpoint there;
* the finished model and tokenizer appear in ``out_dir`` in one rename
  (:func:`algharb.io.atomic_path`), together with ``train_log.jsonl``, one JSON
  row per optimizer step;
* hyperparameters come as the stage's typed section (:mod:`algharb.train.config`,
  where every default lives) or a mapping of it; unknown keys are an error (a
  typo in the config must not silently fall back to a default).

The paper trains every phase with a global batch of 64 and Adam (β1 0.9, β2
0.99). ``global_batch_size`` is split into per-device batch × gradient
accumulation × WORLD_SIZE, so the same config gives the same optimisation on
one GPU or eight.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import shutil
from pathlib import Path
from typing import Any, Mapping, TypeVar

import torch
from transformers import AutoTokenizer, PreTrainedTokenizerBase, TrainerCallback

from algharb.io import atomic_path
from algharb.prompts import completion_messages, translation_messages
from algharb.train.config import LoraOptions, TrainerConfig

C = TypeVar("C", bound=TrainerConfig)

LOG_NAME = "train_log.jsonl"
ADAPTER_SUBDIR = "adapter"
POOL_KEYS = ("id", "src", "src_lang", "tgt_lang", "candidates")
CANDIDATE_KEYS = ("text", "origin", "qe")
_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
# Written into checkpoint-N by the main process after every process has saved its part.
CHECKPOINT_COMPLETE = "algharb_complete"

def stage_config(config_class: type[C], hparams: C | Mapping[str, Any] | None, stage: str) -> C:
    """A stage's typed hyperparameters from a config section or a plain mapping.

    Defaults live in the section classes (:mod:`algharb.train.config`); an
    unknown key raises naming the stage and key.
    """
    if isinstance(hparams, config_class):
        return hparams
    return config_class.from_dict(hparams, where=stage)


def pool_candidates(row: Mapping[str, Any], index: int) -> list[Mapping[str, Any]]:
    """A candidate-pool row's candidates, after checking its keys and that every QE is a finite number.

    Pool rows look like ``{id, src, src_lang, tgt_lang, candidates: [{text,
    origin, qe}]}``; ``index`` only serves the error message.
    """
    missing = [key for key in POOL_KEYS if key not in row]
    if missing:
        raise ValueError(f"pool row {index} lacks {missing}; each row needs {list(POOL_KEYS)}")
    for position, candidate in enumerate(row["candidates"]):
        absent = [key for key in CANDIDATE_KEYS if key not in candidate]
        if absent:
            raise ValueError(f"pool row {row['id']!r} candidate {position} lacks {absent}")
        qe = candidate["qe"]
        if isinstance(qe, bool) or not isinstance(qe, (int, float)) or not math.isfinite(qe):
            raise ValueError(f"pool row {row['id']!r} candidate {position} qe must be a finite number, got {qe!r}")
    return list(row["candidates"])


def world_size() -> int:
    """Number of training processes, from the launcher's WORLD_SIZE (1 when absent)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def gradient_accumulation_steps(global_batch_size: int, per_device_batch_size: int, n_processes: int) -> int:
    """Accumulation steps so that per-device batch × accumulation × processes = global batch."""
    per_step = per_device_batch_size * n_processes
    if global_batch_size < 1 or per_device_batch_size < 1:
        raise ValueError(
            f"global_batch_size={global_batch_size} and per_device_batch_size={per_device_batch_size} must be ≥ 1"
        )
    if global_batch_size % per_step:
        raise ValueError(
            f"global_batch_size={global_batch_size} is not divisible by per_device_batch_size="
            f"{per_device_batch_size} × WORLD_SIZE={n_processes}"
        )
    return global_batch_size // per_step


def check_model_dir(model_dir: str | os.PathLike) -> Path:
    """The model directory as a Path; a clear error if it is not a HF model directory."""
    path = Path(model_dir)
    if not path.is_dir():
        raise FileNotFoundError(f"model_dir {path} does not exist")
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"model_dir {path} has no config.json; expected a Hugging Face model directory")
    return path


def set_threads(threads: int | None) -> None:
    """Cap torch's CPU threads (the demo shares a small machine); None leaves the default."""
    if threads is not None:
        torch.set_num_threads(int(threads))


def load_tokenizer(model_dir: str | os.PathLike, eos_token: str | None) -> PreTrainedTokenizerBase:
    """The model's tokenizer with ``eos_token`` as its eos (the chat template's end of turn).

    Qwen3-14B-Base ships ``<|endoftext|>`` as eos although its chat template
    closes turns with ``<|im_end|>``; training on ``<|im_end|>`` as eos makes the
    fine-tuned model stop at the end of its answer.
    """
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if eos_token is not None:
        if eos_token not in tokenizer.get_vocab():
            raise ValueError(f"eos_token {eos_token!r} is not in the vocabulary of {model_dir}")
        tokenizer.eos_token = eos_token
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        raise ValueError(f"the tokenizer in {model_dir} has no chat template")
    return tokenizer


def prompt_and_completion(
    tokenizer: PreTrainedTokenizerBase, row: Mapping[str, Any], translation: str
) -> tuple[str, str]:
    """Chat-rendered prompt and assistant turn for ``translation`` of ``row["src"]``.

    The completion is cut right after the eos token: the template's trailing
    newline would otherwise follow it, and TRL's CPO trainer then appends a
    second eos. The scored sequence thus ends where generation stops.
    """
    prompt_messages = translation_messages(row["src"], row["src_lang"], row["tgt_lang"])
    prompt = tokenizer.apply_chat_template(prompt_messages, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(prompt_messages + completion_messages(translation), tokenize=False)
    if not full.startswith(prompt):
        raise ValueError("the chat template renders the prompt differently on its own and before an answer")
    completion = full[len(prompt) :]
    end = completion.rfind(tokenizer.eos_token)
    if end >= 0:
        completion = completion[: end + len(tokenizer.eos_token)]
    return prompt, completion


def training_arguments_kwargs(hp: TrainerConfig, checkpoint_dir: str | os.PathLike) -> dict[str, Any]:
    """Keyword arguments for a ``TrainingArguments`` (or TRL config) from a stage's hyperparameters."""
    accumulation = gradient_accumulation_steps(hp.global_batch_size, hp.per_device_batch_size, world_size())
    if hp.deepspeed is not None:
        _check_deepspeed_config(hp)
    if hp.save_steps < 1:
        raise ValueError(f"save_steps must be ≥ 1, got {hp.save_steps}")
    if hp.use_liger_kernel:
        check_liger_kernel()
    cpu_kwargs = distributed_cpu_kwargs()
    if cpu_kwargs and hp.deepspeed is not None:
        _init_deepspeed_comm(cpu_kwargs["ddp_backend"])
    return dict(
        **cpu_kwargs,
        output_dir=str(checkpoint_dir),
        # Fixed, not transformers' default runs/<date>_<host>: saved arguments stay byte-identical between runs.
        logging_dir=str(Path(checkpoint_dir) / "logs"),
        per_device_train_batch_size=hp.per_device_batch_size,
        gradient_accumulation_steps=accumulation,
        learning_rate=hp.learning_rate,
        lr_scheduler_type=hp.lr_scheduler_type,
        warmup_ratio=hp.warmup_ratio,
        warmup_steps=hp.warmup_steps,
        max_steps=-1 if hp.max_steps is None else int(hp.max_steps),
        num_train_epochs=hp.num_epochs,
        optim="adamw_torch",
        adam_beta1=hp.adam_beta1,
        adam_beta2=hp.adam_beta2,
        weight_decay=hp.weight_decay,
        max_grad_norm=hp.max_grad_norm,
        seed=hp.seed,
        data_seed=hp.seed,
        bf16=bool(hp.bf16),
        fp16=False,
        gradient_checkpointing=bool(hp.gradient_checkpointing),
        use_liger_kernel=bool(hp.use_liger_kernel),
        torch_compile=bool(hp.torch_compile),
        ddp_timeout=int(hp.ddp_timeout),
        deepspeed=hp.deepspeed,
        save_strategy="steps",
        save_steps=hp.save_steps,
        save_total_limit=hp.save_total_limit,
        logging_strategy="steps",
        logging_steps=1,
        report_to="none",
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        disable_tqdm=True,  # the per-step rows are printed and logged anyway
    )


# DeepSpeed schedulers that warm up from warmup_min_lr and refuse zero warm-up steps.
_WARMUP_SCHEDULERS = ("WarmupLR", "WarmupDecayLR", "WarmupCosineLR")


def _check_deepspeed_config(hp: TrainerConfig) -> None:
    """Fail before any process starts on what DeepSpeed would only reject deep inside its engine."""
    path = Path(hp.deepspeed)
    if not path.is_file():
        raise FileNotFoundError(f"deepspeed config {hp.deepspeed} does not exist")
    scheduler = (json.loads(path.read_text(encoding="utf-8")).get("scheduler") or {}).get("type")
    if scheduler in _WARMUP_SCHEDULERS and hp.warmup_steps == 0 and hp.warmup_ratio == 0:
        raise ValueError(f"{hp.deepspeed} schedules the learning rate with {scheduler}, which needs warm-up steps: "
                         "set warmup_steps or warmup_ratio above 0")


def distributed_cpu_kwargs() -> dict[str, Any]:
    """Training arguments that make several CPU processes (torchrun without GPUs) one data-parallel job.

    Without a GPU, transformers treats each torchrun worker as a lone process
    unless ``use_cpu`` is set: every worker would then train on all the data
    with no gradient all-reduce, and every worker would write the model and
    logs. gloo is torch's collective backend for CPU tensors.
    """
    if world_size() > 1 and not torch.cuda.is_available():
        _load_cpu_index_locations()
        return {"use_cpu": True, "ddp_backend": "gloo"}
    return {}


def _init_deepspeed_comm(backend: str) -> None:
    """Start DeepSpeed's communication before the model is built (CPU processes only).

    ZeRO-3 partitions the weights while ``from_pretrained`` builds them
    (``deepspeed.zero.Init``), before the Trainer starts DeepSpeed. On GPUs
    transformers starts it earlier; on the CPU path it does not, and
    ``zero.Init`` then takes the world for one process and rejects the batch
    layout ("train_batch_size is not equal to ... world_size").
    """
    import deepspeed

    deepspeed.init_distributed(dist_backend=backend)


@functools.cache
def _load_cpu_index_locations() -> None:
    """Let ``torch.load`` map tensors to ``cpu:0``, the device transformers gives each CPU process under torchrun.

    On resume, the Trainer loads the optimizer state with ``map_location=args.device``
    when several processes train; torch's default loader knows ``cpu`` but not
    ``cpu:0`` and fails ("don't know how to restore data location"). A CPU
    storage needs no moving, so it is returned as it is.
    """

    def tag(storage):
        return None  # saving is left to torch

    def restore(storage, location: str):
        return storage if location.startswith("cpu:") else None

    torch.serialization.register_package(5, tag, restore)


def check_liger_kernel() -> None:
    """A clear error, before any model loads, when ``use_liger_kernel`` cannot work here."""
    import importlib.util

    if importlib.util.find_spec("liger_kernel") is None:
        raise ImportError(
            "use_liger_kernel: true needs the liger-kernel package (pip install 'algharb[gpu]'); "
            "set use_liger_kernel: false to train without it"
        )
    if not torch.cuda.is_available():
        raise RuntimeError("use_liger_kernel: true needs a CUDA GPU (Liger's kernels are Triton); none is visible")


def model_init_kwargs(hp: TrainerConfig) -> dict[str, Any]:
    """``from_pretrained`` arguments for the trained model."""
    kwargs: dict[str, Any] = {"dtype": hp.model_dtype}
    if hp.attn_implementation is not None:
        kwargs["attn_implementation"] = hp.attn_implementation
    return kwargs


def lora_config(hp: LoraOptions):
    """A peft ``LoraConfig`` for a causal LM from the lora_* hparams."""
    from peft import LoraConfig

    return LoraConfig(
        r=hp.lora_r,
        lora_alpha=hp.lora_alpha,
        # The preference losses run without dropout (TRL's CPO disables it, and
        # the dynamic stage must score pairs with the weights it trains).
        lora_dropout=0.0,
        target_modules=hp.lora_target_modules,
        task_type="CAUSAL_LM",
        bias="none",
    )


def latest_checkpoint(checkpoint_dir: str | os.PathLike) -> str | None:
    """Newest complete ``checkpoint-N`` in ``checkpoint_dir``, or None.

    Complete means marked by :class:`JsonlStepLog` once every process had
    finished writing its part (:data:`CHECKPOINT_COMPLETE`). The Trainer
    writes ``trainer_state.json`` last on the main process, but with several
    processes another rank may still be writing its RNG state (or DeepSpeed
    shard) then, so that file alone does not prove a checkpoint whole. A
    directory without ``trainer_state.json`` was cut short by a kill and is
    removed, so that it can neither be resumed from nor shadow an older
    complete one; one with it but unmarked is left alone and skipped.
    """
    root = Path(checkpoint_dir)
    if not root.is_dir():
        return None
    complete: list[tuple[int, Path]] = []
    for child in root.iterdir():
        match = _CHECKPOINT_RE.match(child.name)
        if not match or not child.is_dir():
            continue
        if (child / CHECKPOINT_COMPLETE).is_file():
            complete.append((int(match.group(1)), child))
        elif not (child / "trainer_state.json").is_file() and _is_main_process():
            shutil.rmtree(child, ignore_errors=True)
    return str(max(complete)[1]) if complete else None


def _is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


class JsonlStepLog(TrainerCallback):
    """Append one JSON row per optimizer step to ``path`` while training runs; mark finished checkpoints.

    The live log sits in the checkpoint directory so that it survives a kill
    with the checkpoints. On resume, rows past the resumed step are dropped
    (those steps are trained again) and the new rows carry ``resumed_from``.
    Trainer's ``learning_rate`` is written as ``lr``; other keys pass through.
    No wall-clock field: the log is a result (runs with one seed write the
    same bytes); timings live in results/benchmarks/.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.resumed_from: int | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.resumed_from = state.global_step or None
        kept = [row for row in _read_rows(self.path) if row["step"] <= state.global_step]
        with open(self.path, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row) + "\n" for row in kept)

    def on_save(self, args, state, control, **kwargs):
        # Every process saves its part of checkpoint-N before this call; the barrier waits for all of them.
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.barrier()
        if state.is_world_process_zero:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if folder.is_dir():
                (folder / CHECKPOINT_COMPLETE).write_text(f"{state.global_step}\n", encoding="utf-8")

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or "loss" not in logs:
            return
        row = {"step": state.global_step, "epoch": state.epoch}
        for key, value in logs.items():
            row["lr" if key == "learning_rate" else key] = value
        row["resumed_from"] = self.resumed_from
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")


def _read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line cut by a kill: everything after it is untrustworthy
    return rows


RUN_IDENTITY = "run_identity.json"


def discard_checkpoints_of_other_runs(checkpoint_dir: str | os.PathLike, identity: Mapping[str, Any]) -> bool:
    """Keep ``checkpoint_dir`` for resuming only if it was written by a run of the same ``identity``.

    A rule reruns because its inputs or parameters changed, and its
    checkpoints live outside its output (so that Snakemake's clean-up of a
    failed job keeps them): without this check a rerun with new data or
    hyperparameters would resume the old run's last checkpoint and save the
    old model. ``identity`` is what decides the result (stage, hyperparameters,
    data, starting model); it is written to ``RUN_IDENTITY`` before training.
    Returns True when earlier checkpoints were discarded.
    """
    root = Path(checkpoint_dir)
    path = root / RUN_IDENTITY
    wanted = json.loads(json.dumps(identity, sort_keys=True, default=str))
    if path.is_file() and json.loads(path.read_text(encoding="utf-8")) == wanted:
        return False
    stale = [child for child in root.glob("checkpoint-*") if child.is_dir()] if root.is_dir() else []
    stale += [root / LOG_NAME] if (root / LOG_NAME).is_file() else []
    for child in stale:
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    root.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(wanted, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return bool(stale)


def leave_process_group() -> None:
    """Tear this rank's process group down before the interpreter exits.

    Without this, a rank that finishes first (ranks other than 0 write
    nothing) leaves gloo to be torn down during interpreter finalisation: its
    worker threads then touch Python objects of a dying interpreter and the
    process aborts (SIGABRT), failing a job whose model was already saved.
    Seen on a loaded CI machine, never on an idle one. Call it after the last
    collective (every rank's ``save_model``). No barrier: rank 0 may still
    spend minutes merging and writing the model alone, and a barrier would
    make the other ranks wait on the collective timeout (``ddp_timeout``).
    """
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def train_with_resume(trainer, checkpoint_dir: str | os.PathLike) -> None:
    """Train, resuming from the newest complete checkpoint in ``checkpoint_dir`` if any."""
    trainer.train(resume_from_checkpoint=latest_checkpoint(checkpoint_dir))


def save_trained_model(trainer, out_dir: str | os.PathLike, checkpoint_dir: str | os.PathLike) -> Path:
    """Save the trainer's model, tokenizer and step log to ``out_dir`` in one rename.

    Every process calls ``save_model`` (DeepSpeed ZeRO-3 gathers the weights
    collectively) but only the main process writes.
    """
    if not trainer.args.should_save:
        trainer.save_model(str(out_dir))
        return Path(out_dir)
    with atomic_path(out_dir) as tmp:
        trainer.save_model(str(tmp))
        shutil.copyfile(Path(checkpoint_dir) / LOG_NAME, tmp / LOG_NAME)
    return Path(out_dir)


def save_merged_model(
    trainer,
    base_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    checkpoint_dir: str | os.PathLike,
    dtype: str = "auto",
) -> Path:
    """Save the base model with the trained LoRA adapter merged in, plus the adapter.

    The adapter is saved through the trainer (which handles sharded training),
    then merged into a fresh copy of the base loaded on CPU, so the merge never
    has to happen inside a distributed engine. ``dtype`` is the dtype the
    base is loaded, merged and saved in. ``out_dir/adapter`` keeps the adapter
    itself.
    """
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    if not trainer.args.should_save:
        trainer.save_model(str(Path(out_dir) / ADAPTER_SUBDIR))
        return Path(out_dir)
    with atomic_path(out_dir) as tmp:
        adapter_dir = tmp / ADAPTER_SUBDIR
        trainer.save_model(str(adapter_dir))
        base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=dtype, device_map=None)
        merged = PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
        tokenizer = trainer.processing_class
        _align_special_tokens(merged, tokenizer)
        merged.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        shutil.copyfile(Path(checkpoint_dir) / LOG_NAME, tmp / LOG_NAME)
    return Path(out_dir)


def _align_special_tokens(model, tokenizer: PreTrainedTokenizerBase) -> None:
    """Make the model's config and generation config stop at the tokenizer's eos and pad with its pad."""
    model.config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    eos_ids = model.generation_config.eos_token_id
    eos_ids = [] if eos_ids is None else [eos_ids] if isinstance(eos_ids, int) else list(eos_ids)
    if tokenizer.eos_token_id not in eos_ids:
        model.generation_config.eos_token_id = [tokenizer.eos_token_id, *eos_ids]
    model.config.eos_token_id = tokenizer.eos_token_id
