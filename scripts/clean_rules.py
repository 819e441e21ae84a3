"""Normalisation, rule filters and language ID for one direction."""

from algharb.pipeline.data import rule_decisions_file
from algharb.workflow import params_json, snakemake_step

with snakemake_step(snakemake):
    rule_decisions_file(
        src_path=snakemake.input.src,
        tgt_path=snakemake.input.tgt,
        out_path=snakemake.output.decisions,
        src_lang=snakemake.params.src_lang,
        tgt_lang=snakemake.params.tgt_lang,
        clean=params_json(snakemake.params.clean),
        lid=snakemake.params.lid,
    )
