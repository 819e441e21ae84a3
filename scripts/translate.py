"""Greedy (baseline) translation of a test set."""

from algharb.pipeline.decode import translate_file
from algharb.workflow import params_json, snakemake_step

with snakemake_step(snakemake):
    translate_file(
        model=snakemake.params.model,
        src_path=snakemake.input.src,
        out_path=snakemake.output[0],
        src_lang=snakemake.params.src_lang,
        tgt_lang=snakemake.params.tgt_lang,
        sampling=params_json(snakemake.params.sampling),
        threads=snakemake.threads,
    )
