"""Benchmark: fused decoding (the ``fusion`` backend) against its two peers, tokens per second.

One seeded workload, one run, the three methods interleaved over repeats so
that machine noise hits them alike:

(a) ``ideal``: each model decoding alone with ``transformers``' own
    ``generate`` (KV cache, the same batch and token count), the times summed:
    what the fusion would cost if combining the models added nothing;
(b) ``fused``: :class:`algharb.generation.fusion_backend.FusedDecoder`, one
    KV cache per model, one new token fed to each model per step;
(c) ``naive``: the same decoder with ``kv_cache=False``, every model re-run
    on the whole prefix at every step (what logit arithmetic without caches
    costs, e.g. a per-step ``forward`` over the full sequence).

Every method generates exactly ``--new-tokens`` tokens per row (stop tokens
ignored), so tokens/s compare like with like: batch × new tokens / seconds.

Models: Collab-MT's setting with both experts, a base model and two smaller
experts (Qwen3 architecture, random weights, one shared BPE vocabulary trained on the
synthetic en-ru corpus of ``synthetic.py``), in
float32 on the CPU; ``--device cuda`` runs the same on a GPU.

    python benchmarks/fusion.py                       # batch 16, 64 new tokens, 3 repeats
    python benchmarks/fusion.py --threads 2 --json fusion.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synthetic import make_pairs  # noqa: E402

# (name, hidden size, layers, heads, weight): a base model and two experts a quarter its width.
MODELS = (("base", 512, 6, 8, 1.0), ("expert_en_source", 256, 4, 4, 0.5), ("expert_en_target", 256, 4, 4, 0.5))


def build_models(root: Path, vocab_size: int, seed: int) -> list[tuple[str, float]]:
    """The three random Qwen3 models on one tokenizer trained on synthetic sentences."""
    from algharb.demo.lm import build_qwen3, build_tokenizer

    sources, targets, _ = make_pairs(4000, seed=seed)
    build_tokenizer(sources + targets, root / "tokenizer", vocab_size=vocab_size)
    models = []
    for index, (name, hidden, layers, heads, weight) in enumerate(MODELS):
        path = build_qwen3(root / "tokenizer", root / name, hidden_size=hidden, num_layers=layers,
                           num_heads=heads, num_kv_heads=max(1, heads // 4), head_dim=64, seed=seed + index)
        models.append((str(path), weight))
    return models


def make_decoder(models, device: str, kv_cache: bool):
    import torch

    from algharb.generation.fusion_backend import FusedDecoder, FusionMember

    members = [FusionMember(path, weight, None, device, torch.float32) for path, weight in models]
    decoder = FusedDecoder(members, device, kv_cache=kv_cache)
    decoder.stop_ids = []  # exactly --new-tokens per row, as min_new_tokens makes generate() do
    return decoder


def prompts_for(decoder, sources: list[str]) -> list[list[str]]:
    from algharb.prompts import render_prompt

    return [[render_prompt(m.tokenizer, s, "en", "ru", m.prompt) for s in sources] for m in decoder.members]


def time_fused(decoder, prompts, sampling) -> float:
    import torch

    torch.manual_seed(0)
    start = time.perf_counter()
    tokens = decoder.generate(prompts, sampling)
    elapsed = time.perf_counter() - start
    assert tokens.shape[1] == sampling.max_new_tokens, tokens.shape
    return elapsed


def time_alone(decoder, prompts, new_tokens: int) -> float:
    """Each member through ``model.generate`` on its own prompts, the times summed."""
    import torch

    total = 0.0
    for member, member_prompts in zip(decoder.members, prompts):
        enc = member.encode(member_prompts, decoder.device)
        torch.manual_seed(0)
        start = time.perf_counter()
        with torch.inference_mode():
            out = member.model.generate(**enc, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                        do_sample=False, pad_token_id=member.tokenizer.pad_token_id)
        total += time.perf_counter() - start
        assert out.shape[1] - enc["input_ids"].shape[1] == new_tokens, out.shape
    return total


def run(args) -> dict:
    import torch

    from algharb.generation import Sampling

    torch.set_num_threads(args.threads)
    sampling = Sampling.from_dict({"max_new_tokens": args.new_tokens, "batch_size": args.batch})
    sources = make_pairs(args.batch, seed=args.seed + 1)[0]
    with tempfile.TemporaryDirectory() as tmp:
        models = build_models(Path(tmp), args.vocab, args.seed)
        fused, naive = make_decoder(models, args.device, True), make_decoder(models, args.device, False)
        prompts = prompts_for(fused, sources)
        time_fused(fused, prompts, sampling)  # warm-up: first calls allocate and pick kernels
        times = {"ideal": [], "fused": [], "naive": []}
        for repeat in range(args.repeats):
            times["ideal"].append(time_alone(fused, prompts, args.new_tokens))
            times["fused"].append(time_fused(fused, prompts, sampling))
            times["naive"].append(time_fused(naive, prompts, sampling))
            print(f"repeat {repeat + 1}/{args.repeats}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()),
                  flush=True)
        prompt_tokens = [int(m.encode(p, "cpu")["attention_mask"].sum(1).float().mean()) for m, p in
                         zip(fused.members, prompts)]
    generated = args.batch * args.new_tokens
    median = {name: statistics.median(values) for name, values in times.items()}
    return {
        "settings": vars(args),
        "models": [dict(zip(("name", "hidden", "layers", "heads", "weight"), m)) for m in MODELS],
        "mean_prompt_tokens": prompt_tokens,
        "seconds": times,
        "tokens_per_second": {name: generated / seconds for name, seconds in median.items()},
        "fused_vs_ideal": median["ideal"] / median["fused"],
        "fused_vs_naive": median["naive"] / median["fused"],
        "machine": {"cpu": platform.processor() or platform.machine(), "torch": torch.__version__,
                    "device": args.device},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    result = run(args)
    speed = result["tokens_per_second"]
    print(f"tokens/s (median of {args.repeats}): ideal {speed['ideal']:.0f}, fused {speed['fused']:.0f}, "
          f"naive {speed['naive']:.0f}")
    print(f"fused / ideal: {result['fused_vs_ideal']:.2f}x (target >= 0.9)")
    print(f"fused / naive: {result['fused_vs_naive']:.2f}x (target >= 5)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
