"""OpusFilter's half of benchmarks/cleaning.py; runs under benchmarks/.venv-opusfilter.

Times OpusFilter's Python API on the in-memory list of pairs (filters chained
as FilterPipeline.filter does, each pair through the filters in order until
one rejects it), with the rule filters only and with cld2 language ID added.
Then it writes each filter's own keep/reject decision for every pair, for the
agreement table. Reads the configuration and paths from a JSON argument and
writes a JSON result; nothing here imports algharb.
"""

import json
import logging
import os
import sys
import time
from collections import deque
from importlib.metadata import version

from opusfilter.filters import AlphabetRatioFilter, LanguageIDFilter, LengthFilter, LengthRatioFilter, SimilarityFilter
from opusfilter.pipeline import FilterPipeline

logging.getLogger("opusfilter").setLevel(logging.ERROR)  # LanguageIDFilter warns that it is deprecated


def read_pairs(src_path, tgt_path):
    """Fresh string objects on every call, as a run reading the files would have."""
    with open(src_path, encoding="utf-8") as src, open(tgt_path, encoding="utf-8") as tgt:
        return list(zip(src.read().split("\n")[:-1], tgt.read().split("\n")[:-1]))


def build(config):
    """The rule filters and the language ID filter, configured as cleaning.py describes."""
    rules = [
        LengthFilter(**config["LengthFilter"]),
        LengthRatioFilter(**config["LengthRatioFilter"]),
        AlphabetRatioFilter(**config["AlphabetRatioFilter"]),
        SimilarityFilter(**config["SimilarityFilter"]),
    ]
    return rules, LanguageIDFilter(**config["LanguageIDFilter"])


def best_time(filters, job, repeats):
    """Best wall and CPU seconds of filtering the pairs, and the number kept."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):
        pairs = read_pairs(job["src"], job["tgt"])
        wall, cpu = time.perf_counter(), time.process_time()
        kept = deque(enumerate(FilterPipeline(filters).filter(pairs), 1), maxlen=1)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return {"wall_s": best_wall, "cpu_s": best_cpu, "kept": kept[0][0] if kept else 0}


def main():
    job = json.loads(sys.argv[1])
    os.sched_setaffinity(0, {job["core"]})
    rules, lid = build(job["config"])
    result = {
        "versions": {name: version(name) for name in ("opusfilter", "pycld2", "rapidfuzz", "regex")},
        "rules": best_time(rules, job, job["repeats"]),
        "rules+lid": best_time(rules + [lid], job, job["repeats"]),
    }
    pairs = read_pairs(job["src"], job["tgt"])
    for name, rule in zip(("length", "length_ratio", "non_alphabetic", "copy", "language_id"), rules + [lid]):
        with open(os.path.join(job["decisions"], f"{name}.opusfilter"), "wb") as handle:
            handle.write(bytes(map(int, rule.decisions(pairs))))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
