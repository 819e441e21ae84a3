"""COMET scoring backend used by every stage (QE filtering, rewards, MBR, evaluation).

``CometScorer(model)`` accepts either

- a Hugging Face hub id (``Unbabel/wmt22-comet-da``, ``Unbabel/XCOMET-XXL``,
  ...), resolved with ``comet.download_model``: on a connected machine or
  from a populated HF cache; with ``HF_HUB_OFFLINE=1`` only the cache is
  used; or
- a local path: a model directory (``<dir>/checkpoints/model.ckpt`` with
  ``<dir>/hparams.yaml``, as the hub snapshots and the demo stand-ins from
  :mod:`algharb.demo.comet_standin` are laid out) or a ``.ckpt`` file inside
  such a directory.

A model directory that carries its own encoder folder (``<dir>/encoder``,
the stand-ins) is relocatable: the encoder path stored in the checkpoint is
replaced by the folder's current location at load time, without writing to
the directory (it may be read-only or shared by concurrent jobs).

The loaded ``comet`` model is available as :attr:`CometScorer.model`; its
``encoder`` / ``get_sentence_embedding`` and ``estimate`` are what an MBR
implementation that reuses sentence embeddings needs.

:meth:`CometScorer.score_with_spans` also returns the error spans that a
``UnifiedMetric`` trained with word-level tags (XCOMET: "xCOMET: Transparent
Machine Translation Evaluation through Fine-grained Error Detection",
Guerreiro et al. 2024) predicts beside its scores, from the same forward
pass; :attr:`CometScorer.produces_error_spans` says whether a model does.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from ..models import model_reference

HPARAMS_FILENAME = "hparams.yaml"
CHECKPOINT_RELPATH = Path("checkpoints") / "model.ckpt"
# A model directory holding its encoder here is loaded with the encoder from here.
ENCODER_DIRNAME = "encoder"

# Keys of one error span, in the order COMET's UnifiedMetric.decode documents them.
ERROR_SPAN_KEYS = ("text", "start", "end", "severity", "confidence")

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_TRUE_VALUES = {"1", "ON", "YES", "TRUE"}


class CometModelError(RuntimeError):
    """A COMET model cannot be found, fetched or loaded."""


class CometScorer:
    """Segment-level COMET scores from a hub id or a local model, loaded lazily once.

    ``batch_size`` and ``gpus`` go to ``comet``'s ``predict`` (``gpus=0``: CPU);
    ``threads`` caps torch's intra-op threads on CPU; ``clip`` clips scores to
    [0, 1] (the stand-ins are uncalibrated and can stray slightly outside).
    """

    def __init__(
        self,
        model: str,
        batch_size: int = 64,
        gpus: int = 0,
        progress: bool = True,
        threads: int = 1,
        clip: bool = False,
    ) -> None:
        if not isinstance(model, (str, os.PathLike)) or not str(model).strip():
            raise ValueError(f"CometScorer: model must be a hub id or a local path, got {model!r}")
        if batch_size < 1:
            raise ValueError(f"CometScorer: batch_size must be >= 1, got {batch_size}")
        if gpus < 0 or threads < 1:
            raise ValueError(f"CometScorer: need gpus >= 0 and threads >= 1, got gpus={gpus}, threads={threads}")
        self.model_name = str(model)
        self.batch_size = batch_size
        self.gpus = gpus
        self.progress = progress
        self.threads = threads
        self.clip = clip
        self._model = None

    @property
    def model(self):
        """The loaded ``comet`` model (a ``CometModel``), loaded on first access."""
        if self._model is None:
            self._model = load_comet_model(self.model_name, threads=self.threads)
        return self._model

    @property
    def needs_reference(self) -> bool:
        """Whether the model cannot score without references (COMET-22: yes; CometKiwi, XCOMET: no)."""
        return bool(self.model.requires_references())

    @property
    def uses_reference(self) -> bool:
        """Whether the model reads references at all (False for pure QE models such as CometKiwi)."""
        from comet.models import ReferencelessRegression

        return not isinstance(self.model, ReferencelessRegression)

    @property
    def model_class(self) -> str:
        """The model's COMET class identifier (``regression_metric``, ``unified_metric``, ``xcomet_metric``, ...)."""
        return str(self.model.hparams.get("class_identifier") or type(self.model).__name__)

    @property
    def produces_error_spans(self) -> bool:
        """Whether the model tags error spans: a ``UnifiedMetric`` (XCOMET is one) trained with word-level tags.

        Regression models (COMET-22, CometKiwi) and unified models trained on
        scores only return none.
        """
        from comet.models import UnifiedMetric

        return isinstance(self.model, UnifiedMetric) and bool(getattr(self.model, "word_level", False))

    def score(
        self,
        sources: Sequence[str],
        hypotheses: Sequence[str],
        references: Sequence[str] | None = None,
    ) -> list[float]:
        """One score per ``(source, hypothesis[, reference])`` segment, in input order.

        ``references`` is required by reference-based models, ignored by QE
        models, and optional for unified models (XCOMET), which then score in
        QE mode. Deterministic: the model runs in eval mode without dropout.
        """
        samples = self._samples(sources, hypotheses, references)
        if not samples:
            return []
        return self._scores(self._predict(samples))

    def score_with_spans(
        self,
        sources: Sequence[str],
        hypotheses: Sequence[str],
        references: Sequence[str] | None = None,
    ) -> tuple[list[float], list[list[dict[str, Any]]] | None]:
        """The segment scores of :meth:`score` and each segment's error spans, from one run of the model.

        The spans are COMET's (``prediction.metadata.error_spans``), one list
        per segment in input order, each span a dict with ``text``, ``start``
        and ``end`` (character offsets into the hypothesis, end exclusive),
        ``severity`` (one of the model's error labels; XCOMET: minor, major,
        critical) and ``confidence`` (the mean probability of that label over
        the span's subwords). A segment without errors has an empty list. The
        spans are ``None`` when the model returns none (see
        :attr:`produces_error_spans`).
        """
        samples = self._samples(sources, hypotheses, references)
        if not samples:
            return [], ([] if self.produces_error_spans else None)
        prediction = self._predict(samples)
        return self._scores(prediction), self._error_spans(prediction, len(samples))

    def _predict(self, samples: list[dict[str, str]]):
        """Run COMET's ``predict`` on ``samples`` (its output restores the input order)."""
        import torch

        if self.gpus == 0:
            torch.set_num_threads(self.threads)
        with quiet_lightning():
            return self.model.predict(
                samples,
                batch_size=self.batch_size,
                gpus=self.gpus,
                progress_bar=self.progress,
                num_workers=0,  # worker processes only cost time at these sizes
            )

    def _scores(self, prediction) -> list[float]:
        scores = [float(s) for s in prediction.scores]
        if self.clip:
            scores = [min(1.0, max(0.0, s)) for s in scores]
        return scores

    def _error_spans(self, prediction, n_segments: int) -> list[list[dict[str, Any]]] | None:
        """The per-segment error spans of a prediction as plain Python values, or None when the model tags none."""
        if not self.produces_error_spans:
            return None
        metadata = prediction.get("metadata") or {}
        spans = metadata.get("error_spans")
        if spans is None or len(spans) != n_segments:
            raise CometModelError(
                f"COMET model {self.model_name!r} ({self.model_class}) is trained with word-level tags but "
                f"returned {'no' if spans is None else len(spans)} error-span lists for {n_segments} segments"
            )
        return [[_plain_span(span) for span in segment] for segment in spans]

    def _samples(
        self, sources: Sequence[str], hypotheses: Sequence[str], references: Sequence[str] | None
    ) -> list[dict[str, str]]:
        """Validate the inputs and build COMET's sample dictionaries."""
        sources = _checked_texts("sources", sources)
        hypotheses = _checked_texts("hypotheses", hypotheses)
        if len(sources) != len(hypotheses):
            raise ValueError(
                f"sources and hypotheses must have the same length, got {len(sources)} and {len(hypotheses)}"
            )
        if references is not None:
            references = _checked_texts("references", references)
            if len(references) != len(hypotheses):
                raise ValueError(
                    f"references must have one entry per hypothesis, got {len(references)} "
                    f"references for {len(hypotheses)} hypotheses"
                )
        if not hypotheses:
            return []
        if references is None and self.needs_reference:
            raise ValueError(
                f"references is None, but COMET model {self.model_name!r} is reference-based "
                f"and needs one reference per hypothesis ({len(hypotheses)} hypotheses)"
            )
        if references is None or not self.uses_reference:
            return [{"src": s, "mt": h} for s, h in zip(sources, hypotheses)]
        return [{"src": s, "mt": h, "ref": r} for s, h, r in zip(sources, hypotheses, references)]


