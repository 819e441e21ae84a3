"""One shard's final decisions (rules, duplicates, QE) and its kept/rejected files."""

from algharb.steps.data import finalize_shard_step
from algharb.jobs import job_context

with job_context(snakemake):
    finalize_shard_step(
        decisions_path=snakemake.input.decisions,
        out_kept_src=snakemake.output.kept_src,
        out_kept_tgt=snakemake.output.kept_tgt,
        out_rejected=snakemake.output.rejected,
        out_decisions=snakemake.output.decisions,
        duplicates_path=snakemake.input.duplicates,
        scores_path=snakemake.input.scores,
        qe_rejected_path=snakemake.input.qe_rejected,
    )
