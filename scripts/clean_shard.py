"""Normalisation, rule filters and language ID of one shard; dedup keys of its kept pairs."""

from algharb.steps.data import clean_shard_step
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    clean_shard_step(
        shard_path=snakemake.input.shard,
        out_decisions=snakemake.output.decisions,
        out_keys=snakemake.output.dedup_keys,
        src_lang=snakemake.params.src_lang,
        tgt_lang=snakemake.params.tgt_lang,
        rules=params_json(snakemake.params.rules),
        lid=snakemake.params.lid,
    )
