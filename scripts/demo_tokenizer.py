"""Train the demo's byte-level BPE tokenizer (with its chat template)."""

from algharb.pipeline.demo import build_tokenizer
from algharb.workflow import snakemake_step

with snakemake_step(snakemake):
    build_tokenizer(snakemake.input, snakemake.output[0], snakemake.params.vocab_size)
