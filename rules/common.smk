# Config validation, wildcard constraints and input functions shared by all stages.

import json
import re
from pathlib import Path

from algharb.config import validate_config
from algharb.config.sections import DemoConfig, WorkflowConfig
from algharb.data.ingest import is_plain_text_spec, normalize_spec, spec_paths
from algharb.data.shards import shard_ids
from algharb.demo import layout as demo_layout
from algharb.jobs import pin_hash_seed
from algharb.prompts import split_pair
from algharb.metrics import metric_model_entries

validate_config(config, source=", ".join(map(str, workflow.configfiles)) or "config")
# Every section parsed once into typed objects that hold every default; rules
# pass each job only the values it uses, so a config change reruns exactly the
# jobs it affects.
CFG = WorkflowConfig.parse(config)
# Two runs with one seed must write identical bytes: every job gets the same
# Python hash seed (set iteration order), derived from the config.
pin_hash_seed(CFG.seed)

PAIRS = CFG.pairs
SOURCE_LANGS = CFG.source_langs
# Rows of the ablation table (Table 2 of the paper), in order.
PAPER_SYSTEMS = ["two_step_sft", "two_step_rl", "hybrid_decode"]
# The trained stage whose greedy output each baseline row reports.
SYSTEM_MODEL = {"two_step_sft": "sft2", "two_step_rl": "dynamic"}
# Configured models decoded and evaluated without training: row → its config and decoding.
MODEL_ROW_CONFIGS = CFG.evaluate.model_rows()
MODEL_ROWS = {
    row: (MODEL_ROW_CONFIGS[name], decoding)
    for name in MODEL_ROW_CONFIGS
    for row, decoding in MODEL_ROW_CONFIGS[name].rows(name).items()
}
# Rows this workflow decodes itself, on every direction.
SYSTEMS = PAPER_SYSTEMS + list(MODEL_ROWS)
GREEDY_SYSTEMS = list(SYSTEM_MODEL) + [
    r for r, (_, d) in MODEL_ROWS.items() if d == "greedy"
]
HYBRID_SYSTEMS = ["hybrid_decode"] + [
    r for r, (_, d) in MODEL_ROWS.items() if d == "hybrid"
]
# Outputs of other systems the user drops in (the paper's GPT-4o, Claude rows).
EXTERNAL = CFG.evaluate.external
# Test sets read from a WMT JSONL release: submission files for our rows, and the
# release's official systems (evaluate.wmt_systems) as extra rows.
WMT_PAIRS = [
    pair
    for pair in PAIRS
    if normalize_spec(CFG.data.test[pair], f"data.test.{pair}")["format"] == "wmt-jsonl"
]
WMT_SYSTEMS = CFG.evaluate.wmt_system_pairs(WMT_PAIRS)
# Directions of each row that is not decoded here.
OTHER_ROWS = {**EXTERNAL, **WMT_SYSTEMS}
ALL_SYSTEMS = SYSTEMS + sorted(EXTERNAL) + list(WMT_SYSTEMS)
_clashing = sorted({s for s in ALL_SYSTEMS if ALL_SYSTEMS.count(s) > 1})
if _clashing:
    raise ValueError(
        f"evaluate.models / external / wmt_systems: row name(s) {_clashing} used twice "
        f"(the paper's rows are {PAPER_SYSTEMS}; a model's hybrid row is <name>_hybrid)"
    )
# Every (system, direction) cell of the ablation table that has an output to score.
EVAL_CELLS = [
    [system, pair]
    for system in ALL_SYSTEMS
    for pair in PAIRS
    if system in SYSTEMS or pair in OTHER_ROWS[system]
]
if CFG.evaluate.significance.baseline not in ALL_SYSTEMS:
    raise ValueError(
        f"evaluate.significance.baseline: {CFG.evaluate.significance.baseline!r} is not a row of the "
        f"ablation table (rows: {', '.join(ALL_SYSTEMS)})"
    )
# Demo only: which raw lines are injected noise (the filters' ground truth).
NOISE_LABELS = CFG.data.noise_labels
THREADS = CFG.resources.threads


wildcard_constraints:
    pair="[A-Za-z_]+-[A-Za-z_]+",
    lang="[A-Za-z_]+",
    system="|".join(re.escape(s) for s in ALL_SYSTEMS),
    stage="sft1|sft2|cpo|dynamic",
    shard="[0-9]+",
    section="dev|test",


def src_lang(wildcards):
    return split_pair(wildcards.pair)[0]


def tgt_lang(wildcards):
    return split_pair(wildcards.pair)[1]


def model_path(name):
    """Input for a configured model: its path when local, nothing for a hub id."""
    model = CFG.models[name]
    return [model["path"]] if "path" in model else []


def model_spec(name):
    return CFG.models[name]


