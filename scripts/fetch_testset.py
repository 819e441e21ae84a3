"""Download one direction's WMT test set (JSONL release)."""

from algharb.steps.fetch import fetch_wmt_jsonl
from algharb.jobs import job_context

with job_context(snakemake):
    recipe = snakemake.params.recipe
    fetch_wmt_jsonl(
        recipe["url"],
        recipe["doc_prefix"],
        recipe.get("reference"),
        snakemake.output.src,
        snakemake.output.ref,
    )
