"""QE score for every candidate of the RL pools."""

from algharb.pipeline.rl import score_pool
from algharb.workflow import snakemake_step

with snakemake_step(snakemake):
    score_pool(
        pool_path=snakemake.input.pool,
        out_path=snakemake.output[0],
        model=snakemake.params.model,
        batch_size=snakemake.params.batch_size,
        threads=snakemake.threads,
    )
