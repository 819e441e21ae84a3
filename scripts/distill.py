"""Teacher re-translation of the rejected pairs' sources."""

from algharb.steps.distill import distill_file
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    distill_file(
        rejected_path=snakemake.input.rejected,
        out_path=snakemake.output.distilled,
        src_lang=snakemake.params.src_lang,
        tgt_lang=snakemake.params.tgt_lang,
        teacher=snakemake.params.teacher,
        max_pairs=snakemake.params.max_pairs,
        sampling=params_json(snakemake.params.sampling),
        seed=snakemake.params.seed,
        threads=snakemake.threads,
        refilter=params_json(snakemake.params.refilter),
        lid=snakemake.params.lid,
        stats_path=snakemake.output.stats,
        chunk_dir=snakemake.params.chunk_dir,
        chunk_size=snakemake.params.chunk_size,
    )
