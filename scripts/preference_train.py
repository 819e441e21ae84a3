"""One preference method of a chain (CPO, DPO, dynamic, M2PO) with LoRA; the adapter is merged for decoding."""

from algharb.jobs import job_context, params_json
from algharb.steps.train import run_training_step

with job_context(snakemake):
    # One process, or one per GPU inside a multi-GPU Slurm allocation (srun + torchrun).
    run_training_step(
        snakemake.params.stage,
        model_dir=snakemake.input.model,
        data_paths=snakemake.input.data,
        out_dir=snakemake.output[0],
        checkpoint_dir=snakemake.params.checkpoint_dir,
        hparams=params_json(snakemake.params.hparams),
        threads=snakemake.threads,
        throughput_log=snakemake.params.throughput_log,
    )
