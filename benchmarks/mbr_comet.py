"""Benchmark: COMET-utility MBR matrices by embedding reuse vs. pairwise scoring.

Per source sentence with N candidates, the MBR utility matrix
U[i, j] = COMET(src, cand_i, cand_j) is computed by

(a) ``ours``: :func:`algharb.decode.utility.comet.comet_utility_matrices`
    (encode the source and the distinct candidates once, estimator on the
    N² pairs), with the encoder under bf16 autocast on CUDA; also in fp32;
(b) ``pairwise``: every triple through the model's normal ``forward``
    (``prepare_sample`` batches of 64, 3 encoder passes per triple), as
    ``CometScorer.score`` does minus Lightning's per-call overhead; a
    subset of the N² triples is timed and extrapolated;
(c) ``mbrs``: ``mbrs.metrics.MetricCOMET.pairwise_scores`` on the same
    model, when mbrs is importable (it is not in the project's .venv);
(d) the encoder-FLOP lower bound: 2 × (non-embedding encoder parameters) ×
    (tokens of the distinct texts), at a measured dense matmul rate (bf16 on
    CUDA, fp32 on CPU).

No download: the model is a ``RegressionMetric`` with the COMET-22
(Unbabel/wmt22-comet-da) architecture and random weights. Its encoder is
described by a local folder holding a small sentencepiece tokenizer (built by
:func:`algharb.demo.comet_encoder.build_encoder`) and an ``XLMRobertaConfig``
of XLM-R-large shape (24 layers, hidden 1024, 16 heads, FFN 4096, vocabulary
250002), and COMET builds the encoder from that config without weights
(``load_pretrained_weights=False``), exactly as it does before loading a
checkpoint. Random weights leave the timings unchanged; score differences
between precisions are only indicative of a trained model's.

    python benchmarks/mbr_comet.py                          # H100: N=100, 16 sentences
    python benchmarks/mbr_comet.py --device cpu --small     # tiny shapes, a smoke test
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import logging
import random
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from algharb.demo.comet_encoder import build_encoder
from algharb.decode.utility.comet import (
    comet_utility_matrices,
    precision_context,
    resolve_precision,
    sentence_embeddings,
)

# XLM-R large, as in COMET-22; --small shrinks everything for a CPU smoke test.
LARGE = {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096,
         "vocab_size": 250002, "estimator": [3072, 1024], "tokens": 40}
SMALL = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 256,
         "vocab_size": None, "estimator": [128, 64], "tokens": 12}
PAIRWISE_BATCH = 64  # CometScorer's default batch size


# --------------------------------------------------------------------------
# Model and workload
# --------------------------------------------------------------------------


def build_model(workdir: Path, shape: dict, seed: int = 0):
    """A random-weight RegressionMetric of COMET-22 architecture with an encoder of ``shape``."""
    from comet.models import RegressionMetric
    from transformers import XLMRobertaConfig, XLMRobertaTokenizerFast

    encoder_dir = build_encoder(_words_corpus(seed), workdir / "encoder", vocab_size=8000,
                                hidden_size=32, num_layers=1, seed=seed)
    for weights in encoder_dir.glob("*.safetensors"):
        weights.unlink()  # the tiny encoder's weights: COMET builds the encoder from the config below
    tokenizer_size = len(XLMRobertaTokenizerFast.from_pretrained(encoder_dir))
    XLMRobertaConfig(
        vocab_size=shape["vocab_size"] or tokenizer_size,
        hidden_size=shape["hidden_size"],
        num_hidden_layers=shape["num_hidden_layers"],
        num_attention_heads=shape["num_attention_heads"],
        intermediate_size=shape["intermediate_size"],
        max_position_embeddings=514,
        type_vocab_size=1,
        layer_norm_eps=1e-5,
        pad_token_id=1, bos_token_id=0, eos_token_id=2,
    ).save_pretrained(encoder_dir)
    logging.getLogger("comet").setLevel(logging.WARNING)  # "Encoder model frozen." at construction
    torch.manual_seed(seed)
    # wmt22-comet-da's hyper-parameters (avg pooling over a sparsemax layer mix, 3072-1024 estimator).
    model = RegressionMetric(
        pretrained_model=str(encoder_dir), load_pretrained_weights=False, local_files_only=True,
        pool="avg", layer="mix", layer_transformation="sparsemax", layer_norm=False,
        hidden_sizes=shape["estimator"], activations="Tanh", final_activation=None, dropout=0.1,
    )
    return model.eval()


def _words(seed: int, n: int = 3000) -> list[str]:
    """Synthetic Latin and Cyrillic words."""
    rng = random.Random(seed)
    alphabets = ("abcdefghiklmnoprstuvwyz", "абвгдежзиклмнопрстуфхцчшыэюя")
    return ["".join(rng.choices(rng.choice(alphabets), k=rng.randint(2, 9))) for _ in range(n)]


def _words_corpus(seed: int, n: int = 3000) -> list[str]:
    """Sentences of :func:`_words`, to train the tokenizer on."""
    rng, words = random.Random(seed + 1), _words(seed)
    return [" ".join(rng.choices(words, k=rng.randint(5, 30))) for _ in range(n)]


def make_workload(tokenizer, words: list[str], n_sentences: int, n_candidates: int, tokens: int, seed: int = 1):
    """Sources and ``n_candidates`` distinct candidates each, of about ``tokens`` tokens (with <s> and </s>)."""
    rng = random.Random(seed)
    per_word = np.mean([len(tokenizer(w, add_special_tokens=False)["input_ids"]) for w in words[:500]])
    n_words = max(1, round((tokens - 2) / per_word))

    def sentence() -> str:
        return " ".join(rng.choices(words, k=max(1, n_words + rng.randint(-2, 2))))

    sources = [sentence() for _ in range(n_sentences)]
    candidate_lists = []
    for _ in sources:
        cands = list(dict.fromkeys(sentence() for _ in range(n_candidates * 2)))[:n_candidates]
        candidate_lists.append(cands)
    return sources, candidate_lists


# --------------------------------------------------------------------------
# Timings
# --------------------------------------------------------------------------


@contextmanager
def _timed(device, into: list):
    """Wall time of the block, after the device has finished its queued work."""
    _sync(device)
    start = time.perf_counter()
    yield
    _sync(device)
    into.append(time.perf_counter() - start)


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def time_ours(model, sources, lists, device, precision, repeats: int, batch_size: int,
              factorised: bool = True) -> dict:
    """Best-of-``repeats`` seconds for the whole batch of sentences, and for its encoding alone."""
    unique = list(dict.fromkeys([*sources, *(c for cands in lists for c in cands)]))
    comet_utility_matrices(model, sources[:1], [lists[0][:8]], batch_size=batch_size, device=device,
                           precision=precision)  # warm-up
    total, encode = [], []
    for _ in range(repeats):
        with _timed(device, total):
            matrices = comet_utility_matrices(model, sources, lists, batch_size=batch_size, device=device,
                                              precision=precision, factorised=factorised)
        with _timed(device, encode):
            sentence_embeddings(model, unique, batch_size=batch_size, device=device, precision=precision)
    return {"seconds": min(total), "encode_seconds": min(encode), "matrices": matrices}


def time_pairwise(model, source, cands, device, precision, max_triples: int) -> dict:
    """Seconds for all N² triples of one sentence through ``forward``, extrapolated from a subset."""
    triples = [(i, j) for i in range(len(cands)) for j in range(len(cands))]
    subset = triples[:max_triples]
    model.to(device).eval()
    scores, elapsed = [], []
    with torch.inference_mode():
        _pairwise_batch(model, source, cands, subset[:PAIRWISE_BATCH], device, precision)  # warm-up
        with _timed(device, elapsed):
            for start in range(0, len(subset), PAIRWISE_BATCH):
                batch = subset[start : start + PAIRWISE_BATCH]
                scores.append(_pairwise_batch(model, source, cands, batch, device, precision))
    seconds = elapsed[0] * len(triples) / len(subset)
    return {"seconds": seconds, "timed_triples": len(subset), "all_triples": len(triples),
            "subset": subset, "scores": torch.cat(scores).double().cpu().numpy()}


def _pairwise_batch(model, source, cands, pairs, device, precision):
    """Scores of ``pairs`` (i, j) through the model's forward, under the same autocast as ours."""
    samples = [{"src": source, "mt": cands[i], "ref": cands[j]} for i, j in pairs]
    inputs = {k: v.to(device) for k, v in model.prepare_sample(samples, stage="predict").items()}
    with precision_context(device, precision):
        return model(**inputs).score.float()


