"""Utility matrices (MBR) and alignment scores for every candidate pool."""

from algharb.pipeline.decode import hybrid_scores_file
from algharb.workflow import snakemake_step

with snakemake_step(snakemake):
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
