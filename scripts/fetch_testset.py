"""Download one direction's WMT test set (JSONL release)."""

from algharb.pipeline.fetch import fetch_wmt_jsonl
from algharb.workflow import snakemake_step

with snakemake_step(snakemake):
    recipe = snakemake.params.recipe
    fetch_wmt_jsonl(
        recipe["url"],
        recipe["doc_prefix"],
        recipe.get("reference"),
        snakemake.output.src,
        snakemake.output.ref,
    )