def time_mbrs(model, sources, lists, device, half: bool) -> dict | None:
    """``mbrs``' MetricCOMET.pairwise_scores per sentence on this model, or None without mbrs.

    mbrs loads its model by name in ``__init__``; here the instance is made
    without it and given the benchmark's model, as ``__init__`` would leave
    it (eval mode, on the device, cast to bf16/fp16 when ``half``).
    """
    try:
        from mbrs.metrics import MetricCOMET
    except ImportError:
        return None
    fields = {f.name for f in dataclasses.fields(MetricCOMET.Config)}
    options = {"batch_size": 64, "cpu": torch.device(device).type == "cpu"}
    scorer, dtype = model, "fp32"
    if half:
        flag = next((f for f in ("bf16", "fp16", "float16") if f in fields), None)
        if flag is None or torch.device(device).type != "cuda":
            return None
        options[flag] = True
        dtype = "bf16" if flag == "bf16" else "fp16"
        scorer = copy.deepcopy(model).to(torch.bfloat16 if dtype == "bf16" else torch.float16)
    metric = MetricCOMET.__new__(MetricCOMET)
    metric.cfg = MetricCOMET.Config(**{k: v for k, v in options.items() if k in fields})
    metric.scorer = scorer.to(device).eval()
    elapsed, matrices = [], []
    with torch.inference_mode():
        metric.pairwise_scores(lists[0][:8], lists[0][:8], sources[0])  # warm-up
        with _timed(device, elapsed):
            for source, cands in zip(sources, lists):
                matrices.append(metric.pairwise_scores(cands, cands, source).float().cpu().numpy())
    return {"seconds": elapsed[0], "matrices": matrices, "dtype": dtype}


