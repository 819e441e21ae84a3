"""Gather the shards of one direction: decisions, clean/rejected pairs and the funnel."""

from algharb.steps.data import merge_shards_step
from algharb.jobs import job_context

with job_context(snakemake):
    merge_shards_step(
        decision_paths=list(snakemake.input),
        src_lang=snakemake.params.src_lang,
        tgt_lang=snakemake.params.tgt_lang,
        out_decisions=snakemake.output.decisions,
        out_clean=snakemake.output.clean,
        out_rejected=snakemake.output.rejected,
        out_funnel=snakemake.output.funnel,
    )
