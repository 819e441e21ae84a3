"""Build the tiny XLM-R encoder (sentencepiece vocabulary + random weights) of the COMET stand-ins."""

from algharb.pipeline.demo import build_comet_encoder
from algharb.workflow import snakemake_step

with snakemake_step(snakemake):
    build_comet_encoder(snakemake.input, snakemake.output[0], snakemake.params.seed)
