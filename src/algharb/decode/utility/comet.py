"""``comet``: MBR utility matrices from a COMET model, encoding each sentence once where the model allows.

A reference-based COMET model of the COMET-22 architecture (``RegressionMetric``,
e.g. ``Unbabel/wmt22-comet-da``) scores a triple as

    estimator([mt, ref, mt*ref, |mt-ref|, mt*src, |mt-src|])

where ``src``, ``mt`` and ``ref`` are sentence embeddings that each depend on
one text only (XLM-R, layer-wise attention, average pooling). The N×N MBR
matrix U[i, j] = COMET(src, hyp=cand_i, ref=cand_j) therefore needs N + 1
encoder passes and N² runs of the small feed-forward estimator, instead of
the 3·N² encoder passes of scoring every triple through ``predict``.

Everything that defines the score is the model's own code: tokenisation,
truncation and padding (``model.encoder.prepare_sample``), the embedding
(``model.compute_sentence_embedding``: encoder, layer-wise attention,
pooling) and the estimator. By default the estimator's first linear layer is
evaluated in factorised form (see :class:`_FactorisedEstimator`); it is
checked against ``model.estimate`` on the first pairs of every call, and
``factorised=False`` calls ``model.estimate`` on every pair.

Models whose score does not factorise over sentence embeddings (UnifiedMetric
/ XCOMET encode hypothesis and reference jointly) and reference-free models
(CometKiwi) raise :class:`UnsupportedCometModel`, a ``ValueError``;
:class:`CometUtility`, the registered ``comet`` utility, then falls back to
pairwise scoring (:func:`.base.pairwise_matrices` with ``CometScorer.score``).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from algharb.metrics.comet import comet_scorer

from ..config import MBRConfig
from .base import UTILITIES, UtilityInputs, expand_matrices, pairwise_matrices, unique_candidates

logger = logging.getLogger(__name__)

PRECISIONS = ("fp32", "bf16", "fp16")
# Largest |factorised - model.estimate| accepted by the per-call self-check: fp32
# summation-order noise is ~1e-7 (half-precision estimators: ~1e-3); a wrong
# feature order is off by ~1e-1.
_SELF_CHECK_TOLERANCE = {"fp32": 1e-4, "half": 2e-2}
_SELF_CHECK_PAIRS = 64


class UnsupportedCometModel(ValueError):
    """The COMET model's score does not factorise over per-sentence embeddings."""


def check_supported(model) -> None:
    """Raise :class:`UnsupportedCometModel` unless ``model`` is a reference-based ``RegressionMetric``.

    A subclass that overrides ``forward`` may combine the embeddings differently
    than ``RegressionMetric`` does, so it is refused as well.
    """
    from comet.models import RankingMetric, ReferencelessRegression, RegressionMetric, UnifiedMetric

    name = type(model).__name__
    if isinstance(model, ReferencelessRegression):
        raise UnsupportedCometModel(
            f"COMET model class {name} is reference-free (quality estimation, e.g. CometKiwi): it never "
            "reads the pseudo-reference, so it is no MBR utility. Use a reference-based model "
            "(RegressionMetric, e.g. Unbabel/wmt22-comet-da)."
        )
    if isinstance(model, UnifiedMetric):
        raise UnsupportedCometModel(
            f"COMET model class {name} (UnifiedMetric / XCOMET) encodes hypothesis and reference jointly, "
            "so its utility matrix cannot be built from per-sentence embeddings; use pairwise scoring "
            "(algharb.decode.utility.pairwise_matrices with CometScorer.score) instead."
        )
    if isinstance(model, RankingMetric):
        raise UnsupportedCometModel(
            f"COMET model class {name} outputs distances between embeddings, not a COMET score; "
            "use a RegressionMetric (e.g. Unbabel/wmt22-comet-da) or pairwise scoring instead."
        )
    if not isinstance(model, RegressionMetric) or type(model).forward is not RegressionMetric.forward:
        raise UnsupportedCometModel(
            f"COMET model class {name} is not a plain reference-based RegressionMetric; its score may not "
            "factorise over sentence embeddings. Use pairwise scoring (CometScorer.score) instead."
        )


