"""Benchmark: chrF-utility MBR on CPU, ours against mbrs (default and fastchrf) and sacrebleu.

One seeded workload, one run, every method pinned to the same core(s):

(a) ``ours``: :func:`algharb.decode.utility.chrf.chrf_matrix` (all pairwise
    sentence chrF scores at once, equal to sacrebleu's) + ``mbr_scores`` +
    ``argmax_earliest`` from :mod:`algharb.decode.mbr`, end to end from the candidate
    list to the selected index; self-comparison excluded (the pipeline's
    default) and, for the comparison with mbrs, included (mbrs' setting);
(b) ``mbrs``: ``DecoderMBR`` + ``MetricChrF()`` in its default setting
    (sacrebleu per pair, a process pool of 8 workers per call);
(c) ``mbrs+fastchrf``: the same with ``MetricChrF(fastchrf=True)`` (Rust);
(d) ``sacrebleu loop``: the plain N×N loop over ``CHRF().sentence_score``.

mbrs lives in its own virtual environment (``benchmarks/.venv-mbrs``, see
``benchmarks/requirements-mbrs.txt``); this script runs itself there as a
subprocess on the same inputs (a temporary JSON file), and the subprocess
reports its selections and timings. The slow methods, (b) and (d), are timed
on the first ``--slow-sentences`` sentences and reported per sentence.

Workload: 100 source sentences (German and Russian word salads over the
lexicon of ``benchmarks/synthetic.py``, log-normal lengths around 18 words);
per sentence, sampled-looking candidates: the reference itself plus variants
with a few word substitutions, deletions, insertions and swaps, and repeats
of earlier candidates (as sampling produces them). N = 64 uses the first 64
of the N = 100 candidates.

    python benchmarks/mbr.py --cores 1
    python benchmarks/mbr.py --cores 2 --json results.json
    python benchmarks/mbr.py --cores 2 --gpu     # also benchmarks/mbr_comet.py's COMET run, if CUDA is there
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# No numpy at module level: the thread settings below must precede its import.
HERE = Path(__file__).resolve().parent
MBRS_PYTHON = HERE / ".venv-mbrs" / "bin" / "python"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
SLOW_SETTINGS = ("mbrs", "sacrebleu loop")


def pin(cpus: list[int]) -> None:
    """Pin this process (and its children) to ``cpus``; thread pools sized to match."""
    os.sched_setaffinity(0, cpus)
    for name in THREAD_VARS:
        os.environ[name] = str(len(cpus))


def choose_cpus(cores: int) -> list[int]:
    allowed = sorted(os.sched_getaffinity(0))
    if cores > len(allowed):
        raise SystemExit(f"--cores {cores}: only {len(allowed)} CPU(s) available ({allowed})")
    return allowed[:cores]


# ---------------------------------------------------------------- workload

def make_workload(n_sentences: int, n_candidates: int, seed: int = 0, mean_words: float = 18.0,
                  repeat_share: float = 0.25) -> list[list[str]]:
    """Seeded candidate lists that look sampled: variants of a reference, with repeats."""
    import numpy as np

    sys.path.insert(0, str(HERE))
    from synthetic import DE, RU, WEIGHTS  # noqa: E402  (the cleaning benchmark's lexicon)

    rng = np.random.default_rng(seed)
    lists = []
    for s in range(n_sentences):
        lexicon = DE if s % 2 == 0 else RU
        length = int(np.clip(np.rint(rng.lognormal(np.log(mean_words), 0.45)), 5, max(45, 2.5 * mean_words)))
        reference = [w for w in lexicon[rng.choice(len(lexicon), size=length, p=WEIGHTS)] if w != "-"]
        end = str(rng.choice([".", ".", ".", "?", "!"]))
        candidates: list[str] = []
        for c in range(n_candidates):
            if candidates and rng.random() < repeat_share:  # a repeat, favouring the frequent early ones
                candidates.append(candidates[min(int(rng.zipf(1.6)) - 1, len(candidates) - 1)])
                continue
            words = list(reference)
            for _ in range(int(rng.poisson(2.0)) if c else 0):
                op, j = int(rng.integers(5)), int(rng.integers(max(1, len(words))))
                if op <= 1 and words:
                    words[j] = lexicon[rng.choice(len(lexicon), p=WEIGHTS)]
                elif op == 2 and len(words) > 1:
                    del words[j]
                elif op == 3:
                    words.insert(j, lexicon[rng.choice(len(lexicon), p=WEIGHTS)])
                elif j + 1 < len(words):
                    words[j], words[j + 1] = words[j + 1], words[j]
            text = " ".join(w for w in words if w != "-")
            candidates.append(text[:1].upper() + text[1:] + (end if rng.random() < 0.95 else ""))
        lists.append(candidates)
    return lists


def describe(lists: list[list[str]]) -> dict:
    import numpy as np

    return {"sentences": len(lists), "candidates": len(lists[0]),
            "distinct_share": float(np.mean([len(set(c)) / len(c) for c in lists])),
            "chars_per_candidate": float(np.mean([len(x) for c in lists for x in c]))}


# ---------------------------------------------------------------- timing

def best_time(fn, lists, repeats: int, warmup: int = 2) -> tuple[float, list]:
    """Best wall time over ``repeats`` passes over ``lists`` (after a warm-up), and the results."""
    for candidates in lists[:warmup]:
        fn(candidates)
    best, results = float("inf"), []
    for _ in range(repeats):
        start = time.perf_counter()
        results = [fn(candidates) for candidates in lists]
        best = min(best, time.perf_counter() - start)
    return best, results


def run_ours(lists, repeats: int, include_self: bool, threads: int = 1) -> dict:
    """chrf_matrix + mbr_scores + argmax_earliest per sentence; ``threads`` > 1: sentences on a thread pool."""
    from concurrent.futures import ThreadPoolExecutor

    from algharb.decode.mbr import argmax_earliest, mbr_scores
    from algharb.decode.utility.chrf import chrf_matrix

    def decode(candidates):
        return argmax_earliest(mbr_scores(chrf_matrix(candidates), include_self=include_self, aggregate="mean"))

    if threads == 1:
        seconds, picks = best_time(decode, lists, repeats)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(decode, lists[:4]))
            seconds = float("inf")
            for _ in range(repeats):
                start = time.perf_counter()
                picks = list(pool.map(decode, lists))
                seconds = min(seconds, time.perf_counter() - start)
    return {"seconds_per_sentence": seconds / len(lists), "sentences": len(lists), "idx": picks}


def run_sacrebleu_loop(lists, repeats: int) -> dict:
    import numpy as np
    from sacrebleu.metrics import CHRF

    from algharb.decode.mbr import argmax_earliest, mbr_scores

    metric = CHRF()

    def decode(candidates):
        matrix = np.array([[metric.sentence_score(h, [r]).score / 100 for r in candidates] for h in candidates])
        return argmax_earliest(mbr_scores(matrix, include_self=False, aggregate="mean"))

    seconds, picks = best_time(decode, lists, repeats, warmup=1)
    return {"seconds_per_sentence": seconds / len(lists), "sentences": len(lists), "idx": picks}


# ---------------------------------------------------------------- mbrs (subprocess)

def mbrs_worker(input_path: str, output_path: str) -> int:
    """Runs inside benchmarks/.venv-mbrs: time DecoderMBR + MetricChrF, report selections."""
    import warnings

    warnings.filterwarnings("ignore")
    spec = json.loads(Path(input_path).read_text())
    pin(spec["cpus"])
    import torch
    from mbrs.decoders import DecoderMBR
    from mbrs.metrics import MetricChrF

    torch.set_num_threads(len(spec["cpus"]))
    out: dict = {"versions": {}, "runs": [], "matrices": {}}
    for name in ("mbrs", "fastchrf", "sacrebleu", "torch"):
        try:
            from importlib.metadata import version
            out["versions"][name] = version(name)
        except Exception:  # noqa: BLE001
            out["versions"][name] = None
    for setting, fast in (("mbrs+fastchrf", True), ("mbrs", False)):
        metric = MetricChrF(MetricChrF.Config(fastchrf=fast))
        decoder = DecoderMBR(DecoderMBR.Config(), metric)

        def decode(candidates, decoder=decoder):
            return int(decoder.decode(candidates, candidates, nbest=1).idx[0])

        for n, lists in spec["lists"].items():
            slow = setting in SLOW_SETTINGS
            subset = lists[: spec["slow_sentences"]] if slow else lists
            repeats = spec["slow_repeats"] if slow else spec["repeats"]
            seconds, picks = best_time(decode, subset, repeats, warmup=1 if slow else 2)
            out["runs"].append({"method": setting, "n": int(n), "seconds_per_sentence": seconds / len(subset),
                                "sentences": len(subset), "repeats": repeats, "idx": picks})
        # the utility matrices of a few sentences, outside the timing, to compare scores
        n_max = max(spec["lists"], key=int)
        out["matrices"][setting] = [metric.pairwise_scores(c, c).double().tolist()
                                    for c in spec["lists"][n_max][: spec["matrix_sentences"]]]
    Path(output_path).write_text(json.dumps(out))
    return 0


def run_mbrs(workloads: dict, cpus, args) -> dict | None:
    python = Path(args.mbrs_python)
    if not python.exists():
        print(f"mbrs skipped: {python} is missing (make it with: python3.11 -m venv {HERE / '.venv-mbrs'} && "
              f"{HERE / '.venv-mbrs/bin/pip'} install -r {HERE / 'requirements-mbrs.txt'})")
        return None
    with tempfile.TemporaryDirectory(prefix="mbr_bench_") as tmp:
        inputs, outputs = Path(tmp) / "inputs.json", Path(tmp) / "outputs.json"
        inputs.write_text(json.dumps({
            "cpus": cpus, "lists": {str(n): lists for n, lists in workloads.items()},
            "repeats": args.repeats, "slow_repeats": args.slow_repeats, "slow_sentences": args.slow_sentences,
            "matrix_sentences": 2,
        }))
        subprocess.run([str(python), str(Path(__file__).resolve()), "--mbrs-worker", str(inputs), str(outputs)],
                       check=True, env=dict(os.environ))
        return json.loads(outputs.read_text())


# ---------------------------------------------------------------- comparison and report

def agreement(picks: list[int], reference: list[int], lists) -> dict:
    """Share of sentences with the same selected index, and with the same selected text."""
    k = len(picks)
    same_idx = sum(a == b for a, b in zip(picks, reference[:k]))
    same_text = sum(c[a] == c[b] for a, b, c in zip(picks, reference[:k], lists))
    return {"same_index": same_idx / k, "same_text": same_text / k, "sentences": k}


def explain(picks, ours_picks, lists, include_self: bool) -> dict:
    """Classify disagreements by the gap in our exact (float64) MBR scores."""
    from algharb.decode.mbr import mbr_scores
    from algharb.decode.utility.chrf import chrf_matrix

    kinds = {"duplicate_text": 0, "near_tie_1e-6": 0, "real": 0}
    gaps = []
    for theirs, ours, candidates in zip(picks, ours_picks, lists):
        if theirs == ours:
            continue
        if candidates[theirs] == candidates[ours]:
            kinds["duplicate_text"] += 1
            continue
        scores = mbr_scores(chrf_matrix(candidates), include_self=include_self, aggregate="mean")
        gap = float(scores[ours] - scores[theirs])
        gaps.append(gap)
        kinds["near_tie_1e-6" if abs(gap) <= 1e-6 * max(1.0, abs(scores[ours])) else "real"] += 1
    kinds["max_gap"] = max(gaps, default=0.0)
    return kinds


def format_table(rows: list[dict]) -> str:
    head = f"{'method':<28} {'N':>4} {'cores':>5} {'s/sentence':>11} {'vs ours':>8} {'agree idx':>9} " \
           f"{'agree text':>10} {'timed':>6}"
    lines = [head, "-" * len(head)]
    for r in rows:
        agree = r.get("agreement") or {}
        idx = f"{agree['same_index']:.0%}" if agree else "-"
        text = f"{agree['same_text']:.0%}" if agree else "-"
        lines.append(f"{r['method']:<28} {r['n']:>4} {r['cores']:>5} {r['seconds_per_sentence']:>11.5f} "
                     f"{r['ratio_vs_ours']:>7.1f}x {idx:>9} {text:>10} {r['sentences']:>6}")
    return "\n".join(lines)


def run_gpu(args) -> list[dict] | None:
    path = HERE / "mbr_comet.py"
    if not path.exists():
        print(f"GPU part skipped: {path} is missing")
        return None
    try:
        import torch
    except ImportError as error:
        print(f"GPU part skipped: torch is not importable ({error})")
        return None
    if not torch.cuda.is_available():
        print("GPU part skipped: CUDA is not available on this machine")
        return None
    spec = importlib.util.spec_from_file_location("mbr_comet", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["mbr_comet"] = module
    spec.loader.exec_module(module)
    rows = module.run(n_candidates=100, n_sentences=args.gpu_sentences, device="cuda")
    print("\nGPU: COMET-utility MBR (benchmarks/mbr_comet.py), N=100")
    print(module.format_table(rows) if hasattr(module, "format_table") else json.dumps(rows, indent=1))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cores", type=int, default=1, help="pin everything to the first K allowed CPUs")
    parser.add_argument("--n", type=int, nargs="+", default=[64, 100], help="candidates per sentence")
    parser.add_argument("--sentences", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3, help="passes over all sentences; the best is reported")
    parser.add_argument("--slow-sentences", type=int, default=10,
                        help="sentences timed for mbrs default and the sacrebleu loop")
    parser.add_argument("--slow-repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mean-words", type=float, default=18.0, help="words per reference (log-normal median)")
    parser.add_argument("--repeat-share", type=float, default=0.25,
                        help="chance that a candidate repeats an earlier one (sampling duplicates)")
    parser.add_argument("--mbrs-python", default=str(MBRS_PYTHON))
    parser.add_argument("--skip-mbrs", action="store_true")
    parser.add_argument("--gpu", action="store_true",
                        help="then also run benchmarks/mbr_comet.py (COMET MBR, N=100) on CUDA, unpinned")
    parser.add_argument("--gpu-sentences", type=int, default=16)
    parser.add_argument("--json", help="write all rows and details here")
    parser.add_argument("--mbrs-worker", nargs=2, metavar=("INPUT", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.mbrs_worker:
        return mbrs_worker(*args.mbrs_worker)

    cpus = choose_cpus(args.cores)
    all_cpus = sorted(os.sched_getaffinity(0))
    saved_env = {name: os.environ.get(name) for name in THREAD_VARS}
    pin(cpus)
    import numpy as np  # noqa: F401  (after pinning: BLAS sizes its pool now)

    n_max = max(args.n)
    full = make_workload(args.sentences, n_max, args.seed, args.mean_words, args.repeat_share)
    workloads = {n: [c[:n] for c in full] for n in sorted(args.n)}
    load = os.getloadavg()
    print(f"CPUs {cpus}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"threads per pool {os.environ['OPENBLAS_NUM_THREADS']}")
    for n, lists in workloads.items():
        print(f"workload N={n}: {json.dumps(describe(lists))}")

    ours, ours_self, ours_threads, loop = {}, {}, {}, {}
    for n, lists in workloads.items():
        ours[n] = run_ours(lists, args.repeats, include_self=False)
        ours_self[n] = run_ours(lists, args.repeats, include_self=True)
        if len(cpus) > 1:
            ours_threads[n] = run_ours(lists, args.repeats, include_self=False, threads=len(cpus))
        loop[n] = run_sacrebleu_loop(lists[: args.slow_sentences], args.slow_repeats)
    mbrs = None if args.skip_mbrs else run_mbrs(workloads, cpus, args)

    rows = []
    for n, lists in workloads.items():
        base = ours[n]["seconds_per_sentence"]

        def row(method, result, reference=None):
            out = {"method": method, "n": n, "cores": len(cpus), "seconds_per_sentence": result["seconds_per_sentence"],
                   "ratio_vs_ours": result["seconds_per_sentence"] / base, "sentences": result["sentences"],
                   "agreement": None if reference is None else agreement(result["idx"], reference["idx"], lists)}
            rows.append(out)
            return out

        row("ours (excl. self)", ours[n])
        row("ours (incl. self, = mbrs)", ours_self[n])
        if n in ours_threads:
            row(f"ours (excl. self, {len(cpus)} threads)", ours_threads[n], ours[n])
        for run in (mbrs or {}).get("runs", []):
            if run["n"] == n:
                out = row(run["method"], run, ours_self[n])
                out["agreement_with_ours_excl_self"] = agreement(run["idx"], ours[n]["idx"], lists)
                out["disagreements"] = explain(run["idx"], ours_self[n]["idx"], lists, include_self=True)
        row("sacrebleu N×N loop", loop[n], ours[n])

    print()
    print(format_table(rows))
    print("agreement: share of sentences where the method selects the same candidate index (text) as ours;")
    print("  mbrs rows against ours with self-comparison included (mbrs' setting), the sacrebleu loop")
    print("  against ours excluding it (the pipeline's setting). 'timed': sentences timed per pass.")
    for r in rows:
        if "disagreements" in r:
            print(f"  {r['method']} N={r['n']}: vs ours excl. self {r['agreement_with_ours_excl_self']['same_index']:.0%} "
                  f"same index; disagreements vs ours incl. self: {r['disagreements']}")
    end_load = os.getloadavg()
    print(f"  load average at the end: {end_load[0]:.2f} {end_load[1]:.2f} {end_load[2]:.2f} "
          "(other jobs on the machine inflate the timings)")
    details = {"cpus": cpus, "load_average": load, "load_average_end": end_load, "workload": {n: describe(l) for n, l in workloads.items()},
               "rows": rows}
    if mbrs:
        details["mbrs_versions"] = mbrs["versions"]
        lists = workloads[n_max]
        from algharb.decode.utility.chrf import chrf_matrix

        for setting, matrices in mbrs["matrices"].items():
            diffs = [float(np.max(np.abs(np.asarray(m) - 100 * chrf_matrix(c)))) for m, c in zip(matrices, lists)]
            details[f"max_abs_score_diff_{setting}"] = max(diffs)
            print(f"  max |{setting} pairwise score − ours×100| on {len(diffs)} sentences (N={n_max}): {max(diffs):.2e}")
        print(f"  versions in the mbrs venv: {mbrs['versions']}")
    status = 0
    if args.gpu:
        # the GPU part is not a CPU comparison: give it the whole machine back
        os.sched_setaffinity(0, all_cpus)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        try:
            details["gpu"] = run_gpu(args)
        except Exception as error:  # noqa: BLE001  (report and fail after the CPU table)
            print(f"GPU part failed: {type(error).__name__}: {error}")
            status = 1
    if args.json:
        Path(args.json).write_text(json.dumps(details, indent=1, default=str))
    return status


if __name__ == "__main__":
    sys.exit(main())
