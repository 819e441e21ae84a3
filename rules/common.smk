# Config validation, wildcard constraints and input functions shared by all stages.

import json
import re
from pathlib import Path

from algharb.collab import plan as collab_plan
from algharb.collab.plan import CollabPlan
from algharb.config import validate_config
from algharb.config.sections import DemoConfig, WorkflowConfig
from algharb.data.ingest import is_plain_text_spec, normalize_spec, spec_paths
from algharb.data.shards import shard_ids
from algharb.demo import layout as demo_layout
from algharb.jobs import pin_hash_seed
from algharb.prompts import split_pair
from algharb.metrics import metric_model_entries
from algharb.train.methods import (
    CHAIN_SEPARATOR,
    PREFERENCE_METHODS,
    chain_label,
    chain_name,
)

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
# The model the paper's RL rows decode: the last of the chain rl.stages (CPO, then dynamic).
RL_MODEL = chain_name(CFG.rl.stages)
# The preference comparison (rl.compare): row → (label, trained model), SFT first. A chain
# that is the paper's own is its two_step_rl row, decoded once for both tables.
COMPARE_ROWS = {"two_step_sft": ("SFT", "sft2")}
COMPARE_ROWS.update(
    {
        ("two_step_rl" if chain == CFG.rl.stages else f"rl_{chain_name(chain)}"): (
            chain_label(chain),
            chain_name(chain),
        )
        for chain in CFG.rl.compare
    }
)
# The trained stage (or chain) whose greedy output each baseline row reports.
SYSTEM_MODEL = {"two_step_sft": "sft2", "two_step_rl": RL_MODEL}
SYSTEM_MODEL.update({system: model for system, (_, model) in COMPARE_ROWS.items()})
# Configured models decoded and evaluated without training: row → its config and decoding.
MODEL_ROW_CONFIGS = CFG.evaluate.model_rows()
MODEL_ROWS = {
    row: (MODEL_ROW_CONFIGS[name], decoding)
    for name in MODEL_ROW_CONFIGS
    for row, decoding in MODEL_ROW_CONFIGS[name].rows(name).items()
}
# Rows this workflow decodes itself, on every direction.
SYSTEMS = PAPER_SYSTEMS + list(MODEL_ROWS)
# Every (system, direction) cell of the preference comparison table.
COMPARE_CELLS = [[system, pair] for system in COMPARE_ROWS for pair in PAIRS]
# Rows decoded for the comparison table only (not rows of the ablation table).
COMPARE_SYSTEMS = [s for s in SYSTEM_MODEL if s not in ("two_step_sft", "two_step_rl")]
GREEDY_SYSTEMS = list(SYSTEM_MODEL) + [
    r for r, (_, d) in MODEL_ROWS.items() if d == "greedy"
]
HYBRID_SYSTEMS = ["hybrid_decode"] + [
    r for r, (_, d) in MODEL_ROWS.items() if d == "hybrid"
]
# Outputs of other systems the user drops in (the paper's GPT-4o, Claude rows).
EXTERNAL = CFG.evaluate.external


def wmt_test_spec(pair):
    """A test set's spec with every option filled in (for WMT JSONL: jsonl, doc_prefix, reference, segment)."""
    return normalize_spec(CFG.data.test[pair], f"data.test.{pair}")


# Test sets read from a WMT JSONL release: submission files for our rows, and the
# release's official systems (evaluate.wmt_systems) as extra rows.
WMT_PAIRS = [pair for pair in PAIRS if wmt_test_spec(pair)["format"] == "wmt-jsonl"]
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
# Scheduling on a few cores (the demo's two): first what the step-1 SFT model and the
# teacher wait for, then the line from step-2 SFT to the hybrid decode; the independent
# rest (COMET stand-ins for later steps, Collab-MT) fills the cores they leave.
PRIORITY_FIRST = 10
PRIORITY_CHAIN = 5


wildcard_constraints:
    pair="[A-Za-z_]+-[A-Za-z_]+",
    lang="[A-Za-z_]+",
    system="|".join(re.escape(s) for s in ALL_SYSTEMS + COMPARE_SYSTEMS),
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
        return policy_spec(RL_MODEL)
    return MODEL_ROWS[system][0].model


def row_model_input(wildcards):
    """Input files of a row's model: the trained stage, a configured local model, or none (hub id)."""
    spec = row_generator(wildcards.system)
    return [spec["path"]] if "path" in spec else []


def greedy_sampling(wildcards):
    """The sampling of a greedy row (a model row may set its own)."""
    row = MODEL_ROWS.get(wildcards.system)
    custom = row[0].sampling if row else None
    return as_json(CFG.decode.baseline_sampling if custom is None else custom)


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


