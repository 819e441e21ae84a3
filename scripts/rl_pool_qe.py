"""QE score for every candidate of the RL pools."""

from algharb.steps.rl import score_pool
from algharb.jobs import job_context

with job_context(snakemake):
    score_pool(
        pool_path=snakemake.input.pool,
        out_path=snakemake.output[0],
        model=snakemake.params.model,
        batch_size=snakemake.params.batch_size,
        threads=snakemake.threads,
    )
