"""Demo only: how well cleaning separated the injected noise from clean pairs."""

from algharb.demo.filter_quality import filter_quality_file
from algharb.jobs import job_context

with job_context(snakemake):
    filter_quality_file(
        decision_paths=snakemake.input.decisions,
        label_paths=snakemake.input.labels,
        pairs=snakemake.params.pairs,
        out_tsv=snakemake.output.tsv,
        out_md=snakemake.output.md,
        out_filters_tsv=snakemake.output.filters_tsv,
        out_filters_md=snakemake.output.filters_md,
    )
