"""Select one candidate per source with S_MBR + λ·S_align."""

from algharb.pipeline.decode import hybrid_select_file
from algharb.workflow import snakemake_step

with snakemake_step(snakemake):
    hybrid_select_file(
        scores_path=snakemake.input[0],
        hyp_path=snakemake.output.hyp,
        selections_path=snakemake.output.selections,
        lam=snakemake.params.lam,
        mbr=snakemake.params.mbr,
    )
