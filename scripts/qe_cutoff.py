"""The QE threshold or quantile over all shards of one direction."""

from algharb.pipeline.data import qe_cutoff_step
from algharb.workflow import params_json, snakemake_step

with snakemake_step(snakemake):
    qe_cutoff_step(
        score_paths=list(snakemake.input),
        out_path=snakemake.output[0],
        src_lang=snakemake.params.src_lang,
        tgt_lang=snakemake.params.tgt_lang,
        clean=params_json(snakemake.params.clean),
    )
