"""N sampled candidates per test sentence for hybrid MBR decoding."""

from algharb.steps.decode import candidates_file
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    candidates_file(
        model=snakemake.params.model,
        src_path=snakemake.input.src,
        out_path=snakemake.output[0],
        src_lang=snakemake.params.src_lang,
        tgt_lang=snakemake.params.tgt_lang,
        n=snakemake.params.n,
        sampling=params_json(snakemake.params.sampling),
        seed=snakemake.params.seed,
        threads=snakemake.threads,
        chunk_dir=snakemake.params.chunk_dir,
        chunk_size=snakemake.params.chunk_size,
    )
