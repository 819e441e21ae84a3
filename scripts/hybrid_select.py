"""Select one candidate per source with S_MBR + λ·S_align."""

from algharb.decode.config import MBRConfig
from algharb.jobs import job_context, params_json
from algharb.steps.decode import hybrid_select_file

with job_context(snakemake):
    hybrid_select_file(
        scores_path=snakemake.input[0],
        hyp_path=snakemake.output.hyp,
        selections_path=snakemake.output.selections,
        lam=snakemake.params.lam,
        mbr=MBRConfig.from_dict(params_json(snakemake.params.mbr), where="decode.mbr"),
    )
