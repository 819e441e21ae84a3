"""Train the demo's fastText language identifier."""

from algharb.pipeline.demo import train_lid_model
from algharb.workflow import params_json, snakemake_step

with snakemake_step(snakemake):
    train_lid_model(
        snakemake.input.train,
        snakemake.input.valid,
        snakemake.output.model,
        snakemake.output.accuracy,
        params_json(snakemake.params.options),
        snakemake.params.seed,
    )