# The models entries of metrics that score with a model of their own (bertscore).
METRIC_MODEL_ENTRIES = metric_model_entries(CFG.evaluate.metrics)


def policy_spec(stage):
    """A trained stage as a generator entry, decoded with the configured backend."""
    return {"path": trained_model(stage), "backend": CFG.decode.backend}


def row_generator(system):
    """The generator entry that decodes a row: a trained stage, or a configured model."""
    if system in SYSTEM_MODEL:
        return policy_spec(SYSTEM_MODEL[system])
    if system == "hybrid_decode":
        return policy_spec("dynamic")
    return MODEL_ROWS[system][0].model


def row_model_input(wildcards):
    """Input files of a row's model: the trained stage, a configured local model, or none (hub id)."""
    spec = row_generator(wildcards.system)
    return [spec["path"]] if "path" in spec else []


def greedy_sampling(wildcards):
    row = MODEL_ROWS.get(wildcards.system)
    sampling = row[0].sampling if row and row[0].sampling is not None else None
    return as_json(CFG.decode.baseline_sampling if sampling is None else sampling)


def row_candidates(system):
    """The candidates section of a hybrid row (a model row may set its own N and sampling)."""
    row = MODEL_ROWS.get(system)
    if row and row[0].candidates is not None:
        return row[0].candidates
    return CFG.decode.candidates


def pair_files(section, pair):
    """Plain line-aligned files of a dev/test set: the configured ones, or their conversion."""
    spec = CFG.data.split(section)[pair]
    if is_plain_text_spec(spec):
        return {"src": spec["src"], "tgt": spec["tgt"]}
    return {
        "src": f"results/data/{pair}/{section}.src",
        "tgt": f"results/data/{pair}/{section}.tgt",
    }


def corpus_inputs(wildcards):
    """The raw files of a direction's training corpus, whatever their format."""
    return spec_paths(CFG.data.corpora[wildcards.pair])


def shard_files(name):
    """Input function: file ``name`` of every shard of the direction (after sharding)."""

    def files(wildcards):
        raw = checkpoints.shard_corpus.get(pair=wildcards.pair).output[0]
        return [
            f"results/data/{wildcards.pair}/shards/{shard}/{name}"
            for shard in shard_ids(raw)
        ]

    return files


def test_files(wildcards):
    return pair_files("test", wildcards.pair)


def trained_model(stage):
    return f"results/models/{stage}"


def checkpoint_dir(stage):
    # Outside the output directory, so that Snakemake's removal of a failed
    # job's outputs keeps the checkpoints a rerun resumes from.
    return f"results/checkpoints/{stage}"


def chunk_cache(step):
    # Finished chunks of a long generation step, per direction: outside the
    # outputs, so that Snakemake's removal of a failed job's outputs keeps the
    # chunks a rerun resumes from.
    return f"results/cache/{step}/{{pair}}"


def decode_dir(system="{system}", pair="{pair}"):
    """Candidates, scores and selections of one hybrid row and direction."""
    return f"results/decode/{system}/{pair}"


def hyp_file(system, pair):
    return f"results/hyp/{system}/{pair}.txt"


def hypothesis(wildcards):
    """Our own systems' output, or the file of an external system."""
    if wildcards.system in EXTERNAL:
        return EXTERNAL[wildcards.system][wildcards.pair]
    return hyp_file(wildcards.system, wildcards.pair)


def wmt_test_spec(pair):
    """A WMT JSONL test set's spec with every option filled in (jsonl, doc_prefix, reference, segment)."""
    return normalize_spec(CFG.data.test[pair], f"data.test.{pair}")


def eval_files(wildcards=None):
    return [f"results/eval/{s}/{p}.json" for s, p in EVAL_CELLS]


def segment_file(system, pair):
    return f"results/eval/{system}/{pair}.segments.tsv"


def as_json(value):
    """Params are passed to scripts as plain values; JSON keeps them hashable."""
    return json.dumps(value, sort_keys=True)


def get_final_output():
    outputs = [
        "results/tables/ablation.tsv",
        "results/tables/ablation.md",
        "results/tables/ablation.tex",
        "results/plots/ablation.png",
        "results/tables/metric_families.md",
        "results/tables/error_spans.md",
        "results/plots/funnel.png",
        "results/plots/training.png",
        "results/tables/lambda_sweep.md",
        "results/plots/lambda_sweep.png",
    ]
    # WMT25 submission files of the rows decoded here, for test sets read from a WMT release.
    outputs += [
        f"results/wmt/{system}/{pair}.jsonl" for system in SYSTEMS for pair in WMT_PAIRS
    ]
    if all(p in NOISE_LABELS for p in PAIRS):
        # Only the demo world knows which lines are noise.
        outputs += [
            "results/tables/filter_quality.md",
            "results/tables/filter_precision_recall.md",
        ]
    return outputs
