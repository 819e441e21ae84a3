"""Another system's output from the WMT25 human-evaluation release, line-aligned with the test set."""

from algharb.steps.wmt import wmt_external_step
from algharb.jobs import job_context

with job_context(snakemake):
    wmt_external_step(
        release=snakemake.input.release,
        doc_prefix=snakemake.params.doc_prefix,
        system=snakemake.params.system,
        segments=snakemake.input.segments,
        out_hyp=snakemake.output.hyp,
        out_report=snakemake.output.report,
    )
