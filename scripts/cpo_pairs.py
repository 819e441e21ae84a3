"""Preference pairs for CPO from the QE-scored candidate pools."""

from algharb.pipeline.train import cpo_pairs_step
from algharb.workflow import snakemake_step

with snakemake_step(snakemake):
    cpo_pairs_step(
        pool_paths=snakemake.input,
        pairs_path=snakemake.output.pairs,
        stats_path=snakemake.output.stats,
        margin=snakemake.params.margin,
    )
