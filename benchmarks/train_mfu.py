"""Benchmark: SFT throughput and MFU of the project's training path against a plain PyTorch loop.

On one GPU, with a Qwen3-shaped model of random weights (Qwen3-1.7B's shape
by default: 28 layers, hidden 2048, 16 query / 8 key-value heads of 128,
FFN 6144, vocabulary 151,936, tied embeddings; 1.72B parameters):

(a) ``plain loop``, the peer: a hand-written PyTorch loop, SDPA attention,
    fused AdamW, bf16 autocast over fp32 weights, 4 × 2048 random tokens per
    step, the model's own loss over all tokens;
(b) ``algharb sft packed``: :func:`algharb.train.sft.build_sft_trainer`, the
    trainer the workflow's SFT steps run (TRL's SFTTrainer, completion-only
    loss through TRL's fused LM head), on translation-shaped examples packed
    (BFD, padding-free) into rows of 2048 tokens, 4 rows per step, bf16,
    Liger's kernels and flash attention when installed;
(c) ``algharb sft grouped``: the paper config's setting (no packing,
    ``group_by_length``, a batch of pairs padded to its longest);
(d) one short CPO run and one dynamic multi-reward run
    (:func:`algharb.train.cpo.run_cpo`, :func:`algharb.train.dynamic.run_dynamic`,
    LoRA r 64 / α 128) on the same model: seconds per step.

MFU = (6 · matmul parameters · tokens + causal attention FLOPs) / seconds /
peak (989 TFLOP/s dense bf16 on H100/H200), counted by
:mod:`algharb.train.throughput` for every setting, padding excluded. The
first ``--warmup`` steps of each setting are not timed. The ratio column is
tokens/s against the plain loop measured in the same run.

    python benchmarks/train_mfu.py                                  # H100/H200
    python benchmarks/train_mfu.py --shape tiny --device cpu --steps 3 --warmup 1   # smoke test

No download: the tokenizer is a byte-level BPE trained on the synthetic text
(:func:`algharb.demo.lm.build_tokenizer`) and the model is initialised at
random; random weights leave the timings unchanged.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from algharb.demo.lm import PAD_TOKEN, TURN_END, build_tokenizer  # noqa: E402
from algharb.io import read_jsonl  # noqa: E402
from algharb.train.throughput import ModelShape, peak_flops, summarise, training_flops  # noqa: E402

log = logging.getLogger("train_mfu")

SHAPES = {
    "qwen3-1.7b": dict(hidden_size=2048, intermediate_size=6144, num_hidden_layers=28, num_attention_heads=16,
                       num_key_value_heads=8, head_dim=128, vocab_size=151936),
    "tiny": dict(hidden_size=64, intermediate_size=192, num_hidden_layers=2, num_attention_heads=2,
                 num_key_value_heads=1, head_dim=32, vocab_size=1024),
}
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def synthetic_rows(n: int, seed: int, mean_words: float) -> list[dict]:
    """Translation-shaped rows: source and target of similar, log-normally spread word counts."""
    rng = random.Random(seed)
    words = ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))) for _ in range(3000)]
    rows = []
    for _ in range(n):
        length = max(3, min(int(rng.lognormvariate(0, 0.6) * mean_words), 6 * int(mean_words)))
        src = " ".join(rng.choice(words) for _ in range(length))
        tgt = " ".join(rng.choice(words) for _ in range(max(2, int(length * rng.uniform(0.8, 1.25)))))
        rows.append({"src": src, "tgt": tgt, "src_lang": "en", "tgt_lang": "de"})
    return rows


def build_model(root: Path, shape: dict, rows: list[dict], device: str, seed: int) -> Path:
    """A random Qwen3 of ``shape`` saved in fp32 with a BPE tokenizer trained on ``rows``."""
    from transformers import GenerationConfig, PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

    texts = [row["src"] for row in rows[:2000]] + [row["tgt"] for row in rows[:2000]]
    build_tokenizer(texts, root / "tokenizer", vocab_size=min(shape["vocab_size"], 4000))
    tokenizer = PreTrainedTokenizerFast.from_pretrained(root / "tokenizer")
    eos, pad = tokenizer.convert_tokens_to_ids(TURN_END), tokenizer.convert_tokens_to_ids(PAD_TOKEN)
    config = Qwen3Config(**{**shape, "vocab_size": max(shape["vocab_size"], len(tokenizer))},
                         max_position_embeddings=8192, rope_theta=1_000_000.0, tie_word_embeddings=True,
                         bos_token_id=None, eos_token_id=eos, pad_token_id=pad, dtype="float32")
    torch.manual_seed(seed)
    with torch.device(device):
        model = Qwen3ForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=eos, pad_token_id=pad)
    model.save_pretrained(root / "model")
    tokenizer.save_pretrained(root / "model")
    del model
    release_memory()
    return root / "model"


def release_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_memory_gb() -> float | None:
    return round(torch.cuda.max_memory_allocated() / 2**30, 1) if torch.cuda.is_available() else None


def plain_loop(model_dir: Path, batch: int, seq_len: int, steps: int, warmup: int, device: str, seed: int) -> dict:
    """The peer: SDPA, fused AdamW, bf16 autocast, ``batch × seq_len`` random tokens per step."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="sdpa")
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, betas=(0.9, 0.99), fused=device == "cuda")
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, model.config.vocab_size, (batch, seq_len), generator=generator).to(device)
    shape, rows = ModelShape.of(model), []
    for step in range(1, warmup + steps + 1):
        started = clock()
        with torch.autocast(device_type=device, dtype=torch.bfloat16):
            loss = model(input_ids=ids, labels=ids, use_cache=False).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds = clock() - started
        flops = training_flops(shape, batch * seq_len, batch * seq_len**2)
        rows.append({"step": step, "seconds": seconds, "tokens": batch * seq_len, "tflops_per_s": flops / seconds / 1e12})
    result = {**summarise(rows, warmup, peak_flops()), "matmul_params": shape.matmul_params}
    result["peak_memory_gb"] = peak_memory_gb()
    del model, optimizer, ids
    release_memory()
    return result


