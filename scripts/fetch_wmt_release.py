"""Download a WMT JSONL release as is (doc ids and paragraphs kept, for segment maps and submissions)."""

from algharb.steps.wmt import fetch_wmt_release
from algharb.jobs import job_context

with job_context(snakemake):
    fetch_wmt_release(snakemake.params.url, snakemake.output[0])
