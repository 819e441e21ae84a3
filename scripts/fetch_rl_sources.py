"""Collect RL source sentences of one language from WMT test sets (sacrebleu)."""

from algharb.steps.fetch import fetch_sacrebleu_sources
from algharb.jobs import job_context

with job_context(snakemake):
    fetch_sacrebleu_sources(snakemake.params.testsets, snakemake.output[0])
