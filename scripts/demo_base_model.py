"""Initialise the demo's tiny Qwen3 base model."""

from algharb.pipeline.demo import build_base_model
from algharb.workflow import params_json, snakemake_step

with snakemake_step(snakemake):
    build_base_model(
        snakemake.input.tokenizer,
        snakemake.output[0],
        params_json(snakemake.params.architecture),
        snakemake.params.seed,
    )
