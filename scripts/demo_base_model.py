"""Initialise the demo's tiny Qwen3 base model."""

from algharb.steps.demo import build_base_model
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    build_base_model(
        snakemake.input.tokenizer,
        snakemake.output[0],
        params_json(snakemake.params.architecture),
        snakemake.params.seed,
    )
