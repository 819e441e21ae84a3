"""Bar charts of every metric per system."""

import pandas as pd

from algharb.report.plots import metric_bars
from algharb.workflow import snakemake_step

with snakemake_step(snakemake):
    scores = pd.read_csv(snakemake.input[0], sep="\t")
    metric_bars(scores, snakemake.params.metrics, snakemake.output[0])
