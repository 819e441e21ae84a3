"""Dynamic multi-reward optimisation (Marco-MT-Algharb, WMT25, eq. 1-2) with LoRA."""

from algharb.steps.train import run_training_step
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    # One process, or one per GPU inside a multi-GPU Slurm allocation (srun + torchrun).
    run_training_step(
        "dynamic",
        model_dir=snakemake.input.model,
        pool_paths=snakemake.input.pools,
        out_dir=snakemake.output[0],
        checkpoint_dir=snakemake.params.checkpoint_dir,
        hparams=params_json(snakemake.params.hparams),
        threads=snakemake.threads,
        throughput_log=snakemake.params.throughput_log,
    )
