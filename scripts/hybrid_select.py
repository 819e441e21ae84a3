"""Select one candidate per source with S_MBR + λ·S_align."""

from algharb.steps.decode import hybrid_select_file
from algharb.jobs import job_context

with job_context(snakemake):
    hybrid_select_file(
        scores_path=snakemake.input[0],
        hyp_path=snakemake.output.hyp,
        selections_path=snakemake.output.selections,
        lam=snakemake.params.lam,
        mbr=snakemake.params.mbr,
    )
