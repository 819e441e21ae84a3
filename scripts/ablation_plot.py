"""Every metric per system and direction, with bootstrap confidence intervals."""

import pandas as pd

from algharb.report.plots import interval_bars
from algharb.jobs import job_context

with job_context(snakemake):
    significance = pd.read_csv(snakemake.input[0], sep="\t")
    interval_bars(significance, snakemake.params.metrics, snakemake.params.confidence, snakemake.output[0])
