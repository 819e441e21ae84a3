"""Train one COMET stand-in (CometKiwi, COMET-22 or XCOMET) with unbabel-comet."""

from algharb.steps.demo import train_comet_standin
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    train_comet_standin(
        kind=snakemake.params.kind,
        encoder_dir=snakemake.input.encoder,
        files=list(snakemake.input.data),
        pairs=snakemake.params.pairs,
        out_dir=snakemake.output[0],
        options=params_json(snakemake.params.options),
        seed=snakemake.params.seed,
        threads=snakemake.threads,
    )
