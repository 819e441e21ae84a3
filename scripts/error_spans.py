"""Error spans of the evaluation model per system and direction: minor/major/critical per 100 segments."""

import json

from algharb.report.tables import write_table
from algharb.steps.evaluate import span_summary
from algharb.jobs import job_context

with job_context(snakemake):
    cells = json.loads(snakemake.params.cells)
    span_files = {tuple(cell): path for cell, path in zip(cells, snakemake.input)}
    table = span_summary(span_files, snakemake.params.systems, snakemake.params.pairs)
    write_table(table.set_index(["system", "pair", "metric"]), tsv_path=snakemake.output.tsv,
                md_path=snakemake.output.md,
                note="Spans per 100 segments by severity, and the share (%) of segments with at least one major "
                "or critical span. A metric whose model predicts no spans says so in `note` (no zeros).")
