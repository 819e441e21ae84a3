"""Training curves of every training stage."""

from pathlib import Path

from algharb.io import read_jsonl
from algharb.report.plots import training_curves
from algharb.workflow import snakemake_step

with snakemake_step(snakemake):
    logs = {
        stage: read_jsonl(Path(model_dir) / "train_log.jsonl")
        for stage, model_dir in zip(snakemake.params.stages, snakemake.input)
    }
    training_curves(logs, snakemake.output[0])
