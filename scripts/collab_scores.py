"""Scores of every Collab-MT table row for one direction (each distinct decoding scored once)."""

from algharb.steps.collab import score_decodings
from algharb.jobs import params_json, job_context

with job_context(snakemake):
    score_decodings(
        src_path=snakemake.input.src,
        ref_path=snakemake.input.tgt,
        hypotheses={row: f"{snakemake.input.hyps}/{row}.txt" for row in snakemake.params.decoded},
        decoded_as=params_json(snakemake.params.decoded_as),
        direction=snakemake.wildcards.direction,
        metrics=snakemake.params.metrics,
        metric_models=snakemake.params.metric_models,
        batch_size=snakemake.params.batch_size,
        threads=snakemake.threads,
        out_path=snakemake.output[0],
    )
