"""Download one direction's training corpus with mtdata."""

from algharb.pipeline.fetch import fetch_mtdata
from algharb.workflow import snakemake_step

with snakemake_step(snakemake):
    recipe = snakemake.params.recipe
    fetch_mtdata(recipe["langs"], recipe["datasets"], snakemake.output.src, snakemake.output.tgt)
