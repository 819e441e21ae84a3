"""Utility matrices (MBR) and alignment scores for every candidate pool."""

from algharb.decode.config import AlignConfig, MBRConfig
from algharb.jobs import job_context, params_json
from algharb.steps.decode import candidate_scores_file

with job_context(snakemake):
    candidate_scores_file(
        candidates_path=snakemake.input.candidates,
        out_path=snakemake.output[0],
        tgt_lang=snakemake.params.tgt_lang,
        utility_model=snakemake.params.utility_model,
        mbr=MBRConfig.from_dict(params_json(snakemake.params.mbr), where="decode.mbr"),
        align=AlignConfig.from_dict(params_json(snakemake.params.align), where="decode.align"),
        reference_path=snakemake.input.reference,
        threads=snakemake.threads,
    )
