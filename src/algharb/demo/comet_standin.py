"""Tiny stand-in COMET models for the offline demo, trained with unbabel-comet itself.

The real workflow scores translations with hub models (CometKiwi-XXL for QE
filtering and rewards, COMET-22 as the MBR utility, XCOMET-XXL for
evaluation). None of them can be downloaded here, so the demo trains small
models of the same COMET classes on synthetic, graded corruptions of
reference translations and loads them through the same backend
(:mod:`algharb.metrics.comet`):

1. :func:`algharb.demo.comet_encoder.build_encoder` trains a sentencepiece vocabulary on the demo texts
   and saves a randomly initialised XLM-R encoder that COMET can load offline;
2. :func:`algharb.demo.graded_examples.make_graded_examples` turns clean (source, reference) pairs into
   candidates of known quality (omissions, wrong words, shuffles, copies, ...)
   labelled by chrF mixed with word-level F1 against the reference;
3. :func:`train_standin` (this module) fits a ``ReferencelessRegression`` (``qe``, the
   CometKiwi stand-in), ``RegressionMetric`` (``ref``, the COMET-22 / XCOMET
   stand-in) or ``UnifiedMetric`` (``unified``) with Lightning, exactly as
   ``comet-train`` would, and writes a relocatable model directory::

       <out_dir>/hparams.yaml
       <out_dir>/checkpoints/model.ckpt
       <out_dir>/encoder/          tokenizer, config and trained encoder weights
       <out_dir>/data/heldout.csv  held-out examples (whole reference groups)
       <out_dir>/validation.json   held-out Pearson / Kendall / Spearman
"""

from __future__ import annotations

import logging
import math
import random
import shutil
import time
from pathlib import Path
from typing import Sequence

import pandas as pd

from algharb.io import atomic_path, write_json
from algharb.metrics.comet import (
    CHECKPOINT_RELPATH,
    ENCODER_DIRNAME,
    HPARAMS_FILENAME,
    quiet_lightning,
)

log = logging.getLogger(__name__)


# Stand-in kind -> COMET class identifier (the key comet.models.str2model uses).
STANDIN_CLASSES = {
    "qe": "referenceless_regression_metric",
    "ref": "regression_metric",
    "unified": "unified_metric",
}
# Optimizer steps (batch 32) that fit ~2.5 CPU-minutes on one thread at the
# demo size (hidden 128 x 2 layers, ~20k examples of ~15 words): a reference-
# based step encodes three segments, a unified step three concatenations.
DEFAULT_MAX_STEPS = {"qe": 1200, "ref": 800, "unified": 300}


def train_standin(
    kind: str,
    examples: pd.DataFrame,
    encoder_dir: str | Path,
    out_dir: str | Path,
    seed: int = 0,
    max_steps: int | None = None,
    max_epochs: int = 100,
    max_seconds: float | None = None,
    batch_size: int = 32,
    encoder_learning_rate: float = 6e-4,
    learning_rate: float = 2e-3,
    hidden_sizes: Sequence[int] = (256,),
    dropout: float = 0.1,
    heldout_fraction: float = 0.1,
    threads: int = 1,
    progress: bool = False,
) -> dict:
    """Train one stand-in COMET model of ``kind`` and save it to ``out_dir``.

    ``kind``: ``"qe"`` (ReferencelessRegression, CometKiwi stand-in), ``"ref"``
    (RegressionMetric, COMET-22 / XCOMET stand-in) or ``"unified"``
    (UnifiedMetric on ``[mt, src, ref]``, usable with or without references).
    ``examples`` has columns ``src, mt, ref, score`` (see
    :func:`algharb.demo.graded_examples.make_graded_examples`); whole reference groups are held out, so the
    reported correlations are on sentences never seen in training. Training
    stops after ``max_steps`` optimizer steps (default: ``DEFAULT_MAX_STEPS``
    of the kind), ``max_epochs`` epochs or ``max_seconds`` wall-clock
    seconds, whichever comes first; only the step limit is reproducible.
    Returns the summary also written to ``out_dir/validation.json``.
    """
    import pytorch_lightning as ptl
    import torch
    from comet.models import str2model

    if kind not in STANDIN_CLASSES:
        raise ValueError(f"train_standin: kind must be one of {sorted(STANDIN_CLASSES)}, got {kind!r}")
    for name, value in (
        ("max_steps", max_steps),
        ("max_epochs", max_epochs),
        ("batch_size", batch_size),
        ("threads", threads),
    ):
        if value is not None and value < 1:
            raise ValueError(f"train_standin: {name} must be >= 1, got {value}")
    encoder_dir = _checked_encoder_dir(encoder_dir)
    train_rows, heldout_rows = split_heldout(_checked_examples(examples), heldout_fraction, seed)
    out_dir = Path(out_dir)
    max_steps = DEFAULT_MAX_STEPS[kind] if max_steps is None else max_steps

    torch.set_num_threads(threads)
    ptl.seed_everything(seed, workers=False, verbose=False)
    with atomic_path(out_dir) as tmp:
        # COMET's setup() reads the training CSV named in its hparams; it is
        # scratch (the examples are reproducible from their seed), so it lives
        # beside the model directory and is deleted with the temporary folder.
        train_csv = tmp.parent / "train.csv"
        train_rows.to_csv(train_csv, index=False)
        (tmp / "data").mkdir(parents=True)
        heldout_rows.to_csv(tmp / "data" / "heldout.csv", index=False)
        shutil.copytree(encoder_dir, tmp / ENCODER_DIRNAME)

        hparams = _model_hparams(
            kind, tmp, train_csv, batch_size, encoder_learning_rate, learning_rate, list(hidden_sizes), dropout
        )
        model = str2model[STANDIN_CLASSES[kind]](**hparams)
        started, cpu_started = time.perf_counter(), time.process_time()
        trainer = _fit(model, train_rows, seed, max_steps, max_epochs, max_seconds, batch_size, progress)
        train_seconds, train_cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started

        summary = {
            "kind": kind,
            "class_identifier": STANDIN_CLASSES[kind],
            "seed": seed,
            "train_examples": len(train_rows),
            "heldout_examples": len(heldout_rows),
            "steps": int(trainer.global_step),
            "threads": threads,
            **_heldout_correlations(model, heldout_rows, kind, batch_size),
        }
        # Timings go to the log, not validation.json: results stay byte-identical between runs.
        log.info("%s stand-in trained in %.1f s (%.1f s CPU)", kind, train_seconds, train_cpu_seconds)
        _save_model(trainer, model, tmp, out_dir.resolve())
        write_json(tmp / "validation.json", summary)
    return summary


