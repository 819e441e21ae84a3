"""Sample the RL source sentences of one source language (and record their line numbers)."""

from algharb.jobs import job_context
from algharb.steps.rl import sample_rl_sources

with job_context(snakemake):
    sample_rl_sources(
        in_path=snakemake.input[0],
        out_path=snakemake.output.sources,
        n=snakemake.params.n,
        seed=snakemake.params.seed,
        exclude_paths=snakemake.params.exclude,
        lines_path=snakemake.output.lines,
    )
