"""The ablation table (Table 2 of the paper) with significance marks, and the long table of all metrics."""

import json

import pandas as pd

from algharb.report.tables import write_table
from algharb.steps.evaluate import ablation_table, collect_scores, marked_ablation_table, significance_legend
from algharb.jobs import job_context

with job_context(snakemake):
    params = snakemake.params
    settings = json.loads(params.settings)
    scores = collect_scores(snakemake.input.scores)
    significance = pd.read_csv(snakemake.input.significance, sep="\t")
    legend = significance_legend(settings["baseline"], settings["alpha"], settings["resamples"],
                                 settings["confidence"])

    def marked(metric):
        table = ablation_table(scores, metric, params.systems, params.pairs)
        return marked_ablation_table(table, significance, metric, settings["alpha"])

    table = marked(params.primary)
    write_table(table, tsv_path=snakemake.output.tsv, md_path=snakemake.output.md, tex_path=snakemake.output.tex,
                caption=f"{params.primary} (x100) per direction and averaged. {legend}", note=legend)
    write_table(scores.set_index(["system", "pair", "metric"]), tsv_path=snakemake.output.metrics_tsv)
    # per_metric holds, for each metric in order, its .tsv then its .md.
    per_metric = list(snakemake.output.per_metric)
    for metric, tsv, md in zip(params.metrics, per_metric[0::2], per_metric[1::2]):
        write_table(marked(metric), tsv_path=tsv, md_path=md, note=legend)
    print(table.to_markdown())
