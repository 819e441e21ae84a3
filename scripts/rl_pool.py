"""Candidate pool per RL source: policy samples, the teacher's translation and, where known, the reference."""

from algharb.config.sections import PoolConfig
from algharb.jobs import job_context, params_json
from algharb.steps.rl import build_pool, rl_references

with job_context(snakemake):
    references = None
    if snakemake.input.references:
        reference_file, lines = snakemake.input.references
        references = rl_references(reference_file, snakemake.input.sources, lines)
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
        references=references,
    )