def comet_scorer(spec: Mapping, batch_size: int, threads: int = 1, gpus: int | None = None) -> CometScorer:
    """A CometScorer for a config model entry (``{path}`` or ``{hub}``); uses a GPU when one is visible."""
    if gpus is None:
        import torch

        gpus = 1 if torch.cuda.is_available() else 0
    return CometScorer(model_reference(spec), batch_size=batch_size, gpus=gpus, threads=threads)


def load_comet_model(model: str, threads: int = 1):
    """Resolve ``model`` (hub id or local path) and load it on CPU in eval mode."""
    import torch

    torch.set_num_threads(threads)
    checkpoint = resolve_checkpoint(model)
    with quiet_lightning():
        loaded = _load_checkpoint(checkpoint, offline=hub_offline())
    loaded.eval()
    return loaded


def resolve_checkpoint(model: str) -> Path:
    """Path of the ``.ckpt`` file for a hub id or a local model path.

    Raises ``FileNotFoundError`` naming the path for a missing local model and
    :class:`CometModelError` for a hub model that cannot be fetched.
    """
    path = Path(model).expanduser()
    if path.exists():
        return _local_checkpoint(path)
    if _HUB_ID.match(str(model)) and not str(model).endswith(".ckpt"):
        return _hub_checkpoint(str(model))
    raise FileNotFoundError(f"COMET model path does not exist: {str(path)!r}")


