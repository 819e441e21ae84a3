"""The pair-picking score (weighted QE) of every compared row's output on one test set."""

from algharb.jobs import job_context, params_json
from algharb.steps.preference import output_qe_file

with job_context(snakemake):
    output_qe_file(
        hypothesis_paths=dict(zip(snakemake.params.systems, snakemake.input.hyps)),
        source_path=snakemake.input.src,
        out_path=snakemake.output[0],
        scorers=params_json(snakemake.params.scorers),
        batch_size=snakemake.params.batch_size,
        threads=snakemake.threads,
    )
