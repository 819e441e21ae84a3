"""A dev/test set given as SGML, XML, JSONL, TSV or compressed text, as two plain line-aligned files."""

from algharb.steps.data import prepare_split_step
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    prepare_split_step(
        spec=params_json(snakemake.params.spec),
        out_src=snakemake.output.src,
        out_tgt=snakemake.output.tgt,
        where=snakemake.params.where,
    )