@UTILITIES.register("comet")
class CometUtility:
    """``U = COMET(source, hypothesis, pseudo-reference)`` of the ``models.utility`` checkpoint.

    Factorised (:func:`comet_utility_matrices`) when the model's score allows
    it; otherwise every distinct triple goes through ``CometScorer.score``. The
    encoder runs on a GPU when one is visible.
    """

    # Sentences whose candidates are encoded together by the factorised utility.
    sentences_per_batch = 32

    def __init__(self, config: MBRConfig, inputs: UtilityInputs):
        if inputs.model is None:
            raise ValueError("decode.mbr.utility 'comet' needs models.utility (a reference-based COMET model)")
        self.scorer = comet_scorer(inputs.model, batch_size=config.batch_size, threads=inputs.threads)
        self.batch_size = config.batch_size
        self.precision = config.precision

    def matrices(self, sources: Sequence[str], candidate_lists: Sequence[Sequence[str]]) -> list[np.ndarray]:
        try:
            check_supported(self.scorer.model)
        except UnsupportedCometModel as err:
            logger.warning("%s; scoring every candidate pair with the full model instead", err)
            return pairwise_matrices(sources, candidate_lists, self.scorer.score)
        device = "cuda" if self.scorer.gpus else "cpu"
        matrices = []
        for start in range(0, len(sources), self.sentences_per_batch):
            stop = start + self.sentences_per_batch
            matrices += comet_utility_matrices(self.scorer.model, sources[start:stop], candidate_lists[start:stop],
                                               batch_size=self.batch_size, device=device, precision=self.precision)
        return matrices


def comet_utility_matrices(
    model,
    sources: Sequence[str],
    candidate_lists: Sequence[Sequence[str]],
    *,
    batch_size: int,
    precision: str | None,
    device=None,
    progress: bool = False,
    pair_batch_size: int = 8192,
    factorised: bool = True,
) -> list[np.ndarray]:
    """One N×N matrix per source: ``U[i, j] = COMET(src, hyp=cand_i, ref=cand_j)``.

    ``model`` is a loaded unbabel-comet ``RegressionMetric`` (e.g. from
    :func:`algharb.metrics.comet.load_comet_model` or ``CometScorer.model``);
    ``batch_size`` and ``precision`` are those of ``decode.mbr`` (``MBRConfig``).
    N counts every candidate as given (duplicates included; N may be 0 or 1);
    utilities are computed once per distinct candidate and expanded back, so
    the result is what ``CometScorer.score`` returns for each triple (within
    ~1e-6 in fp32; bf16/fp16 autocast of the encoder moves scores a little
    more, ~5e-5 on the tiny test model; ``benchmarks/mbr_comet.py`` reports
    it at XLM-R-large shape).

    All distinct texts of all sources are encoded together, longest first, in
    batches of ``batch_size`` texts; the estimator runs on ``pair_batch_size``
    pairs at a time. ``device``: where to run (default: where the model is;
    the model is moved there in place and put in eval mode). ``precision``:
    autocast dtype of the encoder, ``"fp32"``, ``"bf16"`` or ``"fp16"``
    (default: bf16 on CUDA, fp32 elsewhere); the estimator always runs in
    the estimator's own dtype (fp32 for a loaded checkpoint).
    """
    import torch

    check_supported(model)
    sources, candidate_lists = _checked_inputs(sources, candidate_lists)
    if pair_batch_size < 1:
        raise ValueError(f"pair_batch_size must be >= 1, got {pair_batch_size}")
    device = _resolve_device(model, device)
    precision = resolve_precision(precision, device)
    plan = _plan(sources, candidate_lists)
    if len(plan.pair_row) == 0:
        return [np.zeros((0, 0)) for _ in sources]
    model.to(device).eval()
    with torch.inference_mode():
        embeddings = _embed(model, plan.texts, batch_size, device, precision, progress)
        flat = _pair_scores(model, embeddings, plan, pair_batch_size, factorised)
    return expand_matrices(flat, plan.sentences)


def sentence_embeddings(model, texts: Sequence[str], *, batch_size: int, precision: str | None, device=None,
                        progress: bool = False):
    """COMET sentence embeddings of ``texts`` (a float32 ``[len(texts), hidden]`` tensor on ``device``).

    Exactly what the model's ``forward`` embeds for each segment: the texts
    are tokenised once by ``model.encoder.prepare_sample`` (truncation to the
    encoder's maximum length, right padding), then encoded longest first in
    batches whose padding is trimmed to the batch's longest text, which only
    drops padding columns (the embedding does not depend on padding). The
    model is moved to ``device`` and put in eval mode.
    """
    import torch

    device = _resolve_device(model, device)
    precision = resolve_precision(precision, device)
    texts = [str(text) for text in texts]  # as RegressionMetric.prepare_sample does
    model.to(device).eval()
    with torch.inference_mode():
        return _embed(model, texts, batch_size, device, precision, progress)