def hub_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` forbids network access (read at call time)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in _TRUE_VALUES


def _local_checkpoint(path: Path) -> Path:
    checkpoint = path / CHECKPOINT_RELPATH if path.is_dir() else path
    if path.is_dir() and not checkpoint.is_file():
        raise FileNotFoundError(
            f"COMET model directory {str(path)!r} has no {CHECKPOINT_RELPATH.as_posix()} "
            f"(expected <dir>/{CHECKPOINT_RELPATH.as_posix()} and <dir>/{HPARAMS_FILENAME})"
        )
    if checkpoint.suffix != ".ckpt":
        raise ValueError(f"COMET model path {str(path)!r} is neither a model directory nor a .ckpt file")
    hparams = checkpoint.parent.parent / HPARAMS_FILENAME
    if not hparams.is_file():
        raise FileNotFoundError(f"COMET checkpoint {str(checkpoint)!r} has no {HPARAMS_FILENAME} at {str(hparams)!r}")
    return checkpoint


def _hub_checkpoint(model_id: str) -> Path:
    """Fetch (or find in the HF cache) a hub model through ``comet.download_model``."""
    from comet import download_model

    offline = hub_offline()
    try:
        with quiet_lightning():
            checkpoint = Path(download_model(model_id, local_files_only=offline))
    except Exception as err:
        where = "in the local Hugging Face cache (HF_HUB_OFFLINE is set)" if offline else "on the Hugging Face hub"
        raise CometModelError(
            f"COMET model {model_id!r} is not a local path and could not be found {where} "
            f"({_first_cause(err)}). "
            "Download it on a connected machine (gated models also need `huggingface-cli login` "
            "and accepting the licence), or set the config to a local model directory."
        ) from None
    if not checkpoint.is_file():
        raise CometModelError(f"COMET model {model_id!r} resolved to {str(checkpoint)!r}, which does not exist")
    return checkpoint


def _first_cause(err: BaseException) -> str:
    """The original error behind comet's catch-all re-raises, in one line.

    ``comet.download_model`` hides a hub failure (missing from cache, no
    network, gated model) behind "not supported by COMET"; the hub's own
    error is at the bottom of the exception context chain.
    """
    while err.__context__ is not None:
        err = err.__context__
    message = str(err).strip().splitlines()
    return f"{type(err).__name__}: {message[0] if message else ''}"


def _load_checkpoint(checkpoint: Path, offline: bool):
    """Load a COMET checkpoint; re-point a bundled encoder at its current location."""
    import torch
    import yaml
    from comet import load_from_checkpoint
    from comet.models import str2model

    model_dir = checkpoint.parent.parent
    encoder_dir = model_dir / ENCODER_DIRNAME
    try:
        if not (encoder_dir / "config.json").is_file():
            return load_from_checkpoint(str(checkpoint), local_files_only=offline)
        with open(model_dir / HPARAMS_FILENAME, encoding="utf-8") as handle:
            class_identifier = yaml.safe_load(handle)["class_identifier"]
        return str2model[class_identifier].load_from_checkpoint(
            checkpoint_path=checkpoint,
            map_location=torch.device("cpu"),
            strict=True,
            load_pretrained_weights=False,  # the checkpoint holds the trained encoder
            local_files_only=True,
            pretrained_model=str(encoder_dir.resolve()),
        )
    except Exception as err:
        raise CometModelError(
            f"could not load COMET checkpoint {str(checkpoint)!r}: {type(err).__name__}: {err}"
        ) from err


def _plain_span(span: Mapping[str, Any]) -> dict[str, Any]:
    """One COMET error span with plain ``int`` / ``float`` / ``str`` values (tensors and numpy scalars do not serialise)."""
    return {
        "text": str(span["text"]),
        "start": int(span["start"]),
        "end": int(span["end"]),
        "severity": str(span["severity"]),
        "confidence": float(span["confidence"]),
    }


def _checked_texts(name: str, texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str) or texts is None:
        raise ValueError(f"{name} must be a list of strings, got {type(texts).__name__}")
    texts = list(texts)
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"{name}[{index}] must be a string, got {type(text).__name__}")
    return texts


@contextlib.contextmanager
def quiet_lightning() -> Iterator[None]:
    """Silence Lightning's per-call banners and advice (GPU available, workers, ...).

    ``comet`` builds a Trainer for every ``predict`` call; in the workflow's
    logs these lines would outnumber everything else.
    """
    loggers = [logging.getLogger(name) for name in ("pytorch_lightning", "lightning.pytorch", "lightning.fabric")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*num_workers.*")
            warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=r".*GPU available but not used.*")
            warnings.filterwarnings("ignore", message=r".*LeafSpec.*")  # Lightning's own deprecation
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