def split_heldout(examples: pd.DataFrame, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``examples`` into train / held-out by reference, so no held-out sentence is seen in training."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"heldout_fraction must be in (0, 1), got {fraction}")
    references = sorted(examples["ref"].unique())
    if len(references) < 2:
        raise ValueError("examples: need at least 2 distinct references to hold some out")
    rng = random.Random(seed)
    n_heldout = min(len(references) - 1, max(1, round(len(references) * fraction)))
    heldout_refs = set(rng.sample(references, n_heldout))
    is_heldout = examples["ref"].isin(heldout_refs)
    return examples[~is_heldout].reset_index(drop=True), examples[is_heldout].reset_index(drop=True)


def _checked_encoder_dir(encoder_dir: str | Path) -> Path:
    encoder_dir = Path(encoder_dir)
    if not (encoder_dir / "config.json").is_file() or not (encoder_dir / "tokenizer.json").is_file():
        raise FileNotFoundError(
            f"encoder_dir {str(encoder_dir)!r} is not an encoder built by build_encoder "
            "(expected config.json and tokenizer.json inside)"
        )
    return encoder_dir


def _checked_examples(examples: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("src", "mt", "ref", "score") if c not in getattr(examples, "columns", [])]
    if missing:
        raise ValueError(f"examples: missing columns {missing} (need src, mt, ref, score)")
    examples = examples[["src", "mt", "ref", "score"]].copy()
    if examples[["src", "mt", "ref"]].isna().any().any() or examples["score"].isna().any():
        raise ValueError("examples: src, mt, ref and score must not contain missing values")
    for column in ("src", "mt", "ref"):
        examples[column] = examples[column].astype(str)
    examples["score"] = examples["score"].astype(float)
    return examples


def _model_hparams(
    kind: str,
    model_dir: Path,
    train_csv: Path,
    batch_size: int,
    encoder_learning_rate: float,
    learning_rate: float,
    hidden_sizes: list[int],
    dropout: float,
) -> dict:
    """Constructor arguments for the COMET class of ``kind``.

    The encoder starts from random weights, so it is trained from the first
    step (no frozen epochs) including its embeddings (COMET freezes them by
    default, which costs a lot here). No warmup: COMET's warmup scheduler
    steps per epoch under Lightning's defaults.
    """
    hparams = {
        "nr_frozen_epochs": 0.0,
        "keep_embeddings_frozen": False,
        "optimizer": "AdamW",
        "warmup_steps": 0,
        "encoder_learning_rate": encoder_learning_rate,
        "learning_rate": learning_rate,
        "layerwise_decay": 0.95,
        "encoder_model": "XLM-RoBERTa",
        "pretrained_model": str(model_dir / ENCODER_DIRNAME),
        "layer_transformation": "softmax",
        "layer_norm": True,
        "loss": "mse",
        "dropout": dropout,
        "batch_size": batch_size,
        "train_data": [str(train_csv)],
        "validation_data": [],
        "hidden_sizes": hidden_sizes,
        "activations": "Tanh",
        "final_activation": None,
        "load_pretrained_weights": True,
        "local_files_only": True,
    }
    if kind == "unified":
        hparams.update(sent_layer="mix", word_layer=0, input_segments=["mt", "src", "ref"])
    else:
        hparams.update(pool="avg", layer="mix")
    return hparams


def _fit(
    model,
    train_rows: pd.DataFrame,
    seed: int,
    max_steps: int,
    max_epochs: int,
    max_seconds: float | None,
    batch_size: int,
    progress: bool,
):
    """Run Lightning's fit loop in this process; return the trainer.

    COMET's own ``train_dataloader`` starts 2 worker processes per device,
    which on a small shared CPU makes training an order of magnitude slower,
    so the same samples and collate function are fed through an in-process
    loader. Validation is skipped here and done on the held-out split after.
    """
    import pytorch_lightning as ptl
    import torch
    from torch.utils.data import DataLoader, RandomSampler

    records = train_rows.to_dict("records")
    loader = DataLoader(
        records,
        batch_size=batch_size,
        sampler=RandomSampler(records, generator=torch.Generator().manual_seed(seed)),
        collate_fn=lambda batch: model.prepare_sample(batch, stage="fit"),
        num_workers=0,
    )
    with quiet_lightning():
        trainer = ptl.Trainer(
            accelerator="cpu",
            devices=1,
            max_steps=max_steps,
            max_epochs=max_epochs,
            max_time={"seconds": max_seconds} if max_seconds else None,
            logger=False,
            enable_checkpointing=False,
            enable_model_summary=False,
            enable_progress_bar=progress,
            limit_val_batches=0,
            num_sanity_val_steps=0,
            gradient_clip_val=1.0,
            deterministic=True,
        )
        trainer.fit(model.train(), train_dataloaders=loader)
    return trainer


def _heldout_correlations(model, heldout_rows: pd.DataFrame, kind: str, batch_size: int) -> dict:
    """Pearson / Kendall / Spearman of the model's scores with the held-out labels.

    ``top1_agreement`` is the share of held-out references whose candidates'
    best-scored one is also a best-labelled one: the decision MBR and
    reranking make.
    """
    from scipy.stats import kendalltau, pearsonr, spearmanr

    columns = ["src", "mt"] if kind == "qe" else ["src", "mt", "ref"]
    samples = heldout_rows[columns].to_dict("records")
    started = time.perf_counter()
    with quiet_lightning():
        predicted = model.predict(samples, batch_size=max(batch_size, 64), gpus=0, progress_bar=False, num_workers=0)
    log.info("held-out scoring: %.1f segments/s", len(samples) / (time.perf_counter() - started))
    labels = heldout_rows["score"].tolist()
    scores = list(predicted.scores)
    return {
        "pearson": _rounded(pearsonr(scores, labels)[0]),
        "kendall": _rounded(kendalltau(scores, labels)[0]),
        "spearman": _rounded(spearmanr(scores, labels)[0]),
        "top1_agreement": _top1_agreement(heldout_rows.assign(predicted=scores)),
    }


def _top1_agreement(rows: pd.DataFrame) -> float | None:
    hits, groups = 0, 0
    for _, group in rows.groupby("ref"):
        if group["score"].nunique() < 2:
            continue
        groups += 1
        hits += group.loc[group["predicted"].idxmax(), "score"] == group["score"].max()
    return round(hits / groups, 4) if groups else None


def _rounded(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 4)


def _save_model(trainer, model, tmp_dir: Path, final_dir: Path) -> None:
    """Write checkpoint, hparams.yaml and the trained encoder in COMET's layout.

    The checkpoint and hparams.yaml name the encoder at its *final* location
    (the directory is built under a temporary name and renamed), so
    ``comet.load_from_checkpoint`` works in place; the backend re-points it
    when the directory has been moved or copied elsewhere.
    """
    import yaml

    model.hparams["pretrained_model"] = str(final_dir / ENCODER_DIRNAME)
    model.hparams["train_data"] = []  # the training CSV was scratch
    model.hparams["validation_data"] = []
    checkpoint = tmp_dir / CHECKPOINT_RELPATH
    checkpoint.parent.mkdir(parents=True)
    trainer.save_checkpoint(checkpoint, weights_only=True)
    # Lightning writes hparams.yaml only through a logger; COMET needs it beside checkpoints/.
    with open(tmp_dir / HPARAMS_FILENAME, "w", encoding="utf-8") as handle:
        yaml.safe_dump(dict(model.hparams), handle, sort_keys=True)
    # Keep the trained encoder weights with its tokenizer: the folder is then a
    # complete Hugging Face model on its own (and what load_pretrained_weights reads).
    model.encoder.model.save_pretrained(tmp_dir / ENCODER_DIRNAME)
