"""Preference pairs from the scored candidate pools: real rejected translations and noised ones."""

from algharb.jobs import job_context
from algharb.steps.train import preference_pairs_step

with job_context(snakemake):
    preference_pairs_step(
        pool_paths=snakemake.input,
        real_path=snakemake.output.real,
        noised_path=snakemake.output.noised,
        stats_path=snakemake.output.stats,
        margin=snakemake.params.margin,
        seed=snakemake.params.seed,
        p_delete=snakemake.params.p_delete,
        p_swap=snakemake.params.p_swap,
    )
