"""λ sweep of hybrid MBR from the saved score matrices (no model call)."""

from algharb.steps.decode import lambda_sweep_file
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    lambda_sweep_file(
        score_paths=snakemake.input.scores,
        reference_paths=snakemake.input.references,
        pairs=snakemake.params.pairs,
        lambdas=snakemake.params.lambdas,
        mbr=snakemake.params.mbr,
        out_tsv=snakemake.output.tsv,
        out_md=snakemake.output.md,
        out_png=snakemake.output.png,
        world=params_json(snakemake.params.world),
    )
