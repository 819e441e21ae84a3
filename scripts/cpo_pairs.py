"""Preference pairs for CPO from the QE-scored candidate pools."""

from algharb.steps.train import cpo_pairs_step
from algharb.jobs import job_context

with job_context(snakemake):
    cpo_pairs_step(
        pool_paths=snakemake.input,
        pairs_path=snakemake.output.pairs,
        stats_path=snakemake.output.stats,
        margin=snakemake.params.margin,
    )
