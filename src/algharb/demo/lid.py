"""The demo's stand-in language identifier: train a small fastText model, and evaluate it.

Stands in for a pretrained LID model (e.g. fastText lid.176) that cannot be
downloaded here. Training data is fastText's supervised format, one
``__label__{lang} sentence`` per line. The production
:class:`~algharb.data.lid.LanguageIdentifier` loads the trained model like
any fastText LID model, so a real one drops in by path.

Training is single-threaded by default so that a given seed reproduces the
same model.

fasttext-numpy2 allocates its weight matrices without zeroing them, and its
random initialisation fills only a tenth of the input matrix when fewer than
ten threads train (the other rows are meant to start at zero). The rest is
whatever the heap held: training then fails at random with "Encountered
NaN", or two runs with one seed differ. It looked like divergence on
separable toy data, but with zeroed memory training is stable and
reproducible even at lr 0.5. :func:`train_lid` therefore trains inside
:func:`_zero_filled_allocations`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
from collections import Counter
from pathlib import Path

import fasttext

from algharb.data.lid import LABEL_PREFIX, load_identifier
from algharb.io import atomic_path


def read_labelled(path: str | os.PathLike) -> tuple[list[str], list[str]]:
    """Read ``__label__{lang} text`` lines; return (languages, texts).

    A line without a label raises ``ValueError`` naming file and line; an
    empty file raises too. Blank lines are skipped.
    """
    langs: list[str] = []
    texts: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            label, _, text = line.partition(" ")
            if not label.startswith(LABEL_PREFIX) or len(label) == len(LABEL_PREFIX):
                raise ValueError(f"{path}:{line_no}: line does not start with '{LABEL_PREFIX}<lang> '")
            langs.append(label[len(LABEL_PREFIX) :])
            texts.append(text)
    if not langs:
        raise ValueError(f"{path}: no labelled lines")
    return langs, texts


def train_lid(
    train_txt: str | os.PathLike,
    out_path: str | os.PathLike,
    seed: int,
    dim: int,
    epoch: int,
    lr: float,
    minn: int = 2,
    maxn: int = 4,
    thread: int = 1,
    bucket: int = 100_000,
) -> Path:
    """Train a character n-gram fastText classifier on ``train_txt``; save it atomically.

    Mind the confidence, not only the accuracy: at lr 0.05 a 5-epoch model
    picks the right language but with near-uniform probabilities (0.34 for
    three languages), so a ``language_id`` filter with ``min_prob`` 0.5
    rejects everything; 25 epochs (or lr 0.5) give probabilities above 0.9.

    ``minn``/``maxn`` are the character n-gram lengths (what identifies a
    language in short lines); ``bucket`` sizes the n-gram hash table and so
    the model file (bucket x dim floats). Returns ``out_path``.
    """
    read_labelled(train_txt)  # validate first: fastText would accept unlabelled lines silently
    with _zero_filled_allocations():
        model = fasttext.train_supervised(
            input=str(train_txt),
            dim=dim,
            epoch=epoch,
            lr=lr,
            minn=minn,
            maxn=maxn,
            thread=thread,
            bucket=bucket,
            seed=seed,
            verbose=0,
        )
    with atomic_path(out_path) as tmp:
        model.save_model(str(tmp))
    return Path(out_path)


_M_PERTURB = -6  # glibc mallopt parameter


@contextlib.contextmanager
def _zero_filled_allocations():
    """Make glibc hand out zero-filled memory from malloc while the block runs.

    glibc's M_PERTURB fills each newly malloc'd block with the byte
    ``perturb ^ 0xff``, so 0xff yields zeros (freed blocks get 0xff, which
    nothing reads). This gives fastText's unzeroed matrices the zero start
    they assume. Elsewhere than glibc the block runs unchanged: large
    allocations there come from fresh, already zeroed pages.
    """
    if platform.libc_ver()[0] != "glibc":
        yield
        return
    libc = ctypes.CDLL(None)
    libc.mallopt(_M_PERTURB, 0xFF)
    try:
        yield
    finally:
        libc.mallopt(_M_PERTURB, 0)


def evaluate_lid(model_path: str | os.PathLike, valid_txt: str | os.PathLike) -> dict[str, float]:
    """Accuracy per true language of a trained model on a labelled file (share of its lines predicted correctly)."""
    identifier = load_identifier("fasttext", {"path": str(model_path)})
    langs, texts = read_labelled(valid_txt)
    predicted, _ = identifier.predict(texts)
    total = Counter(langs)
    correct = Counter(lang for lang, guess in zip(langs, predicted) if lang == guess)
    return {lang: correct[lang] / total[lang] for lang in sorted(total)}
