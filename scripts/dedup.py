"""Exact and near-duplicate removal over all shards of one direction."""

from algharb.pipeline.data import dedup_step
from algharb.workflow import snakemake_step

with snakemake_step(snakemake):
    dedup_step(key_paths=list(snakemake.input), out_path=snakemake.output[0])
