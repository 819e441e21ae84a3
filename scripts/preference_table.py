"""The preference comparison table (SFT, CPO, DPO, CPO-noised, CPO → dynamic, M2PO): TSV, Markdown, LaTeX.

In the demo (``world`` is the demo world's config) the table gets the
oracle's omission share per row; elsewhere ``world`` is null.
"""

import json

from algharb.jobs import job_context, params_json
from algharb.report.tables import write_table
from algharb.steps.preference import comparison_legend, comparison_tables

with job_context(snakemake):
    params = snakemake.params
    settings = json.loads(params.settings)
    cells = json.loads(params.cells)
    world = params_json(params.world)
    omission_share = None
    if world is not None:
        from algharb.demo.omission import omission_share_columns

        omission_share = omission_share_columns(world)["omission_share"]
    long, wide = comparison_tables(
        segment_files={tuple(cell): path for cell, path in zip(cells, snakemake.input.segments)},
        qe_files=dict(zip(params.pairs, snakemake.input.qe)),
        test_sources=dict(zip(params.pairs, snakemake.input.sources)),
        rows=dict(json.loads(params.rows)),
        pairs=params.pairs,
        tgt_langs=dict(zip(params.pairs, params.tgt_langs)),
        primary=params.primary,
        metrics=params.metrics,
        settings=settings,
        seed=params.seed,
        omission_share=omission_share,
        model=params.model,
        metric_models=params.metric_models,
    )
    write_table(long.set_index(["pair", "system", "column"]), tsv_path=snakemake.output.tsv)
    write_table(wide, md_path=snakemake.output.md, tex_path=snakemake.output.tex,
                caption="Preference optimisation methods from the same SFT checkpoint on the same pools",
                note=comparison_legend(settings["alpha"], settings["resamples"], json.loads(params.scorers)))
