"""The ablation table (Table 2 of the paper) and the long table of all metrics."""

from algharb.steps.evaluate import ablation_table, collect_scores
from algharb.report.tables import write_table
from algharb.jobs import job_context

with job_context(snakemake):
    scores = collect_scores(snakemake.input)
    table = ablation_table(scores, snakemake.params.primary, snakemake.params.systems, snakemake.params.pairs)
    write_table(
        table,
        tsv_path=snakemake.output.tsv,
        md_path=snakemake.output.md,
        tex_path=snakemake.output.tex,
        caption=f"{snakemake.params.primary} (x100) per direction and averaged",
    )
    write_table(scores.set_index(["system", "pair", "metric"]), tsv_path=snakemake.output.metrics_tsv)
    # per_metric holds, for each metric in order, its .tsv then its .md.
    per_metric = list(snakemake.output.per_metric)
    for metric, tsv, md in zip(snakemake.params.metrics, per_metric[0::2], per_metric[1::2]):
        table = ablation_table(scores, metric, snakemake.params.systems, snakemake.params.pairs)
        write_table(table, tsv_path=tsv, md_path=md)
    print(table.to_markdown(floatfmt=".2f"))
