"""Generate the demo world: toy languages, oracle references, noisy corpora, labels."""

from algharb.steps.demo import build_world
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    build_world(
        world=params_json(snakemake.params.world),
        pairs=snakemake.params.pairs,
        seed=snakemake.params.seed,
        out_dir=snakemake.params.out_dir,
    )