def clock() -> float:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter()


def speed_hparams(args, device: str) -> dict:
    """Trainer settings every algharb run here shares: bf16 on GPU, Liger and flash attention if installed."""
    on_gpu = device == "cuda"
    flash = on_gpu and importlib.util.find_spec("flash_attn") is not None
    return {
        "bf16": on_gpu,
        "use_liger_kernel": on_gpu and importlib.util.find_spec("liger_kernel") is not None,
        "attn_implementation": "flash_attention_2" if flash else "sdpa",
        "learning_rate": 1e-5,
        "lr_scheduler_type": "constant",
        "warmup_steps": 0,
        "save_steps": 100_000,  # no checkpoint inside the timed steps
        "threads": None if on_gpu else 2,
        "seed": args.seed,
    }


def algharb_sft(model_dir: Path, rows: list[dict], work: Path, name: str, hparams: dict, warmup: int) -> dict:
    """Steps of the workflow's SFT trainer; tokens/s and MFU from its own throughput log."""
    from algharb.train.sft import build_sft_trainer

    trainer = build_sft_trainer(model_dir, rows, work / name, hparams, throughput_log=work / f"{name}.jsonl")
    trainer.train()
    steps = read_jsonl(work / f"{name}.jsonl")
    result = summarise(steps, warmup, peak_flops())
    result["peak_memory_gb"] = peak_memory_gb()
    result["settings"] = {key: hparams[key] for key in ("packing", "group_by_length", "use_liger_kernel",
                                                         "attn_implementation", "max_length", "per_device_batch_size")
                          if key in hparams}
    del trainer
    release_memory()
    return result


