"""Greedy (baseline) translation of a test set."""

from algharb.steps.decode import translate_file
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    translate_file(
        model=snakemake.params.model,
        src_path=snakemake.input.src,
        out_path=snakemake.output[0],
        src_lang=snakemake.params.src_lang,
        tgt_lang=snakemake.params.tgt_lang,
        sampling=params_json(snakemake.params.sampling),
        threads=snakemake.threads,
    )
