"""Train the demo's fastText language identifier."""

from algharb.steps.demo import train_lid_model
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    train_lid_model(
        snakemake.input.train,
        snakemake.input.valid,
        snakemake.output.model,
        snakemake.output.accuracy,
        params_json(snakemake.params.options),
        snakemake.params.seed,
    )
