"""Glue between Snakemake's ``script:`` directive and the package.

Scripts stay a few lines long: they open :func:`job_context` and call one
function of :mod:`algharb.steps` with the rule's inputs, outputs and params.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from pathlib import Path


@contextlib.contextmanager
def job_context(snakemake):
    """Send all output to the rule's log, pin thread counts, configure logging."""
    log_path = Path(snakemake.log[0])
    log_path.parent.mkdir(parents=True, exist_ok=True)
    threads = str(max(1, int(snakemake.threads)))
    # One thread per job: jobs run side by side, and oversubscribed BLAS
    # threads slow everything down when two jobs share the cores.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TOKENIZERS_PARALLELISM"):
        os.environ[var] = "false" if var == "TOKENIZERS_PARALLELISM" else threads
    with open(log_path, "a", encoding="utf-8", buffering=1) as log, contextlib.redirect_stdout(
        log
    ), contextlib.redirect_stderr(log):
        handler = logging.StreamHandler(log)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            import torch

            torch.set_num_threads(int(threads))
        except ImportError:
            pass
        try:
            yield
        except Exception:
            logging.exception("step failed")
            raise
        finally:
            root.removeHandler(handler)
            sys.stdout.flush()


def params_json(value):
    """Decode a param passed as JSON by the rules (see ``as_json`` in common.smk)."""
    return json.loads(value) if isinstance(value, str) else value


def pin_hash_seed(seed: int) -> None:
    """Fix Python's string hash seed for every job this workflow starts.

    Iteration order over sets of strings follows the per-process hash seed
    (e.g. the module names peft saves in adapter_config.json), so without
    this two runs with one config write different bytes. Jobs inherit the
    variable; the current process keeps its own seed.
    """
    os.environ["PYTHONHASHSEED"] = str(int(seed))
