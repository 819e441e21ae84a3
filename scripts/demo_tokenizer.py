"""Train the demo's byte-level BPE tokenizer (with its chat template)."""

from algharb.steps.demo import build_tokenizer
from algharb.jobs import job_context

with job_context(snakemake):
    build_tokenizer(snakemake.input, snakemake.output[0], snakemake.params.vocab_size)
