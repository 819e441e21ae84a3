"""Every distinct decoding of one Collab-MT direction (single models and logit fusions)."""

from algharb.steps.collab import decode_direction
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    decode_direction(
        generators=params_json(snakemake.params.generators),
        src_path=snakemake.input.src,
        out_dir=snakemake.output[0],
        src_lang=snakemake.params.src_lang,
        tgt_lang=snakemake.params.tgt_lang,
        sampling=params_json(snakemake.params.sampling),
        chunk_dir=snakemake.params.chunk_dir,
        chunk_size=snakemake.params.chunk_size,
        threads=snakemake.threads,
    )
