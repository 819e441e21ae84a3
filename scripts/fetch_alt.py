"""Download the ALT parallel corpus and write its train/dev/test splits (Collab-MT's en-ja data)."""

from algharb.steps.fetch import fetch_alt
from algharb.jobs import job_context

with job_context(snakemake):
    recipe = snakemake.params.recipe
    fetch_alt(recipe["url"], recipe.get("langs", ["en", "ja"]), snakemake.params.out_dir)
