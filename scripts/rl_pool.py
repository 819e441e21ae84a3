"""Candidate pool per RL source: policy samples plus the teacher's translation."""

from algharb.config.sections import PoolConfig
from algharb.steps.rl import build_pool
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    build_pool(
        sources_path=snakemake.input.sources,
        out_path=snakemake.output[0],
        src_lang=snakemake.params.src_lang,
        tgt_lang=snakemake.params.tgt_lang,
        policy=snakemake.params.policy,
        teacher=snakemake.params.teacher,
        pool=PoolConfig.from_dict(params_json(snakemake.params.pool), where="rl.pool"),
        seed=snakemake.params.seed,
        threads=snakemake.threads,
        chunk_dir=snakemake.params.chunk_dir,
    )