def _embed(model, texts: list[str], batch_size: int, device, precision: str, progress: bool):
    import torch

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    out = torch.empty((len(texts), model.encoder.output_units), dtype=torch.float32, device=device)
    if not texts:
        return out
    tokens = model.encoder.prepare_sample(texts)
    ids, mask = tokens["input_ids"], tokens["attention_mask"]
    lengths = mask.sum(dim=1)
    order = torch.argsort(lengths, descending=True, stable=True)
    left_padded = getattr(model.encoder.tokenizer, "padding_side", "right") == "left"
    starts = range(0, len(texts), batch_size)
    for start in _progress(starts, progress, "COMET encode"):
        rows = order[start : start + batch_size]
        width = int(lengths[rows].max())
        columns = slice(ids.shape[1] - width, None) if left_padded else slice(0, width)
        with precision_context(device, precision):
            emb = model.compute_sentence_embedding(
                ids[rows, columns].to(device), mask[rows, columns].to(device)
            )
        out[rows.to(device)] = emb.float()
    return out


def resolve_precision(precision: str | None, device) -> str:
    """The encoder's autocast precision: as given, or bf16 on CUDA (fp16 where bf16 is missing), fp32 else."""
    import torch

    if precision is None:
        if torch.device(device).type != "cuda":
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS} or None, got {precision!r}")
    return precision


def precision_context(device, precision: str):
    """The encoder's autocast context for ``precision`` (``"fp32"``: none)."""
    import torch

    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype)


# --------------------------------------------------------------------------
# Planning: which texts to encode and which (row, reference) pairs to score
# --------------------------------------------------------------------------


@dataclass
class _Plan:
    """Index arrays of one call.

    ``texts``: distinct texts to encode. A *row* is one (source, distinct
    candidate) combination, the hypothesis side of a matrix row:
    ``row_src`` / ``row_mt`` hold their text ids. ``pair_row`` / ``pair_ref``
    list every scored pair, sentence by sentence, row-major over the
    sentence's distinct candidates. ``sentences``: per source, the number of
    distinct candidates and each candidate's index among them.
    """

    texts: list[str]
    row_src: np.ndarray
    row_mt: np.ndarray
    pair_row: np.ndarray
    pair_ref: np.ndarray
    sentences: list[tuple[int, np.ndarray]]


def _plan(sources: list[str], candidate_lists: list[list[str]]) -> _Plan:
    text_ids: dict[str, int] = {}
    row_src, row_mt, pair_row, pair_ref, sentences = [], [], [], [], []
    n_rows = 0
    for source, candidates in zip(sources, candidate_lists):
        distinct, inverse = unique_candidates(candidates)
        m = len(distinct)
        sentences.append((m, inverse))
        if m == 0:
            continue  # nothing to score: the source need not be encoded
        src_id = text_ids.setdefault(source, len(text_ids))
        cand_ids = np.array([text_ids.setdefault(text, len(text_ids)) for text in distinct], dtype=np.int64)
        row_src.append(np.full(m, src_id, dtype=np.int64))
        row_mt.append(cand_ids)
        pair_row.append(n_rows + np.repeat(np.arange(m, dtype=np.int64), m))
        pair_ref.append(np.tile(cand_ids, m))
        n_rows += m
    empty = np.zeros(0, dtype=np.int64)
    return _Plan(
        texts=list(text_ids),
        row_src=np.concatenate(row_src) if row_src else empty,
        row_mt=np.concatenate(row_mt) if row_mt else empty,
        pair_row=np.concatenate(pair_row) if pair_row else empty,
        pair_ref=np.concatenate(pair_ref) if pair_ref else empty,
        sentences=sentences,
    )


# --------------------------------------------------------------------------
# Estimator on all pairs
# --------------------------------------------------------------------------


def _pair_scores(model, embeddings, plan: _Plan, pair_batch_size: int, factorised: bool) -> np.ndarray:
    """Estimator scores of every planned pair, as a float64 array in plan order."""
    import torch

    device = embeddings.device
    dtype = next(model.estimator.parameters()).dtype
    embeddings = embeddings.to(dtype)  # FeedForward only casts inputs for fp16 weights
    pair_row = torch.from_numpy(plan.pair_row).to(device)
    pair_ref = torch.from_numpy(plan.pair_ref).to(device)
    src = embeddings[torch.from_numpy(plan.row_src).to(device)]
    mt = embeddings[torch.from_numpy(plan.row_mt).to(device)]

    def reference(rows, refs):  # comet's own feature construction and estimator
        return model.estimate(src[rows], mt[rows], embeddings[refs]).score

    score = reference
    if factorised:
        fast = _FactorisedEstimator.build(model, src, mt, embeddings)
        if fast is not None and _agrees(fast, reference, pair_row, pair_ref):
            score = fast
    out = torch.empty(len(pair_row), dtype=torch.float64, device=device)
    for start in range(0, len(pair_row), pair_batch_size):
        chunk = slice(start, start + pair_batch_size)
        out[chunk] = score(pair_row[chunk], pair_ref[chunk]).view(-1).double()
    return out.cpu().numpy()