# Preference training (rules/preference.smk): each chain of methods is trained one method at a
# time; a chain's model is results/models/<m1>+<m2>+..., so chains share their common prefixes.
_METHOD = "|".join(re.escape(name) for name in PREFERENCE_METHODS.names())
CHAIN_PATTERN = rf"(?:{_METHOD})(?:{re.escape(CHAIN_SEPARATOR)}(?:{_METHOD}))*"
PREFERENCE_DATA = {
    "pairs": "results/rl/pairs/real.jsonl",
    "noised_pairs": "results/rl/pairs/noised.jsonl",
    "pools": [f"results/rl/pools/{pair}.scored.jsonl" for pair in PAIRS],
}
# The pools carry S_align when a trained method's reward reads it (M2PO).
POOLS_ALIGNED = CFG.decode.align.backend != "none" and any(
    PREFERENCE_METHODS.get(name).reads_align for name in CFG.rl.methods()
)
# The aligner's checkpoint when it is a local directory (WSPAlign).
ALIGNER_MODEL = (
    [CFG.decode.align.model["path"]]
    if CFG.decode.align.model and "path" in CFG.decode.align.model
    else []
)


# The stages of the training plot: both SFT steps and each step of the paper's RL chain.
TRAINING_PLOT_STAGES = ["sft1", "sft2"] + [
    chain_name(CFG.rl.stages[:end]) for end in range(1, len(CFG.rl.stages) + 1)
]


# The models that score pool candidates (rl.pairs.scorers), also applied to the compared outputs.
PAIR_SCORERS = {
    name: {"model": model_spec(name), "weight": weight}
    for name, weight in CFG.rl.pairs.scorers.items()
}
PAIR_SCORER_MODELS = [
    path for name in CFG.rl.pairs.scorers for path in model_path(name)
]


def rl_reference_inputs(pair):
    """The pair's RL references and the sampled sources' line numbers, when the pool takes references."""
    if not (CFG.rl.pool.include_reference and pair in CFG.data.rl_references):
        return []
    return [
        CFG.data.rl_references[pair],
        f"results/rl/sources/{split_pair(pair)[0]}.lines",
    ]


def chain_method(chain):
    """The method a chain's last step trains."""
    return PREFERENCE_METHODS.get(chain.split(CHAIN_SEPARATOR)[-1])


def chain_base_model(chain):
    """The model a chain's last method starts from: the chain before it, or step-2 SFT."""
    prefix = chain.split(CHAIN_SEPARATOR)[:-1]
    return trained_model(chain_name(prefix) if prefix else "sft2")


def chain_data(chain):
    return PREFERENCE_DATA[chain_method(chain).data]


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


def eval_files(wildcards=None):
    return [f"results/eval/{s}/{p}.json" for s, p in EVAL_CELLS]


def segment_file(system, pair):
    return f"results/eval/{system}/{pair}.segments.tsv"


def as_json(value):
    """Params are passed to scripts as plain values; JSON keeps them hashable."""
    return json.dumps(value, sort_keys=True)


# Collab-MT (rules/collab.smk): None without a collab section.
COLLAB = CFG.collab
COLLAB_PLAN = CollabPlan(COLLAB) if COLLAB else None
COLLAB_METRIC_MODELS = metric_model_entries(COLLAB.metrics) if COLLAB else []
COLLAB_ROOT = collab_plan.ROOT
COLLAB_SIZES = [COLLAB.small_size, *COLLAB.large] if COLLAB else []


def collab_base_model(wildcards):
    """The configured model a collab_finetune job starts from."""
    return COLLAB_PLAN.spec(collab_plan.Model(wildcards.size))


def collab_decoding_inputs(wildcards):
    """The local model directories the decodings of a direction read."""
    return COLLAB_PLAN.local_inputs(wildcards.direction)


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
    if CFG.collab:
        # Collab-MT's Table 6 (rules/collab.smk).
        outputs += ["results/tables/collab.md", "results/tables/collab.tex"]
    if CFG.rl.compare:
        # The preference comparison (rules/preference.smk).
        outputs += [
            "results/tables/preference.md",
            "results/tables/preference.tex",
            "results/tables/preference_reward.md",
        ]
    if all(p in NOISE_LABELS for p in PAIRS):
        # Only the demo world knows which lines are noise.
        outputs += [
            "results/tables/filter_quality.md",
            "results/tables/filter_precision_recall.md",
        ]
    return outputs