def matmul_rate(device, dtype, size: int, repeats: int = 10) -> float:
    """Measured FLOP/s of a square ``size`` matmul in ``dtype``."""
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    torch.matmul(a, b)
    elapsed = []
    with _timed(device, elapsed):
        for _ in range(repeats):
            torch.matmul(a, b)
    return 2 * size**3 * repeats / elapsed[0]


def encoder_tokens(model, sources, lists) -> int:
    """Tokens COMET encodes for the distinct texts (source + distinct candidates) of every sentence."""
    total = 0
    for source, cands in zip(sources, lists):
        texts = list(dict.fromkeys([source, *cands]))
        total += int(model.encoder.prepare_sample(texts)["attention_mask"].sum())
    return total


def _mean_tokens(model, texts) -> float:
    return float(model.encoder.prepare_sample(texts)["attention_mask"].sum(dim=1).float().mean())


def encoder_matmul_params(model) -> int:
    """Parameters of the transformer layers: every one is used in a matmul per token (embeddings are not)."""
    return sum(p.numel() for p in model.encoder.model.encoder.parameters())


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


def run(n_candidates: int = 100, n_sentences: int = 16, device: str = "cuda", small: bool = False,
        pairwise_triples: int = 2048, repeats: int = 3, batch_size: int = 256, seed: int = 0) -> list[dict]:
    """Time every method; one dict per method with ``seconds_per_sentence`` and ``ratio_to_ours``."""
    if torch.device(device).type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("CUDA is not available; use --device cpu --small")
    shape = SMALL if small else LARGE
    workdir = Path(tempfile.mkdtemp(prefix="mbr_comet_bench_"))
    try:
        model = build_model(workdir, shape, seed).to(device)
        sources, lists = make_workload(model.encoder.tokenizer, _words(seed), n_sentences, n_candidates,
                                       shape["tokens"], seed + 1)
        return _measure(model, sources, lists, device, pairwise_triples, repeats, batch_size)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _measure(model, sources, lists, device, pairwise_triples, repeats, batch_size) -> list[dict]:
    n = len(sources)
    tokens = encoder_tokens(model, sources, lists)
    rows, reference = _ours_rows(model, sources, lists, device, repeats, batch_size)
    rows += _pairwise_rows(model, sources, lists, device, pairwise_triples, reference)
    rows += _mbrs_rows(model, sources, lists, device, reference)
    rows.append(_bound_row(model, tokens / n, device))
    base = rows[0]["seconds_per_sentence"]
    common = {"device": str(device), "n_sentences": n, "n_candidates": len(lists[0]),
              "tokens_per_sentence": tokens / n, "tokens_per_candidate": _mean_tokens(model, lists[0])}
    for row in rows:
        seconds = row["seconds_per_sentence"]
        row["ratio_to_ours"] = None if seconds is None else seconds / base
        row.update(common)
    return rows


def _ours_rows(model, sources, lists, device, repeats, batch_size) -> tuple[list[dict], list[np.ndarray]]:
    """Ours at the default precision (first row: the baseline), without factorisation, and in fp32.

    Also returns the fp32 matrices, which every other method is compared with.
    """
    n, fast = len(sources), resolve_precision(None, device)
    variants = [(fast, True, f"ours ({fast} encoder)"), (fast, False, f"ours ({fast}, model.estimate)")]
    if fast != "fp32":
        variants.append(("fp32", True, "ours (fp32)"))
    rows, results = [], []
    for precision, factorised, label in variants:
        result = time_ours(model, sources, lists, device, precision, repeats, batch_size, factorised)
        results.append(result)
        rows.append({"method": label, "seconds_per_sentence": result["seconds"] / n,
                     "encode_seconds_per_sentence": result["encode_seconds"] / n})
    reference = results[-1]["matrices"] if fast != "fp32" else results[0]["matrices"]
    for row, result in zip(rows, results):
        row["max_abs_diff_vs_ours_fp32"] = _max_diff(result["matrices"], reference)
    return rows, reference


