"""Bar charts of every metric per system."""

import pandas as pd

from algharb.report.plots import metric_bars
from algharb.jobs import job_context

with job_context(snakemake):
    scores = pd.read_csv(snakemake.input[0], sep="\t")
    metric_bars(scores, snakemake.params.metrics, snakemake.output[0])
