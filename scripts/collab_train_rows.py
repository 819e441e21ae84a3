"""A Collab-MT direction's training corpus as SFT rows."""

from algharb.steps.collab import train_rows_step
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    train_rows_step(
        spec=params_json(snakemake.params.spec),
        direction=snakemake.wildcards.direction,
        out_path=snakemake.output[0],
        where=f"collab.data.{snakemake.wildcards.direction}.train",
    )
