"""CPO with LoRA on the preference pairs; the adapter is merged for decoding."""

from algharb.steps.train import run_training_step
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    # One process, or one per GPU inside a multi-GPU Slurm allocation (srun + torchrun).
    run_training_step(
        "cpo",
        model_dir=snakemake.input.model,
        pairs_path=snakemake.input.pairs,
        out_dir=snakemake.output[0],
        checkpoint_dir=snakemake.params.checkpoint_dir,
        hparams=params_json(snakemake.params.hparams),
        threads=snakemake.threads,
        throughput_log=snakemake.params.throughput_log,
    )
