"""Training curves of every training stage."""

from pathlib import Path

from algharb.io import read_jsonl
from algharb.report.plots import training_curves
from algharb.jobs import job_context

with job_context(snakemake):
    logs = {
        stage: read_jsonl(Path(model_dir) / "train_log.jsonl")
        for stage, model_dir in zip(snakemake.params.stages, snakemake.input)
    }
    training_curves(logs, snakemake.output[0])
