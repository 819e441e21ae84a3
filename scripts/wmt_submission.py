"""One system's output on a WMT JSONL test set as a WMT25 submission file, checked against the release."""

from algharb.steps.wmt import wmt_submission_step
from algharb.jobs import job_context

with job_context(snakemake):
    wmt_submission_step(
        segments=snakemake.input.segments,
        hypotheses=snakemake.input.hyp,
        out_submission=snakemake.output.submission,
        out_check=snakemake.output.check,
        release=snakemake.input.release,
        doc_prefix=snakemake.params.doc_prefix,
    )
