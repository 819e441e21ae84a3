"""Where each line of a WMT JSONL test set came from (doc_id, paragraph): the segment map, and its paragraph report."""

from algharb.steps.wmt import wmt_segments_step
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    wmt_segments_step(
        spec=params_json(snakemake.params.spec),
        out_segments=snakemake.output.segments,
        out_mismatches=snakemake.output.report,
        where=f"data.{snakemake.wildcards.section}.{snakemake.wildcards.pair}",
    )
