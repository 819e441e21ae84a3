"""A seeded train/test sample of a fetched corpus (Collab-MT's WMT19 en-de train and test sets)."""

from algharb.steps.fetch import sample_train_test
from algharb.jobs import job_context

with job_context(snakemake):
    sample_train_test(
        snakemake.input.src,
        snakemake.input.tgt,
        n_train=snakemake.params.n_train,
        n_test=snakemake.params.n_test,
        seed=snakemake.params.seed,
        out=dict(snakemake.output.items()),
    )
