"""Utility matrices (MBR) and alignment scores for every candidate pool."""

from algharb.steps.decode import hybrid_scores_file
from algharb.jobs import job_context

with job_context(snakemake):
    hybrid_scores_file(
        candidates_path=snakemake.input.candidates,
        out_path=snakemake.output[0],
        tgt_lang=snakemake.params.tgt_lang,
        utility_model=snakemake.params.utility_model,
        mbr=snakemake.params.mbr,
        align=snakemake.params.align,
        reference_path=snakemake.input.reference,
        threads=snakemake.threads,
        seed=snakemake.params.seed,
    )
