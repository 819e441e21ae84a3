"""Sample the RL source sentences of one source language."""

from algharb.steps.rl import sample_rl_sources
from algharb.jobs import job_context

with job_context(snakemake):
    sample_rl_sources(
        in_path=snakemake.input[0],
        out_path=snakemake.output[0],
        n=snakemake.params.n,
        seed=snakemake.params.seed,
        exclude_paths=snakemake.params.exclude,
    )
