"""Paired bootstrap over every system of every direction: intervals, p-values, metric-family gains."""

import json

from algharb.report.tables import write_table
from algharb.steps.evaluate import family_gain_table, significance_tables
from algharb.jobs import job_context

with job_context(snakemake):
    params = snakemake.params
    settings = json.loads(params.settings)
    cells = json.loads(params.cells)  # [[system, pair], ...] in the order of snakemake.input.segments
    segment_files = {tuple(cell): path for cell, path in zip(cells, snakemake.input.segments)}
    long, families = significance_tables(
        segment_files,
        test_sources=dict(zip(params.pairs, snakemake.input.sources)),
        metrics=params.metrics,
        systems=params.systems,
        pairs=params.pairs,
        tgt_langs=dict(zip(params.pairs, params.tgt_langs)),
        baseline=settings["baseline"],
        resamples=settings["resamples"],
        confidence=settings["confidence"],
        seed=params.seed,
        model=params.model,
        metric_models=params.metric_models,
    )
    write_table(long.set_index(["pair", "metric", "system"]), tsv_path=snakemake.output.tsv)
    write_table(families.set_index(["pair", "family", "system"]), tsv_path=snakemake.output.families_tsv)
    write_table(family_gain_table(families), md_path=snakemake.output.families_md,
                note="Gain over the baseline row averaged over the metrics of each family, on the average over "
                f"directions, with its {settings['confidence']:.0%} paired bootstrap interval. A gain that shows "
                "under the neural metrics only is the signature of metric bias when MBR used a neural utility.")
