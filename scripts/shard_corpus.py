"""Cut one direction's raw corpus into shards of clean.shard_size lines."""

from algharb.pipeline.data import shard_corpus_step
from algharb.workflow import params_json, snakemake_step

with snakemake_step(snakemake):
    shard_corpus_step(
        spec=params_json(snakemake.params.spec),
        out_dir=snakemake.output[0],
        shard_size=snakemake.params.shard_size,
        where=f"data.corpora.{snakemake.wildcards.pair}",
    )
