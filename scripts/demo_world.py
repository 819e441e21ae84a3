"""Generate the demo world: toy languages, oracle references, noisy corpora, labels."""

from algharb.pipeline.demo import build_world
from algharb.workflow import params_json, snakemake_step

with snakemake_step(snakemake):
    build_world(
        world=params_json(snakemake.params.world),
        pairs=snakemake.params.pairs,
        seed=snakemake.params.seed,
        out_dir=snakemake.params.out_dir,
    )
