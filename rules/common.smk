# Config validation, wildcard constraints and input functions shared by all stages.

import json
import re
from pathlib import Path

from algharb.config import validate_config
from algharb.config.sections import DemoConfig, WorkflowConfig
from algharb.data.ingest import is_plain_text_spec, spec_paths
from algharb.data.shards import shard_ids
from algharb.demo import layout as demo_layout
from algharb.jobs import pin_hash_seed
from algharb.prompts import split_pair

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
SYSTEMS = ["two_step_sft", "two_step_rl", "hybrid_decode"]
# The model whose greedy output each baseline row reports.
SYSTEM_MODEL = {"two_step_sft": "sft2", "two_step_rl": "dynamic"}
# Outputs of other systems the user drops in (the paper's GPT-4o, Claude rows).
EXTERNAL = CFG.evaluate.external
ALL_SYSTEMS = SYSTEMS + sorted(EXTERNAL)
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


def policy_spec(stage):
    """A trained stage as a generator entry, decoded with the configured backend."""
    return {"path": trained_model(stage), "backend": CFG.decode.backend}


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


def hyp_file(system, pair):
    return f"results/hyp/{system}/{pair}.txt"


def hypothesis(wildcards):
    """Our own systems' output, or the file of an external system."""
    if wildcards.system in EXTERNAL:
        return EXTERNAL[wildcards.system][wildcards.pair]
    return hyp_file(wildcards.system, wildcards.pair)


def eval_files(wildcards=None):
    return [
        f"results/eval/{s}/{p}.json"
        for s in ALL_SYSTEMS
        for p in PAIRS
        if s in SYSTEMS or p in EXTERNAL[s]
    ]


def as_json(value):
    """Params are passed to scripts as plain values; JSON keeps them hashable."""
    return json.dumps(value, sort_keys=True)


def get_final_output():
    outputs = [
        "results/tables/ablation.tsv",
        "results/tables/ablation.md",
        "results/tables/ablation.tex",
        "results/plots/ablation.png",
        "results/plots/funnel.png",
        "results/plots/training.png",
        "results/tables/lambda_sweep.md",
        "results/plots/lambda_sweep.png",
    ]
    if all(p in NOISE_LABELS for p in PAIRS):
        # Only the demo world knows which lines are noise.
        outputs += [
            "results/tables/filter_quality.md",
            "results/tables/filter_precision_recall.md",
        ]
    return outputs
