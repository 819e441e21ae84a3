"""Score one system's output on one test set: corpus scores, segment scores, error spans."""

from algharb.steps.evaluate import evaluate_file
from algharb.jobs import job_context

with job_context(snakemake):
    evaluate_file(
        src_path=snakemake.input.src,
        ref_path=snakemake.input.tgt,
        hyp_path=snakemake.input.hyp,
        out_path=snakemake.output.scores,
        segments_path=snakemake.output.segments,
        spans_path=snakemake.output.spans,
        metrics=snakemake.params.metrics,
        tgt_lang=snakemake.params.tgt_lang,
        model=snakemake.params.model,
        metric_models=snakemake.params.metric_models,
        batch_size=snakemake.params.batch_size,
        threads=snakemake.threads,
    )
