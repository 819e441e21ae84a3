"""Collab-MT's Table 6: every row, direction and metric, as TSV, Markdown and LaTeX."""

from algharb.steps.collab import table_step
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    table_step(
        score_paths=snakemake.input,
        rows=params_json(snakemake.params.rows),
        directions=snakemake.params.directions,
        metrics=snakemake.params.metrics,
        out_tsv=snakemake.output.tsv,
        out_md=snakemake.output.md,
        out_tex=snakemake.output.tex,
    )
