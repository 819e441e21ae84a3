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
   CometKiwi stand-in), ``RegressionMetric`` (``ref``, the COMET-22 stand-in)
   or ``UnifiedMetric`` with word-level error tags (``unified``, the XCOMET
   stand-in: it returns error spans) with Lightning, as ``comet-train``
   would, and writes a relocatable model directory::

       <out_dir>/hparams.yaml
       <out_dir>/checkpoints/model.ckpt
       <out_dir>/encoder/          tokenizer, config and trained encoder weights
       <out_dir>/data/heldout.csv  held-out examples (whole reference groups)
       <out_dir>/validation.json   held-out Pearson / Kendall / Spearman (and span F1)

The ``unified`` stand-in learns XCOMET's two tasks ("xCOMET: Transparent
Machine Translation Evaluation through Fine-grained Error Detection",
Guerreiro et al. 2024, §3): the segment score and a minor / major / critical
tag per subword of the translation, from the examples' ``annotations``.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import random
import shutil
import time
from pathlib import Path
from typing import Sequence

import pandas as pd

from algharb.demo.graded_examples import SEVERITIES
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
# XCOMET's error labels; the word-level tagger predicts "O" (no error) or one of them.
ERROR_LABELS = list(SEVERITIES)
# Share of the word-level loss in the unified stand-in's training loss (the
# rest is the score's MSE). COMET's default is 0.65; XCOMET trained with 0.055
# from a pretrained encoder. At the demo size the score learns no better or
# worse with 0.2 or 0.5 (held-out Pearson 0.63 either way), the tags better with 0.5.
WORD_LOSS_SHARE = 0.5
# Cross-entropy weights of O, minor, major, critical. XCOMET weighs "O" at
# 0.08 because errors are rare in its data; about 60% of the graded examples
# have a span, and at the demo size weight 0.2 made the stand-in tag 80-90% of
# held-out segments, 1.0 only 46%; 0.5 tags about as many as are annotated.
TAG_LOSS_WEIGHTS = [0.5, 1.0, 1.0, 1.0]


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
    :func:`algharb.demo.graded_examples.make_graded_examples`), and ``annotations`` (JSON lists of
    ``{start, end, severity}`` character spans of ``mt``) for ``unified``, whose word-level tags
    learn them; whole reference groups are held out, so the
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
    examples = _checked_examples(examples, needs_annotations=kind == "unified")
    train_rows, heldout_rows = split_heldout(examples, heldout_fraction, seed)
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
        model_class = _word_level_unified_metric() if kind == "unified" else str2model[STANDIN_CLASSES[kind]]
        model = model_class(**hparams)
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
            **_heldout_quality(model, heldout_rows, kind, batch_size),
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


def _checked_examples(examples: pd.DataFrame, needs_annotations: bool) -> pd.DataFrame:
    """The columns training reads, checked; ``annotations`` kept (and checked) when present."""
    columns = ["src", "mt", "ref", "score"]
    present = list(getattr(examples, "columns", []))
    missing = [c for c in columns if c not in present]
    if needs_annotations and "annotations" not in present:
        missing.append("annotations")
    if missing:
        raise ValueError(
            f"examples: missing columns {missing} (need src, mt, ref, score"
            + (", and annotations for the word-level tags of kind 'unified')" if needs_annotations else ")")
        )
    examples = examples[columns + (["annotations"] if "annotations" in present else [])].copy()
    if examples.isna().any().any():
        raise ValueError(f"examples: {', '.join(examples.columns)} must not contain missing values")
    for column in ("src", "mt", "ref"):
        examples[column] = examples[column].astype(str)
    examples["score"] = examples["score"].astype(float)
    if "annotations" in examples:
        for index, (mt, annotations) in enumerate(zip(examples["mt"], examples["annotations"])):
            _checked_spans(annotations, mt, f"examples row {index}")
    return examples


def _checked_spans(annotations: str, mt: str, where: str) -> list[dict]:
    """Parse one row's ``annotations`` (a JSON list of ``{start, end, severity}`` within ``mt``)."""
    try:
        spans = json.loads(annotations)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: annotations is not JSON ({err}): {annotations!r}") from None
    if not isinstance(spans, list):
        raise ValueError(f"{where}: annotations must be a JSON list of spans, got {annotations!r}")
    for span in spans:
        if not (
            isinstance(span, dict)
            and isinstance(span.get("start"), int)
            and isinstance(span.get("end"), int)
            and 0 <= span["start"] < span["end"] <= len(mt)
            and span.get("severity") in ERROR_LABELS
        ):
            raise ValueError(
                f"{where}: bad span {span!r} (need 0 <= start < end <= {len(mt)} = len(mt) "
                f"and severity in {ERROR_LABELS})"
            )
    return spans


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
        # XCOMET's inputs and labels; its tags are read from the encoder's last layer.
        hparams.update(
            sent_layer="mix",
            word_layer=_encoder_layers(model_dir / ENCODER_DIRNAME),
            input_segments=["mt", "src", "ref"],
            word_level_training=True,
            error_labels=ERROR_LABELS,
            loss_lambda=WORD_LOSS_SHARE,
            cross_entropy_weights=TAG_LOSS_WEIGHTS,
        )
    else:
        hparams.update(pool="avg", layer="mix")
    return hparams


