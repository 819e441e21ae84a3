"""Rule filters and language ID: our throughput against OpusFilter's, in one run, on one core.

    .venv/bin/python benchmarks/cleaning.py [--pairs 1000000] [--repeats 3]   # or: make bench-cleaning

Generates (once, cached in benchmarks/.cache/) a seeded synthetic en-ru corpus
and a fastText language identifier for it, then times on one pinned core:

* ours: ``apply_rule_filters`` (filters, decision table) with and without
  normalisation, with and without language ID;
* OpusFilter 3.3.1 in a subprocess under benchmarks/.venv-opusfilter (its
  dependencies clash with ours), same corpus files, same core, equivalent
  filters (``OPUSFILTER`` below), with and without cld2 language ID.

Each timing is the best of ``--repeats`` runs on freshly read strings (a
second pass over the same str objects would find their UTF-8 forms cached).
Prints pairs per second, the ratios, and per filter the share of pairs on
which the two tools' keep/reject decisions agree; writes them to
benchmarks/.cache/results.json. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

# One thread per library, before numpy loads: the comparison is per core.
for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_variable] = "1"

import numpy as np  # noqa: E402

from algharb.data.clean import apply_rule_filters  # noqa: E402
from algharb.data.filters import build_filter  # noqa: E402
from algharb.data.ingest import ParallelCorpus  # noqa: E402
from algharb.data.lid import load_identifier  # noqa: E402
from algharb.data.textstats import TextColumn, _codepoint_tables  # noqa: E402
from algharb.demo.lid import train_lid  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import synthetic  # noqa: E402

HERE = Path(__file__).parent
SRC_LANG, TGT_LANG = "en", "ru"

# Our filters, in chain order, and OpusFilter's equivalents (README: mapping).
OURS = {
    "length": {"min": 1, "max": 200},
    "length_ratio": {"max": 3, "slack": 0},  # OpusFilter has no slack for short segments
    "non_alphabetic": {"max_share": 0.6},
    "copy": {"max_overlap": 0.8},
}
OURS_LID = {"min_prob": 0.5}
OPUSFILTER = {
    "LengthFilter": {"min_length": 1, "max_length": 200, "unit": "word"},
    "LengthRatioFilter": {"threshold": 3, "unit": "word"},
    "AlphabetRatioFilter": {"threshold": 0.4, "exclude_whitespace": True},
    "SimilarityFilter": {"threshold": 0.8, "unit": "word", "lowercase": True},
    "LanguageIDFilter": {"languages": [SRC_LANG, TGT_LANG], "id_method": "cld2", "thresholds": [0.5, 0.5]},
}
# The benchmark's identifier: lid.176's dim/minn/maxn; fewer hash buckets
# (three small vocabularies need few n-gram slots, and it trains in seconds);
# plain softmax, which for three labels costs no more than lid.176's
# hierarchical one. Trained on held-out text (another seed).
LID_OPTIONS = {"dim": 16, "minn": 2, "maxn": 4, "bucket": 200_000, "epoch": 5, "lr": 0.5}
LID_LINES_PER_LANGUAGE = 30_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per setting; the best counts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--core", type=int, default=max(os.sched_getaffinity(0)), help="CPU to pin both tools to")
    parser.add_argument("--opusfilter-python", default=str(HERE / ".venv-opusfilter" / "bin" / "python"))
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    cache = HERE / ".cache"
    corpus_dir = make_corpus(cache, args.pairs, args.seed)
    model = make_lid(cache, args.seed)

    print(f"corpus: {args.pairs} {SRC_LANG}-{TGT_LANG} pairs ({corpus_dir}); core {args.core}; best of {args.repeats}")
    ours = time_ours(corpus_dir, model, args.repeats)
    decisions = cache / "decisions"
    decisions.mkdir(exist_ok=True)
    theirs = time_opusfilter(args, corpus_dir, decisions)
    agreement = agree(corpus_dir, model, decisions)
    results = {
        "pairs": args.pairs,
        "repeats": args.repeats,
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "ours": ours,
        "opusfilter": theirs,
        "agreement": agreement,
    }
    (cache / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print_report(results)


def make_corpus(cache: Path, pairs: int, seed: int) -> Path:
    """The synthetic corpus as line-aligned files (src, tgt, noise kind), generated once."""
    folder = cache / f"corpus-{pairs}-seed{seed}"
    if not (folder / "kinds.txt").exists():
        folder.mkdir(parents=True, exist_ok=True)
        srcs, tgts, kinds = synthetic.make_pairs(pairs, seed)
        for name, lines in ((f"src.{SRC_LANG}", srcs), (f"tgt.{TGT_LANG}", tgts), ("kinds.txt", kinds)):
            (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def make_lid(cache: Path, seed: int) -> Path:
    """The benchmark's fastText identifier (en, ru, de), trained once on held-out text."""
    model = cache / f"lid-seed{seed}.bin"
    if not model.exists():
        train_txt = cache / f"lid-train-seed{seed}.txt"
        lines = synthetic.lid_training_lines(LID_LINES_PER_LANGUAGE, seed + 1000)
        train_txt.write_text("\n".join(lines) + "\n", encoding="utf-8")
        train_lid(train_txt, model, seed=seed, **LID_OPTIONS)
    return model


def read_corpus(folder: Path) -> ParallelCorpus:
    """The corpus with fresh string objects (see the module docstring)."""
    srcs = (folder / f"src.{SRC_LANG}").read_text(encoding="utf-8").split("\n")[:-1]
    tgts = (folder / f"tgt.{TGT_LANG}").read_text(encoding="utf-8").split("\n")[:-1]
    return ParallelCorpus(srcs, tgts, list(range(1, len(srcs) + 1)))


