"""Cut one direction's raw corpus into shards of clean.shard_size lines."""

from algharb.steps.data import shard_corpus_step
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    shard_corpus_step(
        spec=params_json(snakemake.params.spec),
        out_dir=snakemake.output[0],
        shard_size=snakemake.params.shard_size,
        max_malformed_share=snakemake.params.max_malformed_share,
        where=f"data.corpora.{snakemake.wildcards.pair}",
    )
