"""Demo-world steps: build every external artefact offline with the real libraries.

The paper's configuration replaces each output of this module by a hub id or
a downloaded file; nothing downstream can tell the difference.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..config.sections import DemoCometConfig
from ..io import read_lines, write_json
from ..prompts import split_pair
from .common import read_parallel_lines

log = logging.getLogger(__name__)


def build_world(world: dict, pairs: list[str], seed: int, out_dir) -> dict:
    from ..demo.world import generate_world

    summary = generate_world({**world, "seed": seed, "pairs": list(pairs)}, out_dir)
    log.info("demo world: %s", summary)
    return summary


def build_tokenizer(text_files, out_dir, vocab_size: int):
    """A byte-level BPE tokenizer with a chat template, trained on every language's text."""
    from ..demo.lm import build_tokenizer as train_bpe

    texts = [line for path in text_files for line in read_lines(path)]
    return train_bpe(texts, out_dir, vocab_size)


def build_base_model(tokenizer_dir, out_dir, architecture: dict, seed: int):
    """A randomly initialised tiny Qwen3 (the stand-in for Qwen3-14B-Base)."""
    from ..demo.lm import build_qwen3

    return build_qwen3(tokenizer_dir, out_dir, seed=seed, **architecture)


def split_rows(files: list[str], pairs: list[str]) -> list[dict]:
    """Rows {src, tgt, src_lang, tgt_lang} from per-pair (src file, tgt file) lists in pair order."""
    rows = []
    for pair, (src_path, tgt_path) in zip(pairs, zip(files[0::2], files[1::2])):
        src_lang, tgt_lang = split_pair(pair)
        for src, tgt in zip(*read_parallel_lines(src_path, tgt_path)):
            rows.append({"src": src, "tgt": tgt, "src_lang": src_lang, "tgt_lang": tgt_lang})
    return rows


def train_teacher(base_dir, files: list[str], pairs: list[str], out_dir, checkpoint_dir, hparams: dict,
                  seed: int, threads: int = 1):
    """The teacher stand-in (DeepSeek-V3 in the paper): the tiny model trained longer on clean data."""
    from ..train.sft import run_sft

    batch = hparams["batch_size"]
    # The teacher's fixed recipe; the demo section sets its budget (DemoTeacherConfig).
    settings = {
        "learning_rate": hparams["learning_rate"],
        "max_steps": hparams["max_steps"],
        "global_batch_size": batch,
        "per_device_batch_size": batch,
        "warmup_steps": 50,
        "save_steps": 250,
        "seed": seed,
        "threads": threads,
    }
    from .train import training_identity
    from ..train.common import discard_checkpoints_of_other_runs

    identity = training_identity("demo_teacher", {"model_dir": base_dir, "data_paths": files, "hparams": settings})
    discard_checkpoints_of_other_runs(checkpoint_dir, {**identity, "pairs": list(pairs)})
    return run_sft(base_dir, split_rows(files, pairs), out_dir, checkpoint_dir, settings)


def train_lid_model(train_txt, valid_txt, out_model, out_accuracy, options: dict, seed: int):
    from ..demo.lid import evaluate_lid, train_lid

    train_lid(train_txt, out_model, seed=seed, **options)
    accuracy = evaluate_lid(out_model, valid_txt)
    write_json(out_accuracy, accuracy)
    log.info("LID accuracy on held-out lines: %s", accuracy)
    return accuracy


def build_comet_encoder(files, out_dir, seed: int):
    from ..demo.comet_encoder import build_encoder

    texts = [line for path in files for line in read_lines(path)]
    return build_encoder(texts, out_dir, seed=seed)


def train_comet_standin(kind: str, encoder_dir, files: list[str], pairs: list[str], out_dir, options: dict,
                        seed: int, threads: int = 1):
    """A COMET-architecture model trained with unbabel-comet on graded corruptions of clean pairs."""
    from ..demo.comet_standin import train_standin
    from ..demo.graded_examples import make_graded_examples

    rows = split_rows(files, pairs)
    examples = make_graded_examples([(r["src"], r["tgt"]) for r in rows], seed=seed,
                                    n_examples=options["n_examples"])
    # Budget in steps (deterministic), not seconds; None takes the per-kind default.
    budget = DemoCometConfig.from_dict(options, where="demo.comet")
    return train_standin(kind, examples, encoder_dir, Path(out_dir), seed=seed,
                         max_steps=budget.steps_for(kind), max_epochs=budget.max_epochs, threads=threads)
