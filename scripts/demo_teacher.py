"""Train the demo's teacher (the stand-in for DeepSeek-V3)."""

from algharb.steps.demo import train_teacher
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    train_teacher(
        base_dir=snakemake.input.base,
        files=list(snakemake.input.data),
        pairs=snakemake.params.pairs,
        out_dir=snakemake.output[0],
        checkpoint_dir=snakemake.params.checkpoint_dir,
        hparams=params_json(snakemake.params.hparams),
        seed=snakemake.params.seed,
        threads=snakemake.threads,
    )
