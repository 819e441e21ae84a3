"""Build the tiny XLM-R encoder (sentencepiece vocabulary + random weights) of the COMET stand-ins."""

from algharb.steps.demo import build_comet_encoder
from algharb.jobs import job_context

with job_context(snakemake):
    build_comet_encoder(snakemake.input, snakemake.output[0], snakemake.params.seed)