def preference_runs(model_dir: Path, rows: list[dict], work: Path, base: dict, steps: int) -> dict:
    """Seconds per step of a CPO run and a dynamic-reward run (LoRA r 64, α 128), model saving excluded."""
    from algharb.train.cpo import run_cpo
    from algharb.train.dynamic import run_dynamic

    rng = random.Random(0)
    pools = []
    for index, row in enumerate(rows):
        other = rows[rng.randrange(len(rows))]["tgt"]
        pools.append({"id": str(index), "src": row["src"], "src_lang": row["src_lang"], "tgt_lang": row["tgt_lang"],
                      "candidates": [{"text": row["tgt"], "origin": "teacher", "qe": 0.9},
                                     {"text": other, "origin": "self", "qe": 0.3},
                                     {"text": row["tgt"][: len(row["tgt"]) // 2], "origin": "self", "qe": 0.5}]})
    pairs = [{"src": p["src"], "src_lang": p["src_lang"], "tgt_lang": p["tgt_lang"],
              "chosen": p["candidates"][0]["text"], "rejected": p["candidates"][1]["text"]} for p in pools]
    hparams = {**base, "lora_r": 64, "lora_alpha": 128, "max_steps": steps, "max_length": 1024,
               "per_device_batch_size": 8, "global_batch_size": 8}
    results = {}
    for name, run, data in (("cpo", run_cpo, pairs), ("dynamic", run_dynamic, pools)):
        started = clock()
        run(model_dir, data, work / f"{name}_out", work / name, hparams, throughput_log=work / f"{name}.jsonl")
        results[name] = {
            **summarise(read_jsonl(work / f"{name}.jsonl"), 1, None),
            "wall_s_with_load_and_merge": round(clock() - started, 1),
            "peak_memory_gb": peak_memory_gb(),
        }
        release_memory()
    return results


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default=None, help="default: qwen3-1.7b (GPU only)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per setting")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before them")
    parser.add_argument("--batch", type=int, default=4, help="rows per step (packed rows / the plain loop's)")
    parser.add_argument("--seq-len", type=int, default=2048)
    parser.add_argument("--mean-words", type=float, default=28.0, help="mean words per sentence")
    parser.add_argument("--preference-steps", type=int, default=3, help="CPO / dynamic steps (0: skip)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / ".cache" / "train_mfu.json")
    args = parser.parse_args(argv)
    if args.shape is None:
        if args.device != "cuda":
            parser.error("no CUDA device: this benchmark targets a GPU; for a smoke run on the CPU pass "
                         "--shape tiny --device cpu --steps 3 --warmup 1")
        args.shape = "qwen3-1.7b"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    total_steps = args.warmup + args.steps
    with tempfile.TemporaryDirectory(prefix="train_mfu_") as tmp:
        work = Path(tmp)
        rows = synthetic_rows(total_steps * args.batch * args.seq_len // 20, args.seed, args.mean_words)
        model_dir = build_model(work, SHAPES[args.shape], rows, args.device, args.seed)
        results = {"shape": args.shape, "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
                   "torch": torch.__version__, "argv": sys.argv[1:] if argv is None else list(argv)}
        results["plain_loop"] = plain_loop(model_dir, args.batch, args.seq_len, args.steps, args.warmup,
                                           args.device, args.seed)
        base = speed_hparams(args, args.device)
        packed = {**base, "packing": True, "max_length": args.seq_len, "per_device_batch_size": args.batch,
                  "global_batch_size": args.batch, "max_steps": total_steps}
        results["algharb_sft_packed"] = algharb_sft(model_dir, rows, work, "packed", packed, args.warmup)
        # Paper setting: pairs, not packed rows; as many pairs per step as fill about the same tokens.
        pairs_per_step = max(8, args.batch * args.seq_len // 128 // 8 * 8)
        grouped = {**base, "group_by_length": True, "max_length": 1024, "per_device_batch_size": pairs_per_step,
                   "global_batch_size": pairs_per_step, "max_steps": total_steps}
        results["algharb_sft_grouped"] = algharb_sft(model_dir, rows, work, "grouped", grouped, args.warmup)
        if args.preference_steps:
            results.update(preference_runs(model_dir, rows[:256], work, base, args.preference_steps))
    report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {args.out}")
    return results


def report(results: dict) -> None:
    peer = results["plain_loop"]["tokens_per_s"]
    print(f"\n{results['shape']} on {results['device']} (torch {results['torch']})")
    print(f"{'setting':<22}{'tokens/s':>12}{'MFU':>8}{'peak GB':>9}{'× plain loop':>14}")
    for name in ("plain_loop", "algharb_sft_packed", "algharb_sft_grouped"):
        row = results[name]
        mfu = f"{row['mfu']:.1%}" if row["mfu"] is not None else "n/a"
        memory = row["peak_memory_gb"] if row["peak_memory_gb"] is not None else "n/a"
        print(f"{name:<22}{row['tokens_per_s']:>12,.0f}{mfu:>8}{memory:>9}{row['tokens_per_s'] / peer:>14.2f}")
    for name in ("cpo", "dynamic"):
        if name in results:
            row = results[name]
            print(f"{name} step: {row['seconds_per_step']:.3f} s/step over {row['steps_timed']} step(s); "
                  f"whole run with model load and merge {row['wall_s_with_load_and_merge']} s")


if __name__ == "__main__":
    main()
