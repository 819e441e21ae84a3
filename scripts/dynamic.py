"""Dynamic multi-reward optimisation (seed 000 eq. 1-2) with LoRA."""

from algharb.pipeline.train import dynamic_step
from algharb.workflow import params_json, snakemake_step

with snakemake_step(snakemake):
    dynamic_step(
        model_dir=snakemake.input.model,
        pool_paths=snakemake.input.pools,
        out_dir=snakemake.output[0],
        checkpoint_dir=snakemake.params.checkpoint_dir,
        hparams=params_json(snakemake.params.hparams),
        seed=snakemake.params.seed,
        threads=snakemake.threads,
    )
