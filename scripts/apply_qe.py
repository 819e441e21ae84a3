"""QE threshold, final decisions, clean/rejected pairs and the funnel of one direction."""

from algharb.pipeline.data import apply_qe_file
from algharb.workflow import params_json, snakemake_step

with snakemake_step(snakemake):
    apply_qe_file(
        decisions_path=snakemake.input.decisions,
        scores_path=snakemake.input.scores,
        src_lang=snakemake.params.src_lang,
        tgt_lang=snakemake.params.tgt_lang,
        clean=params_json(snakemake.params.clean),
        out_decisions=snakemake.output.decisions,
        out_clean=snakemake.output.clean,
        out_rejected=snakemake.output.rejected,
        out_funnel=snakemake.output.funnel,
    )
