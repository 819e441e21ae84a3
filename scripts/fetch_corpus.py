"""Download one direction's training corpus with mtdata."""

from algharb.steps.fetch import fetch_mtdata
from algharb.jobs import job_context

with job_context(snakemake):
    recipe = snakemake.params.recipe
    fetch_mtdata(recipe["langs"], recipe["datasets"], snakemake.output.src, snakemake.output.tgt)
