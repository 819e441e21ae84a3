"""The cleaning funnel of every direction in one plot."""

import pandas as pd

from algharb.report.plots import funnel_bars
from algharb.jobs import job_context

with job_context(snakemake):
    funnels = {
        pair: pd.read_csv(path, sep="\t")
        for pair, path in zip(snakemake.params.pairs, snakemake.input)
    }
    funnel_bars(funnels, snakemake.output[0])
