"""One SFT step (step 1 on clean data, step 2 on distilled data)."""

from algharb.steps.train import run_training_step
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    # One process, or one per GPU inside a multi-GPU Slurm allocation (srun + torchrun).
    run_training_step(
        "sft",
        base=snakemake.params.base,
        data_paths=snakemake.input.data,
        out_dir=snakemake.output[0],
        checkpoint_dir=snakemake.params.checkpoint_dir,
        hparams=params_json(snakemake.params.hparams),
        threads=snakemake.threads,
        throughput_log=snakemake.params.throughput_log,
    )
