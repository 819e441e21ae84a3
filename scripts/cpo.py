"""CPO with LoRA on the preference pairs; the adapter is merged for decoding."""

from algharb.pipeline.train import cpo_step
from algharb.workflow import params_json, snakemake_step

with snakemake_step(snakemake):
    cpo_step(
        model_dir=snakemake.input.model,
        pairs_path=snakemake.input.pairs,
        out_dir=snakemake.output[0],
        checkpoint_dir=snakemake.params.checkpoint_dir,
        hparams=params_json(snakemake.params.hparams),
        seed=snakemake.params.seed,
        threads=snakemake.threads,
    )
