"""Train one COMET stand-in (CometKiwi, COMET-22 or XCOMET) with unbabel-comet."""

from algharb.pipeline.demo import train_comet_standin
from algharb.workflow import params_json, snakemake_step

with snakemake_step(snakemake):
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
