"""Training steps: two-step SFT, preference pairs, and the preference methods (CPO, DPO, dynamic, M2PO)."""

from __future__ import annotations

import logging

from ..io import read_jsonl, write_json, write_jsonl
from ..models import local_model_dir
from ..registry import Registry

log = logging.getLogger(__name__)

# The training stages a rule (or a torchrun worker) runs, by name.
TRAINING_STAGES = Registry("training stage")


def _hparams(hparams: dict, threads: int) -> dict:
    # The section (seed included) comes from the config; the job's own thread count wins.
    return {**hparams, "threads": threads}


def read_rows(paths) -> list[dict]:
    """The JSONL rows of one path or of several, in order."""
    if isinstance(paths, str) or hasattr(paths, "__fspath__"):
        paths = [paths]
    rows = []
    for path in paths:
        part = read_jsonl(path)
        log.info("%s: %d rows", path, len(part))
        rows += part
    if not rows:
        raise ValueError(f"no training rows in {list(map(str, paths))}")
    return rows


@TRAINING_STAGES.register("sft")
def sft_step(base: dict, data_paths, out_dir, checkpoint_dir, hparams: dict, threads: int = 1,
             throughput_log=None):
    """One SFT step on the rows of every direction (mixed and shuffled by the trainer).

    ``throughput_log``: where tokens/s and MFU per step go (timings, not results).
    """
    from ..train.sft import run_sft

    rows = [{k: r[k] for k in ("src", "tgt", "src_lang", "tgt_lang")} for r in read_rows(data_paths)]
    return run_sft(local_model_dir(base), rows, out_dir, checkpoint_dir, _hparams(hparams, threads),
                   throughput_log=throughput_log)


def preference_pairs_step(pool_paths, real_path, noised_path, stats_path, margin: float, seed: int,
                          p_delete: float, p_swap: float) -> dict:
    """Chosen/rejected pairs from the scored pools (real), and the same with noised rejected ones.

    The stats file counts, for both, the pairs kept, the sources skipped by
    reason and the systems the chosen and rejected translations came from.
    """
    from ..train.preference_data import build_preference_pairs, noised_pairs

    real, real_stats = build_preference_pairs(read_rows(pool_paths), margin)
    noised, noised_stats = noised_pairs(real, seed, p_delete, p_swap)
    write_jsonl(real_path, real)
    write_jsonl(noised_path, noised)
    stats = {"margin": margin, "real": real_stats, "noised": {"p_delete": p_delete, "p_swap": p_swap, **noised_stats}}
    write_json(stats_path, stats)
    log.info("preference pairs: %s", stats)
    return stats


# The preference methods' stages (algharb.train.methods) all read their data (pairs or pools) from
# ``data_paths``; trl and torch are imported in the job that trains.


def _run_preference(run, model_dir, data_paths, out_dir, checkpoint_dir, hparams, threads, throughput_log):
    return run(model_dir, read_rows(data_paths), out_dir, checkpoint_dir, _hparams(hparams, threads),
               throughput_log=throughput_log)


@TRAINING_STAGES.register("cpo")
def cpo_step(model_dir, data_paths, out_dir, checkpoint_dir, hparams: dict, threads: int = 1, throughput_log=None):
    from ..train.cpo import run_cpo

    return _run_preference(run_cpo, model_dir, data_paths, out_dir, checkpoint_dir, hparams, threads, throughput_log)


@TRAINING_STAGES.register("dpo")
def dpo_step(model_dir, data_paths, out_dir, checkpoint_dir, hparams: dict, threads: int = 1, throughput_log=None):
    from ..train.dpo import run_dpo

    return _run_preference(run_dpo, model_dir, data_paths, out_dir, checkpoint_dir, hparams, threads, throughput_log)


@TRAINING_STAGES.register("dynamic")
def dynamic_step(model_dir, data_paths, out_dir, checkpoint_dir, hparams: dict, threads: int = 1,
                 throughput_log=None):
    from ..train.dynamic import run_dynamic

    return _run_preference(run_dynamic, model_dir, data_paths, out_dir, checkpoint_dir, hparams, threads,
                           throughput_log)


@TRAINING_STAGES.register("m2po")
def m2po_step(model_dir, data_paths, out_dir, checkpoint_dir, hparams: dict, threads: int = 1, throughput_log=None):
    from ..train.m2po import run_m2po

    return _run_preference(run_m2po, model_dir, data_paths, out_dir, checkpoint_dir, hparams, threads, throughput_log)


def run_training_step(name: str, **kwargs):
    """Run a training step in this process or, in a multi-GPU Slurm allocation, once per GPU.

    With more than one worker (:func:`algharb.launch.world_size`), the call is
    written to ``{checkpoint_dir}/{name}_call.json`` and this module is started
    on every GPU through srun + torchrun (:func:`algharb.launch.launch_command`);
    the trainers save from the main process only. Checkpoints left in
    ``checkpoint_dir`` by a run with other data, hyperparameters or starting
    model (:func:`training_identity`) are discarded first, so that a rerun
    resumes only its own work.
    """
    import subprocess
    from pathlib import Path

    from ..launch import launch_command, world_size

    from ..train.common import discard_checkpoints_of_other_runs

    stage = TRAINING_STAGES.get(name)
    if discard_checkpoints_of_other_runs(kwargs["checkpoint_dir"], training_identity(name, kwargs)):
        log.warning("%s: the checkpoints in %s came from a run with other data, hyperparameters or starting model; "
                    "training afresh", name, kwargs["checkpoint_dir"])
    workers = world_size()
    if workers <= 1:
        return stage(**kwargs)
    call = Path(kwargs["checkpoint_dir"]) / f"{name}_call.json"
    call.parent.mkdir(parents=True, exist_ok=True)
    write_json(call, {key: _jsonable(value) for key, value in kwargs.items()})
    command = launch_command("algharb.steps.train", [name, str(call)])
    log.info("%s on %d workers: %s", name, workers, " ".join(command))
    subprocess.run(command, check=True)
    return None


def training_identity(name: str, kwargs: dict) -> dict:
    """What decides a training step's result: the stage, its hyperparameters, the data's bytes, the starting model.

    The job's thread count and where timings go are left out; the starting
    model enters by its files' sizes and mtimes (hashing 28 GB of weights
    would take minutes; a retrained model is rewritten).
    """
    from pathlib import Path

    from ..audit import file_sha256
    from ..generation.chunks import file_stamps, model_identity

    data = kwargs["data_paths"]
    paths = [data] if isinstance(data, str) or hasattr(data, "__fspath__") else list(data)
    model = model_identity(kwargs["base"]) if "base" in kwargs else {"files": file_stamps(Path(kwargs["model_dir"]))}
    return {"stage": name, "hparams": {k: v for k, v in dict(kwargs["hparams"]).items() if k != "threads"},
            "data_sha256": [file_sha256(path) for path in paths], "model": model}


def _jsonable(value):
    """Snakemake's input lists and paths as plain JSON values."""
    if isinstance(value, (str, int, float, bool, dict)) or value is None:
        return value
    if hasattr(value, "__fspath__"):
        return str(value)
    return [_jsonable(item) for item in value]


def main(argv=None) -> int:
    """Worker entry point: ``python -m algharb.steps.train STEP CALL.json`` (one per GPU)."""
    import json
    import sys

    from ..train.common import leave_process_group

    name, call = (sys.argv[1:] if argv is None else argv)
    with open(call, encoding="utf-8") as handle:
        kwargs = json.load(handle)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    TRAINING_STAGES.get(name)(**kwargs)
    leave_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
