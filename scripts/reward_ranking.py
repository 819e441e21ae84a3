"""How well the pair-picking scores rank the scored RL pools (reference first, Kendall τ with chrF)."""

from algharb.jobs import job_context
from algharb.steps.preference import reward_ranking_file

with job_context(snakemake):
    reward_ranking_file(
        pool_paths=list(snakemake.input),
        pairs=snakemake.params.pairs,
        tsv_path=snakemake.output.tsv,
        md_path=snakemake.output.md,
    )
