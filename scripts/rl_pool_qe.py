"""Every scorer's score, their weighted mean and S_align for every candidate of the RL pools."""

from algharb.decode.config import AlignConfig
from algharb.jobs import job_context, params_json
from algharb.steps.rl import score_pool

with job_context(snakemake):
    align = params_json(snakemake.params.align)
    score_pool(
        pool_path=snakemake.input.pool,
        out_path=snakemake.output[0],
        scorers=params_json(snakemake.params.scorers),
        batch_size=snakemake.params.batch_size,
        threads=snakemake.threads,
        align=None if align is None else AlignConfig.from_dict(align, where="decode.align"),
        tgt_lang=snakemake.params.tgt_lang,
        reference_path=snakemake.input.reference[0] if snakemake.input.reference else None,
    )
