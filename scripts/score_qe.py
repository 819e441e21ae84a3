"""QE scores (CometKiwi) of one shard's pairs that passed the rule filters and dedup."""

from algharb.steps.data import qe_scores_file
from algharb.jobs import job_context

with job_context(snakemake):
    qe_scores_file(
        decisions_path=snakemake.input.decisions,
        out_path=snakemake.output.scores,
        model=snakemake.params.model,
        batch_size=snakemake.params.batch_size,
        threads=snakemake.threads,
        duplicates_path=snakemake.input.duplicates,
    )