def _encoder_layers(encoder_dir: Path) -> int:
    """Number of transformer layers of a saved encoder: COMET counts the embeddings as layer 0."""
    config = json.loads((encoder_dir / "config.json").read_text(encoding="utf-8"))
    return int(config["num_hidden_layers"])


@functools.cache
def _word_level_unified_metric():
    """``UnifiedMetric`` that trains its word-level tags on the examples' annotations.

    comet 2.2.7's ``UnifiedMetric.prepare_sample`` tokenizes the translation
    without annotations, so every training tag would be "O", and its
    ``compute_loss`` moves the tags to CUDA, which fails on CPU. Both are
    fixed here, for training only: the saved checkpoint is a plain
    ``unified_metric`` (same weights and hparams), loaded by COMET as usual.
    """
    import torch
    from comet.models import UnifiedMetric

    class WordLevelUnifiedMetric(UnifiedMetric):
        def prepare_sample(self, sample, stage="fit"):
            prepared = super().prepare_sample(sample, stage)
            if stage == "predict" or not self.word_level:
                return prepared
            inputs, targets = prepared
            # The same tokenization of the translations as super()'s, now with
            # their spans; cut to the translation length exactly as super() cuts.
            tagged = self.encoder.prepare_sample(
                [row["mt"] for row in sample], True, [row["annotations"] for row in sample]
            )
            targets["labels"] = tagged["label_ids"][:, : targets["mt_length"].max()]
            return inputs, targets

        def compute_loss(self, prediction, target):
            sentence_loss = self.sentloss(prediction.score, target.score)
            if not self.word_level:
                return sentence_loss
            logits = prediction.logits.reshape(-1, self.num_classes)
            word_loss = self.wordloss(logits, target.labels.reshape(-1).long().to(logits.device))
            share = self.hparams.loss_lambda
            return sentence_loss * (1 - share) + word_loss * share

    return WordLevelUnifiedMetric


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
    for record in records:
        if "annotations" in record:
            record["annotations"] = json.loads(record["annotations"])
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


def _heldout_quality(model, heldout_rows: pd.DataFrame, kind: str, batch_size: int) -> dict:
    """Pearson / Kendall / Spearman of the model's scores with the held-out labels, and span quality.

    ``top1_agreement`` is the share of held-out references whose candidates'
    best-scored one is also a best-labelled one: the decision MBR and
    reranking make. A model with word-level tags adds :func:`span_agreement`.
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
    quality = {
        "pearson": _rounded(pearsonr(scores, labels)[0]),
        "kendall": _rounded(kendalltau(scores, labels)[0]),
        "spearman": _rounded(spearmanr(scores, labels)[0]),
        "top1_agreement": _top1_agreement(heldout_rows.assign(predicted=scores)),
    }
    if getattr(model, "word_level", False):
        gold = [json.loads(annotations) for annotations in heldout_rows["annotations"]]
        quality["spans"] = span_agreement(heldout_rows["mt"].tolist(), gold, predicted.metadata.error_spans)
    return quality


def span_agreement(
    translations: Sequence[str], gold_spans: Sequence[Sequence[dict]], predicted_spans: Sequence[Sequence[dict]]
) -> dict:
    """How well predicted error spans match annotated ones, ignoring severity.

    Character-level precision, recall and F1 of "inside an error span",
    pooled over all segments and counting non-space characters only: the
    measure of the error-span task in "Findings of the WMT 2023 Shared Task
    on Quality Estimation" (Blain et al. 2023), without its partial credit
    for a wrong severity. Also the share of segments with at least one span,
    annotated and predicted.
    """
    true_positive = predicted_total = gold_total = 0
    for text, gold, predicted in zip(translations, gold_spans, predicted_spans, strict=True):
        gold_chars, predicted_chars = _span_characters(text, gold), _span_characters(text, predicted)
        true_positive += len(gold_chars & predicted_chars)
        gold_total += len(gold_chars)
        predicted_total += len(predicted_chars)
    precision = true_positive / predicted_total if predicted_total else 0.0
    recall = true_positive / gold_total if gold_total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    n_segments = max(1, len(translations))
    return {
        "char_precision": round(precision, 4),
        "char_recall": round(recall, 4),
        "char_f1": round(f1, 4),
        "share_annotated": round(sum(bool(spans) for spans in gold_spans) / n_segments, 4),
        "share_predicted": round(sum(bool(spans) for spans in predicted_spans) / n_segments, 4),
    }


def _span_characters(text: str, spans: Sequence[dict]) -> set[int]:
    """Positions of the non-space characters of ``text`` inside any of ``spans``."""
    inside = {i for span in spans for i in range(max(0, span["start"]), min(len(text), span["end"]))}
    return {i for i in inside if not text[i].isspace()}


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