class _FactorisedEstimator:
    """``RegressionMetric.estimate`` with its first linear layer split by feature.

    The first layer sees ``[mt, ref, mt*ref, |mt-ref|, mt*src, |mt-src|]``;
    its output is ``A·[mt, mt*src, |mt-src|] + b`` (one per row) ``+ B·ref``
    (one per text) ``+ C·[mt*ref, |mt-ref|]`` (per pair), so only a third of
    the largest matrix product is done per pair, which matters at N = 100
    (10,000 pairs of 6×1024 features per sentence). The estimator's remaining
    layers are the model's own modules. Exact up to float summation order.
    """

    def __init__(self, rest, row_term, ref_term, pair_weight, mt, embeddings):
        self.rest, self.row_term, self.ref_term = rest, row_term, ref_term
        self.pair_weight, self.mt, self.embeddings = pair_weight, mt, embeddings

    @classmethod
    def build(cls, model, src, mt, embeddings):
        """The factorised estimator, or None where the model's estimator has another layout."""
        import torch
        from comet.models import RegressionMetric
        from comet.modules import FeedForward
        from torch import nn

        estimator = model.estimator
        hidden = embeddings.shape[1]
        if (
            type(model).estimate is not RegressionMetric.estimate
            or not isinstance(estimator, FeedForward)
            or not isinstance(estimator.ff[0], nn.Linear)
            or estimator.ff[0].in_features != 6 * hidden
        ):
            return None
        first = estimator.ff[0]
        w_mt, w_ref, w_prod_ref, w_diff_ref, w_prod_src, w_diff_src = first.weight.split(hidden, dim=1)
        row_weight = torch.cat((w_mt, w_prod_src, w_diff_src), dim=1)
        row_features = torch.cat((mt, mt * src, (mt - src).abs()), dim=1)
        row_term = row_features @ row_weight.T
        if first.bias is not None:
            row_term = row_term + first.bias
        pair_weight = torch.cat((w_prod_ref, w_diff_ref), dim=1)
        return cls(estimator.ff[1:], row_term, embeddings @ w_ref.T, pair_weight, mt, embeddings)

    def __call__(self, rows, refs):
        import torch

        mt, ref = self.mt[rows], self.embeddings[refs]
        pair_features = torch.cat((mt * ref, (mt - ref).abs()), dim=1)
        hidden = pair_features @ self.pair_weight.T + self.row_term[rows] + self.ref_term[refs]
        return self.rest(hidden)


def _agrees(fast, reference, pair_row, pair_ref) -> bool:
    """Whether the factorised estimator matches ``model.estimate`` on the first pairs.

    Guards against a comet version whose ``estimate`` builds its features in
    another order; on a mismatch the caller uses ``model.estimate`` throughout.
    """
    import torch

    rows, refs = pair_row[:_SELF_CHECK_PAIRS], pair_ref[:_SELF_CHECK_PAIRS]
    expected = reference(rows, refs).view(-1)
    tolerance = _SELF_CHECK_TOLERANCE["fp32" if expected.dtype in (torch.float32, torch.float64) else "half"]
    gap = float((fast(rows, refs).view(-1).float() - expected.float()).abs().max())
    if gap > tolerance:
        logger.warning("factorised COMET estimator differs from model.estimate by %.3g; using model.estimate", gap)
        return False
    return True


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _checked_inputs(sources, candidate_lists) -> tuple[list[str], list[list[str]]]:
    if isinstance(sources, str) or isinstance(candidate_lists, str) or any(
        isinstance(c, str) for c in candidate_lists
    ):
        raise ValueError("sources must be a list of strings and candidate_lists a list of lists of strings")
    sources, candidate_lists = list(sources), [list(c) for c in candidate_lists]
    if len(sources) != len(candidate_lists):
        raise ValueError(f"{len(sources)} sources but {len(candidate_lists)} candidate lists")
    for index, (source, candidates) in enumerate(zip(sources, candidate_lists)):
        if not isinstance(source, str) or not all(isinstance(c, str) for c in candidates):
            raise ValueError(f"sources[{index}] and candidate_lists[{index}] must hold strings")
    return sources, candidate_lists


def _resolve_device(model, device):
    import torch

    if device is None:
        return next(model.parameters()).device
    return torch.device(device)


def _progress(iterable, enabled: bool, description: str):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=description, leave=False)
