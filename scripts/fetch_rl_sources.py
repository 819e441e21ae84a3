"""Collect RL source sentences of one language from WMT test sets (sacrebleu)."""

from algharb.pipeline.fetch import fetch_sacrebleu_sources
from algharb.workflow import snakemake_step

with snakemake_step(snakemake):
    fetch_sacrebleu_sources(snakemake.params.testsets, snakemake.output[0])
