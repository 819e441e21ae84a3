"""λ sweep of hybrid MBR from the saved score matrices (no model call).

In the demo (``world`` is the demo world's config) the table gets the
oracle's omission share per λ; elsewhere ``world`` is null.
"""

from algharb.decode.config import MBRConfig
from algharb.jobs import job_context, params_json
from algharb.steps.decode import lambda_sweep_file

with job_context(snakemake):
    world = params_json(snakemake.params.world)
    columns = {}
    if world is not None:
        from algharb.demo.omission import omission_share_columns

        columns = omission_share_columns(world)
    lambda_sweep_file(
        score_paths=snakemake.input.scores,
        reference_paths=snakemake.input.references,
        pairs=snakemake.params.pairs,
        lambdas=snakemake.params.lambdas,
        mbr=MBRConfig.from_dict(params_json(snakemake.params.mbr), where="decode.mbr"),
        out_tsv=snakemake.output.tsv,
        out_md=snakemake.output.md,
        out_png=snakemake.output.png,
        columns=columns,
    )