def time_ours(corpus_dir: Path, model: Path, repeats: int) -> dict:
    """Best wall and CPU seconds of apply_rule_filters per setting, and the pairs it kept."""
    _codepoint_tables()  # once per process, like an import: not part of any run
    results = {}
    for lid in (False, True):
        filters = dict(OURS, **({"language_id": OURS_LID} if lid else {}))
        for normalize in (False, True):
            config = {"filters": filters, "normalize": {"enabled": normalize}}
            best_wall = best_cpu = float("inf")
            for _ in range(repeats):
                corpus = read_corpus(corpus_dir)
                # A new identifier per run: its token cache starts empty every time.
                identifier = load_identifier("fasttext", {"path": str(model)}) if lid else None
                wall, cpu = time.perf_counter(), time.process_time()
                table = apply_rule_filters(corpus, SRC_LANG, TGT_LANG, config, lid=identifier, progress=False)
                best_cpu = min(best_cpu, time.process_time() - cpu)
                best_wall = min(best_wall, time.perf_counter() - wall)
            key = ("rules+lid" if lid else "rules") + (" +normalize" if normalize else "")
            results[key] = {"wall_s": best_wall, "cpu_s": best_cpu, "kept": int(table["kept"].sum())}
            print(f"  ours {key}: {len(corpus) / best_wall:,.0f} pairs/s", flush=True)
    return results


def time_opusfilter(args, corpus_dir: Path, decisions: Path) -> dict:
    """Run benchmarks/opusfilter_side.py under OpusFilter's venv on the same files and core."""
    if not Path(args.opusfilter_python).exists():
        sys.exit(f"{args.opusfilter_python} not found: build it with `make bench-cleaning`")
    job = {
        "src": str(corpus_dir / f"src.{SRC_LANG}"),
        "tgt": str(corpus_dir / f"tgt.{TGT_LANG}"),
        "core": args.core,
        "repeats": args.repeats,
        "config": OPUSFILTER,
        "decisions": str(decisions),
    }
    script = HERE / "opusfilter_side.py"
    done = subprocess.run([args.opusfilter_python, str(script), json.dumps(job)], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"OpusFilter run failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for key in ("rules", "rules+lid"):
        print(f"  OpusFilter {key}: {args.pairs / result[key]['wall_s']:,.0f} pairs/s", flush=True)
    return result


def agree(corpus_dir: Path, model: Path, decisions: Path) -> dict:
    """Per filter (each alone on every pair, raw text) the share of equal keep/reject decisions."""
    corpus = read_corpus(corpus_dir)
    srcs, tgts = TextColumn(corpus.src), TextColumn(corpus.tgt)  # counted once for all filters
    identifier = load_identifier("fasttext", {"path": str(model)})
    ours_all = np.ones(len(corpus), dtype=bool)
    theirs_all = np.ones(len(corpus), dtype=bool)
    shares = {}
    for name, params in [*OURS.items(), ("language_id", OURS_LID)]:
        rule = build_filter(name, params, SRC_LANG, TGT_LANG, identifier)
        ours = rule.check_codes(srcs, tgts)[0] == 0
        theirs = np.frombuffer((decisions / f"{name}.opusfilter").read_bytes(), dtype=np.uint8).astype(bool)
        shares[name] = {
            "agree": float(np.mean(ours == theirs)),
            "ours_reject": int((~ours).sum()),
            "opusfilter_reject": int((~theirs).sum()),
        }
        ours_all &= ours
        theirs_all &= theirs
        if name == "copy":
            shares["all rules"] = {
                "agree": float(np.mean(ours_all == theirs_all)),
                "ours_reject": int((~ours_all).sum()),
                "opusfilter_reject": int((~theirs_all).sum()),
            }
    shares["all + language_id"] = {
        "agree": float(np.mean(ours_all == theirs_all)),
        "ours_reject": int((~ours_all).sum()),
        "opusfilter_reject": int((~theirs_all).sum()),
    }
    return shares


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def print_report(results: dict) -> None:
    pairs = results["pairs"]
    ours, theirs = results["ours"], results["opusfilter"]
    print(
        f"\n{pairs:,} pairs, one core of {results['cpu']}, best of {results['repeats']} "
        f"(OpusFilter {theirs['versions']['opusfilter']}, pycld2 {theirs['versions']['pycld2']})\n"
    )
    print("| filters | ours, pairs/s | OpusFilter, pairs/s | ratio | ratio (CPU time) |")
    print("|---|---:|---:|---:|---:|")
    for key in ("rules", "rules +normalize", "rules+lid", "rules+lid +normalize"):
        peer = theirs[key.split(" ")[0]]
        label = key.replace("rules+lid", "rules + language ID").replace(" +normalize", ", with our normalisation")
        print(
            f"| {label} | {pairs / ours[key]['wall_s']:,.0f} | {pairs / peer['wall_s']:,.0f} "
            f"| {peer['wall_s'] / ours[key]['wall_s']:.1f}x | {peer['cpu_s'] / ours[key]['cpu_s']:.1f}x |"
        )
    print("\n| filter | decisions agree | rejected by ours | rejected by OpusFilter |")
    print("|---|---:|---:|---:|")
    for name, row in results["agreement"].items():
        print(f"| {name} | {100 * row['agree']:.2f}% | {row['ours_reject']:,} | {row['opusfilter_reject']:,} |")


if __name__ == "__main__":
    main()