def _pairwise_rows(model, sources, lists, device, pairwise_triples, reference) -> list[dict]:
    """The first sentence's triples through ``forward``, in fp32 (as comet's predict) and under autocast."""
    rows = []
    for precision in dict.fromkeys(["fp32", resolve_precision(None, device)]):
        pairwise = time_pairwise(model, sources[0], lists[0], device, precision, pairwise_triples)
        i, j = np.array(pairwise["subset"]).T
        rows.append({
            "method": f"pairwise forward ({precision})", "seconds_per_sentence": pairwise["seconds"],
            "note": f"timed {pairwise['timed_triples']} of {pairwise['all_triples']} triples, extrapolated",
            "max_abs_diff_vs_ours_fp32": float(np.abs(pairwise["scores"] - reference[0][i, j]).max()),
        })
    return rows


def _mbrs_rows(model, sources, lists, device, reference) -> list[dict]:
    """mbrs with fp32 weights, and with bf16 (fp16) weights on CUDA; one note row without mbrs."""
    rows = []
    for half in (False, True):
        result = time_mbrs(model, sources, lists, device, half)
        if result is None and not half:
            return [{"method": "mbrs MetricCOMET", "seconds_per_sentence": None, "note": "mbrs not installed"}]
        if result is not None:
            rows.append({"method": f"mbrs MetricCOMET ({result['dtype']} weights)",
                         "seconds_per_sentence": result["seconds"] / len(sources),
                         "max_abs_diff_vs_ours_fp32": _max_diff(result["matrices"], reference)})
    return rows


def _bound_row(model, tokens_per_sentence: float, device) -> dict:
    """2 × matmul parameters × tokens at the measured matmul rate (bf16 on CUDA, fp32 on CPU)."""
    dtype = torch.bfloat16 if torch.device(device).type == "cuda" else torch.float32
    rate = matmul_rate(device, dtype, 8192 if dtype == torch.bfloat16 else 1024)
    params = encoder_matmul_params(model)
    return {"method": "encoder FLOP lower bound", "seconds_per_sentence": 2 * params * tokens_per_sentence / rate,
            "note": f"2 x {params / 1e6:.3g}M params x {tokens_per_sentence:.0f} tokens "
                    f"@ {rate / 1e12:.3g} TFLOP/s {str(dtype).removeprefix('torch.')} matmul"}


def _max_diff(matrices, reference) -> float:
    return max((float(np.abs(a - b).max()) for a, b in zip(matrices, reference) if a.size), default=0.0)


def format_table(rows: list[dict]) -> str:
    """A plain-text table of the rows, with the workload in a header line."""
    first = rows[0]
    lines = [f"device={first['device']}  sentences={first['n_sentences']}  candidates={first['n_candidates']}  "
             f"tokens/candidate={first['tokens_per_candidate']:.1f}  "
             f"tokens/sentence (distinct texts)={first['tokens_per_sentence']:.0f}",
             f"{'method':34} {'s/sentence':>11} {'x ours':>9} {'max|diff|':>10}  note"]
    for row in rows:
        seconds, ratio = row["seconds_per_sentence"], row["ratio_to_ours"]
        diff = row.get("max_abs_diff_vs_ours_fp32")
        note = row.get("note", "")
        if "encode_seconds_per_sentence" in row:
            note = f"encode {row['encode_seconds_per_sentence']:.4g} s/sentence; the rest: estimator, planning"
        lines.append(f"{row['method']:34} {_fmt(seconds, '11.4g')} {_fmt(ratio, '9.3g')} "
                     f"{_fmt(diff, '10.2g')}  {note}")
    lines.append("x ours: seconds / ours' seconds; max|diff|: largest |score difference| against ours in fp32")
    return "\n".join(lines)


def _fmt(value, spec: str) -> str:
    width = int(spec.split(".")[0])
    return f"{'-':>{width}}" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--small", action="store_true", help="tiny model and sentences (CPU smoke test)")
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--sentences", type=int, default=None, help="default: 16, or 2 with --small")
    parser.add_argument("--pairwise-triples", type=int, default=None,
                        help="triples timed for the pairwise rows (default: 2048, or 256 with --small)")
    parser.add_argument("--batch-size", type=int, default=256, help="texts per encoder batch (ours)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    sentences = args.sentences or (2 if args.small else 16)
    triples = args.pairwise_triples or (256 if args.small else 2048)
    rows = run(n_candidates=args.candidates, n_sentences=sentences, device=args.device, small=args.small,
               pairwise_triples=triples, repeats=args.repeats, batch_size=args.batch_size)
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
