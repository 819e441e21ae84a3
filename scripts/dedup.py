"""Exact and near-duplicate removal over all shards of one direction."""

from algharb.steps.data import dedup_step
from algharb.jobs import job_context

with job_context(snakemake):
    dedup_step(key_paths=list(snakemake.input), out_path=snakemake.output[0])
