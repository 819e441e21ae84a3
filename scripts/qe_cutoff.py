"""The QE threshold or quantile over all shards of one direction."""

from algharb.steps.data import qe_cutoff_step
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    qe_cutoff_step(
        score_paths=list(snakemake.input),
        out_path=snakemake.output[0],
        src_lang=snakemake.params.src_lang,
        tgt_lang=snakemake.params.tgt_lang,
        qe=params_json(snakemake.params.qe),
    )
