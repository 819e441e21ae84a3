"""Tiny stand-in COMET models for the offline demo, trained with unbabel-comet itself.

The real workflow scores translations with hub models (CometKiwi-XXL for QE
filtering and rewards, COMET-22 as the MBR utility, XCOMET-XXL for
evaluation). None of them can be downloaded here, so the demo trains small
models of the same COMET classes on synthetic, graded corruptions of
reference translations and loads them through the same backend
(:mod:`algharb.metrics.comet`):

1. :func:`build_encoder` trains a sentencepiece vocabulary on the demo texts
   and saves a randomly initialised XLM-R encoder that COMET can load offline;
2. :func:`make_graded_examples` turns clean (source, reference) pairs into
   candidates of known quality (omissions, wrong words, shuffles, copies, ...)
   labelled by chrF mixed with word-level F1 against the reference;
3. :func:`train_standin` fits a ``ReferencelessRegression`` (``qe``, the
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

import io
import logging
import math
import random
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import pandas as pd

from algharb.io import atomic_path, write_json
from algharb.metrics.comet import (
    CHECKPOINT_RELPATH,
    ENCODER_DIRNAME,
    HPARAMS_FILENAME,
    quiet_lightning,
)

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------
# Encoder
# --------------------------------------------------------------------------

# XLM-R's tokenizer maps sentencepiece ids onto fairseq ids and assumes the
# sentencepiece model has exactly unk=0, bos=1, eos=2 and no pad piece.
_SPM_SPECIAL_IDS = {"unk_id": 0, "bos_id": 1, "eos_id": 2, "pad_id": -1}
_ENCODER_MAX_TOKENS = 512


def build_encoder(
    texts: Iterable[str],
    out_dir: str | Path,
    vocab_size: int = 4000,
    hidden_size: int = 128,
    num_layers: int = 2,
    seed: int = 0,
    num_heads: int | None = None,
    max_sentences: int = 200_000,
) -> Path:
    """Train a sentencepiece vocabulary on ``texts`` and save a random XLM-R encoder.

    The folder holds what ``XLMRobertaTokenizerFast.from_pretrained`` and
    ``XLMRobertaModel.from_pretrained`` need (config, ``sentencepiece.bpe.model``,
    ``tokenizer.json``, weights), so COMET builds it with ``local_files_only``.
    ``vocab_size`` is an upper bound: a small corpus gets a smaller vocabulary.
    Returns ``out_dir``.
    """
    import sentencepiece as spm
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel, XLMRobertaTokenizerFast

    lines = [line.strip() for line in texts if line and line.strip()]
    if not lines:
        raise ValueError("build_encoder: texts is empty (need sentences to train a vocabulary)")
    if vocab_size < 16:
        raise ValueError(f"build_encoder: vocab_size={vocab_size} is too small (minimum 16)")
    if num_heads is None:
        num_heads = max(1, hidden_size // 64)
    if hidden_size % num_heads:
        raise ValueError(f"build_encoder: hidden_size={hidden_size} is not divisible by num_heads={num_heads}")

    out_dir = Path(out_dir)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        spm.set_random_generator_seed(seed)
        # Written from memory: with model_prefix the model would record the
        # temporary folder's random name and differ from run to run.
        model_bytes = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(random.Random(seed).sample(lines, min(len(lines), max_sentences))),
            model_writer=model_bytes,
            vocab_size=vocab_size,
            hard_vocab_limit=False,  # a small corpus cannot fill a fixed vocabulary
            model_type="unigram",
            character_coverage=0.9995,
            minloglevel=2,
            **_SPM_SPECIAL_IDS,
        )
        (tmp / "sentencepiece.bpe.model").write_bytes(model_bytes.getvalue())
        tokenizer = XLMRobertaTokenizerFast(
            vocab_file=str(tmp / "sentencepiece.bpe.model"), model_max_length=_ENCODER_MAX_TOKENS
        )
        # Saving writes tokenizer.json, so loading never reconverts the slow tokenizer.
        tokenizer.save_pretrained(tmp)
        config = XLMRobertaConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden_size,
            num_hidden_layers=num_layers,
            num_attention_heads=num_heads,
            intermediate_size=4 * hidden_size,
            max_position_embeddings=_ENCODER_MAX_TOKENS + 2,  # XLM-R offsets positions by pad_id + 1
            type_vocab_size=1,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
        torch.manual_seed(seed)
        XLMRobertaModel(config, add_pooling_layer=False).save_pretrained(tmp)
    return out_dir


# --------------------------------------------------------------------------
# Graded examples
# --------------------------------------------------------------------------

# Relative frequency of each candidate kind. Mild errors dominate because the
# metrics mostly have to rank close candidates (MBR, RL rewards); the gross
# failures (copies, unrelated output) teach the QE filter what to throw away.
DEFAULT_CORRUPTION_WEIGHTS: dict[str, float] = {
    "reference": 0.10,
    "omit_word": 0.09,
    "omit_words": 0.09,
    "truncate": 0.07,
    "wrong_word": 0.11,
    "wrong_suffix": 0.08,
    "shuffle": 0.07,
    "garbage": 0.08,
    "repeat": 0.05,
    "combined": 0.12,
    "copy": 0.05,
    "unrelated": 0.06,
    "random_words": 0.03,
}
# Edits that "combined" chains (two of them) to fill in the middle of the scale.
_LOCAL_EDITS = ("omit_word", "omit_words", "truncate", "wrong_word", "wrong_suffix", "shuffle", "garbage", "repeat")


def make_graded_examples(
    pairs: Sequence[tuple[str, str]],
    seed: int,
    n_examples: int,
    corruption_weights: Mapping[str, float] | None = None,
    chrf_weight: float = 0.5,
    chrf_beta: float = 1.0,
) -> pd.DataFrame:
    """Graded candidates built from clean ``(source, reference)`` pairs.

    Each row takes a random pair and a random corruption of its reference (see
    ``DEFAULT_CORRUPTION_WEIGHTS``) and is labelled with :func:`graded_label`,
    so the reference itself scores 1.0 and copies of the source or unrelated
    sentences score near 0. Columns: ``src, mt, ref, score, corruption``
    (the kind of candidate, for analysis; COMET reads only the first four).
    Deterministic for a given ``seed``.
    """
    pairs = _checked_pairs(pairs)
    if n_examples < 1:
        raise ValueError(f"make_graded_examples: n_examples must be >= 1, got {n_examples}")
    weights = dict(DEFAULT_CORRUPTION_WEIGHTS if corruption_weights is None else corruption_weights)
    unknown = sorted(set(weights) - set(DEFAULT_CORRUPTION_WEIGHTS))
    if unknown or not any(w > 0 for w in weights.values()) or any(w < 0 for w in weights.values()):
        raise ValueError(
            f"make_graded_examples: corruption_weights must be non-negative, not all zero, with keys "
            f"from {sorted(DEFAULT_CORRUPTION_WEIGHTS)}; got {dict(weights)}"
        )
    if not 0.0 <= chrf_weight <= 1.0:
        raise ValueError(f"make_graded_examples: chrf_weight must be in [0, 1], got {chrf_weight}")

    rng = random.Random(seed)
    vocabulary = sorted({unit for _, ref in pairs for unit in _split_units(ref)[0]})
    kinds, kind_weights = zip(*sorted(weights.items()))
    rows = []
    for _ in range(n_examples):
        pair_index = rng.randrange(len(pairs))
        source, reference = pairs[pair_index]
        kind = rng.choices(kinds, kind_weights)[0]
        candidate, kind = _corrupt(kind, pair_index, pairs, vocabulary, rng)
        rows.append(
            {
                "src": source,
                "mt": candidate,
                "ref": reference,
                "score": graded_label(candidate, reference, chrf_weight, chrf_beta),
                "corruption": kind,
            }
        )
    return pd.DataFrame(rows, columns=["src", "mt", "ref", "score", "corruption"])


def graded_label(candidate: str, reference: str, chrf_weight: float = 0.5, chrf_beta: float = 1.0) -> float:
    """Quality in [0, 1]: ``chrf_weight`` · chrF/100 + (1 − ``chrf_weight``) · word F1.

    chrF keeps partial credit for near-miss words (wrong endings); word-level
    F1 charges every missing or extra word. Standard chrF (β = 2) weights
    recall twice as much as precision and so rates a reference with appended
    garbage above a one-word omission; ``chrf_beta = 1`` charges additions
    (hallucinations) and omissions alike, as MQM counts both as accuracy errors.
    """
    chrf = _chrf(candidate, reference, chrf_beta)
    return chrf_weight * chrf + (1.0 - chrf_weight) * word_f1(candidate, reference)


def word_f1(candidate: str, reference: str) -> float:
    """F1 of the bags of words (characters for unspaced scripts) of candidate and reference."""
    hyp_units = Counter(_split_units(candidate)[0])
    ref_units = Counter(_split_units(reference)[0])
    overlap = sum((hyp_units & ref_units).values())
    if overlap == 0:
        return 0.0
    precision = overlap / sum(hyp_units.values())
    recall = overlap / sum(ref_units.values())
    return 2 * precision * recall / (precision + recall)


def _chrf(candidate: str, reference: str, beta: float) -> float:
    """Sentence chrF in [0, 1] (sacrebleu; character 6-grams, no word n-grams)."""
    from sacrebleu.metrics import CHRF

    if beta not in _CHRF_BY_BETA:
        _CHRF_BY_BETA[beta] = CHRF(beta=beta)
    return _CHRF_BY_BETA[beta].sentence_score(candidate, [reference]).score / 100.0


_CHRF_BY_BETA: dict = {}


def _checked_pairs(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    checked = []
    for index, pair in enumerate(pairs):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(t, str) for t in pair)):
            raise ValueError(f"make_graded_examples: pairs[{index}] must be a (source, reference) pair of strings")
        if not pair[0].strip() or not pair[1].strip():
            raise ValueError(f"make_graded_examples: pairs[{index}] has an empty source or reference")
        checked.append((pair[0], pair[1]))
    if len(checked) < 2:
        raise ValueError(f"make_graded_examples: pairs needs at least 2 pairs (got {len(checked)})")
    return checked


def _split_units(text: str) -> tuple[list[str], str]:
    """Words and the joiner that puts them back together.

    Scripts written without spaces (Chinese, Japanese) are edited and counted
    per character, otherwise a whole sentence would be one "word".
    """
    words = text.split()
    if len(words) == 1 and len(words[0]) > 1:
        return list(words[0]), ""
    return words, " "


def _corrupt(
    kind: str, pair_index: int, pairs: list[tuple[str, str]], vocabulary: list[str], rng: random.Random
) -> tuple[str, str]:
    """Apply corruption ``kind`` to the reference of ``pairs[pair_index]``.

    Returns the candidate and the kind actually applied: an edit that cannot
    change a sentence (e.g. omitting from a one-word sentence) falls back to
    a wrong word, then to appended garbage, which always changes it.
    """
    source, reference = pairs[pair_index]
    units, joiner = _split_units(reference)
    if kind == "reference":
        return reference, kind
    if kind == "copy":
        return source, kind
    if kind == "unrelated":
        other = rng.randrange(len(pairs) - 1)
        return pairs[other + (other >= pair_index)][1], kind
    if kind == "random_words":
        return joiner.join(rng.choice(vocabulary) for _ in units), kind

    planned = rng.sample(_LOCAL_EDITS, 2) if kind == "combined" else [kind]
    for label, edits in ((kind, planned), ("wrong_word", ["wrong_word"])):
        edited = units
        for edit in edits:
            edited = _EDITS[edit](edited, vocabulary, rng) or edited
        candidate = joiner.join(edited)
        if candidate.strip() and candidate != reference:
            return candidate, label
    return joiner.join(_garbage(units, vocabulary, rng)), "garbage"


def _omit_word(units: list[str], vocabulary: list[str], rng: random.Random) -> list[str] | None:
    if len(units) < 2:
        return None
    drop = rng.randrange(len(units))
    return units[:drop] + units[drop + 1 :]


def _omit_words(units: list[str], vocabulary: list[str], rng: random.Random) -> list[str] | None:
    if len(units) < 3:
        return None
    n_drop = rng.randint(2, max(2, int(len(units) * 0.5)))
    keep = sorted(rng.sample(range(len(units)), len(units) - min(n_drop, len(units) - 1)))
    return [units[i] for i in keep]


def _truncate(units: list[str], vocabulary: list[str], rng: random.Random) -> list[str] | None:
    if len(units) < 2:
        return None
    return units[: max(1, int(len(units) * rng.uniform(0.3, 0.9)))]


def _wrong_word(units: list[str], vocabulary: list[str], rng: random.Random) -> list[str] | None:
    edited = list(units)
    for position in rng.sample(range(len(units)), min(len(units), rng.randint(1, 3))):
        edited[position] = rng.choice(vocabulary)
    return edited


def _wrong_suffix(units: list[str], vocabulary: list[str], rng: random.Random) -> list[str] | None:
    """Change word endings (agreement / inflection errors): keep the stem, swap the tail."""
    candidates = [i for i, unit in enumerate(units) if len(unit) >= 3]
    if not candidates:
        return None
    letters = sorted({ch for word in vocabulary for ch in word if ch.isalpha()}) or list("aeiou")
    edited = list(units)
    for position in rng.sample(candidates, min(len(candidates), rng.randint(1, 3))):
        word = edited[position]
        cut = rng.randint(1, min(3, len(word) - 1))
        edited[position] = word[:-cut] + "".join(rng.choice(letters) for _ in range(rng.randint(1, 3)))
    return edited


def _shuffle(units: list[str], vocabulary: list[str], rng: random.Random) -> list[str] | None:
    """Shuffle one window of 2–4 neighbouring words (a local reordering error)."""
    if len(units) < 2:
        return None
    width = rng.randint(2, min(4, len(units)))
    start = rng.randrange(len(units) - width + 1)
    window = units[start : start + width]
    rng.shuffle(window)
    return units[:start] + window + units[start + width :]


def _garbage(units: list[str], vocabulary: list[str], rng: random.Random) -> list[str] | None:
    """Append or insert words that do not belong (hallucinated additions)."""
    extra = [rng.choice(vocabulary) for _ in range(rng.randint(1, max(1, len(units) // 2 + 1)))]
    position = len(units) if rng.random() < 0.6 else rng.randrange(len(units) + 1)
    return units[:position] + extra + units[position:]


def _repeat(units: list[str], vocabulary: list[str], rng: random.Random) -> list[str] | None:
    """Repeat a span 1–3 extra times (the looping failure of LLM decoders)."""
    width = rng.randint(1, min(3, len(units)))
    start = rng.randrange(len(units) - width + 1)
    span = units[start : start + width]
    return units[: start + width] + span * rng.randint(1, 3) + units[start + width :]


_EDITS: dict[str, Callable[[list[str], list[str], random.Random], list[str] | None]] = {
    "omit_word": _omit_word,
    "omit_words": _omit_words,
    "truncate": _truncate,
    "wrong_word": _wrong_word,
    "wrong_suffix": _wrong_suffix,
    "shuffle": _shuffle,
    "garbage": _garbage,
    "repeat": _repeat,
}


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------

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
    :func:`make_graded_examples`); whole reference groups are held out, so the
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
