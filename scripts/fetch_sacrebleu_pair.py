"""Both sides of a sacrebleu test set (Collab-MT's WMT19 en-de dev set: newstest2018)."""

from algharb.steps.fetch import fetch_sacrebleu_pair
from algharb.jobs import job_context

with job_context(snakemake):
    w = snakemake.wildcards
    fetch_sacrebleu_pair(w.testset, f"{w.src}-{w.tgt}", snakemake.output.src, snakemake.output.tgt)
