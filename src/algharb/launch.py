"""Launch a (multi-GPU, multi-node) training step inside a Slurm allocation.

A GPU rule of ``profiles/slurm`` gets one node and one task with all of the
node's GPUs (``gpu: 8``, ``nodes: 1``, ``tasks_per_gpu: 0``). The rule then
starts its own workers, one per GPU, with torchrun; the rendezvous comes from
Slurm's environment::

    srun --overlap --nodes=N --ntasks=N --ntasks-per-node=1 --cpus-per-task=C \\
        --kill-on-bad-exit=1 python -m torch.distributed.run \\
        --nnodes N --nproc_per_node G --rdzv_backend c10d \\
        --rdzv_endpoint HEAD:PORT --rdzv_id JOBID -m algharb.cli sft ...

(``python -m torch.distributed.run`` is ``torchrun``, from the same Python.)
HEAD is the first host of ``SLURM_JOB_NODELIST``, G the GPUs per node
(``SLURM_GPUS_ON_NODE``, else ``SLURM_GPUS_PER_NODE``, ``SLURM_JOB_GPUS``),
PORT is derived from the job id so that two jobs sharing a node do not collide.
``--overlap`` matters: snakemake-executor-plugin-slurm runs the rule inside a
job step (``srun -n1 ... snakemake``) that already holds the allocation, and a
second step without ``--overlap`` would wait for it forever.

Outside Slurm, or with one process in all, the command is the plain
single-process ``python -m MODULE ARGS``.

Several nodes: request them per node, ``nodes: 2`` and ``gres: "gpu:8"``
instead of ``gpu: 8`` (``--gpus`` counts GPUs per job, not per node). The
plugin still runs the rule in a one-node step; the overlapping srun above
spans every node of the job (``SLURM_JOB_NODELIST``). Only the one-node case
is exercised by the local test cluster (tests/test_slurm.py).

From a shell (for instance a rule's ``shell:``)::

    python -m algharb.launch [--nproc-per-node G] [--port P] [--dry-run] \\
        algharb.cli sft --model ... --out ...

runs (execs) the command; ``--dry-run`` prints it.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shlex
import sys
from dataclasses import dataclass
from typing import Mapping, Sequence

DEFAULT_PORT_BASE = 29500
PORT_RANGE = 10000


def _split_top_level(text: str) -> list[str]:
    """Split a hostlist on the commas outside brackets."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ']' in node list {text!r}")
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise ValueError(f"unbalanced '[' in node list {text!r}")
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _expand_ranges(ranges: str, hostlist: str) -> list[str]:
    """``01-03,07`` → ``["01", "02", "03", "07"]`` (zero padding of the lower bound kept)."""
    values = []
    for item in ranges.split(","):
        item = item.strip()
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", item)
        if not match:
            raise ValueError(f"bad range {item!r} in node list {hostlist!r}")
        low, high = match.group(1), match.group(2) or match.group(1)
        if int(high) < int(low):
            raise ValueError(f"descending range {item!r} in node list {hostlist!r}")
        width = len(low) if low.startswith("0") and len(low) > 1 else 0
        values += [str(n).zfill(width) for n in range(int(low), int(high) + 1)]
    return values


def expand_nodelist(nodelist: str) -> list[str]:
    """Host names of a Slurm node list, in order, as ``scontrol show hostnames`` prints them.

    >>> expand_nodelist("gpu[01-02,05],login1")
    ['gpu01', 'gpu02', 'gpu05', 'login1']
    """
    hosts: list[str] = []
    for item in _split_top_level(nodelist.strip()):
        # Split "a[1-2]b[3,4]" into literal and bracket pieces, then take their product.
        pieces = re.split(r"(\[[^\]]*\])", item)
        choices = []
        for piece in pieces:
            if piece.startswith("["):
                choices.append(_expand_ranges(piece[1:-1], nodelist))
            elif piece:
                choices.append([piece])
        hosts += ["".join(combo) for combo in itertools.product(*choices)]
    return hosts


def _count_gpus(value: str) -> int:
    """``8``, ``a100:8``, ``gpu:a100:4,gpu:v100:2`` → GPUs per node."""
    total = 0
    for part in value.split(","):
        part = re.sub(r"\(.*?\)", "", part).strip()  # "(S:0-1)" socket hints
        if not part:
            continue
        last = part.split(":")[-1]
        if not last.isdigit():
            raise ValueError(f"cannot read a GPU count from {value!r}")
        total += int(last)
    return total


def gpus_per_node(env: Mapping[str, str]) -> int:
    """GPUs this job has on each node, from Slurm's environment (0 when none)."""
    if env.get("SLURM_GPUS_ON_NODE", "").strip().isdigit():
        return int(env["SLURM_GPUS_ON_NODE"])
    if env.get("SLURM_GPUS_PER_NODE", "").strip():
        return _count_gpus(env["SLURM_GPUS_PER_NODE"])
    for var in ("SLURM_STEP_GPUS", "SLURM_JOB_GPUS"):
        if env.get(var, "").strip():
            return len([g for g in env[var].split(",") if g.strip()])
    return 0


@dataclass(frozen=True)
class SlurmLayout:
    """Where the workers of one job go: ``hosts`` × ``gpus_per_node``."""

    job_id: str
    hosts: tuple[str, ...]
    gpus_per_node: int
    cpus_per_node: int | None = None

    @property
    def nnodes(self) -> int:
        return len(self.hosts)

    @property
    def head(self) -> str:
        return self.hosts[0]


def slurm_layout(env: Mapping[str, str] | None = None) -> SlurmLayout | None:
    """The allocation this process runs in, or None outside Slurm."""
    env = os.environ if env is None else env
    job_id = env.get("SLURM_JOB_ID") or env.get("SLURM_JOBID")
    if not job_id:
        return None
    nodelist = env.get("SLURM_JOB_NODELIST") or env.get("SLURM_NODELIST")
    if not nodelist:
        raise ValueError("SLURM_JOB_ID is set but SLURM_JOB_NODELIST is not")
    hosts = tuple(expand_nodelist(nodelist))
    declared = env.get("SLURM_JOB_NUM_NODES") or env.get("SLURM_NNODES")
    if declared and declared.isdigit() and int(declared) != len(hosts) and "SLURM_STEP_ID" not in env:
        raise ValueError(f"SLURM_JOB_NODELIST={nodelist!r} names {len(hosts)} nodes, "
                         f"but SLURM_NNODES={declared}")
    cpus = env.get("SLURM_CPUS_ON_NODE", "")
    return SlurmLayout(job_id=job_id, hosts=hosts, gpus_per_node=gpus_per_node(env),
                       cpus_per_node=int(cpus) if cpus.isdigit() else None)


def world_size(env: Mapping[str, str] | None = None, nproc_per_node: int | None = None) -> int:
    """How many workers :func:`launch_command` starts here (1: a plain process)."""
    env = os.environ if env is None else env
    if nproc_per_node is None and env.get("ALGHARB_NPROC_PER_NODE", "").isdigit():
        nproc_per_node = int(env["ALGHARB_NPROC_PER_NODE"])
    layout = slurm_layout(env)
    if layout is None:
        return max(1, nproc_per_node or 1)
    nproc = nproc_per_node if nproc_per_node is not None else max(1, layout.gpus_per_node)
    return layout.nnodes * nproc


def rendezvous_port(job_id: str | int) -> int:
    """A port for the c10d rendezvous, the same on every node of a job."""
    digits = re.sub(r"\D", "", str(job_id)) or "0"
    return DEFAULT_PORT_BASE + int(digits) % PORT_RANGE


def _target(entry: str, args: Sequence[str]) -> list[str]:
    """``-m module args`` for a module, ``script.py args`` for a file."""
    if entry.endswith(".py") or os.sep in entry:
        return [entry, *args]
    return ["-m", entry, *args]


def launch_command(entry: str, args: Sequence[str] = (), env: Mapping[str, str] | None = None, *,
                   nproc_per_node: int | None = None, port: int | None = None,
                   python: str | None = None) -> list[str]:
    """The command that runs ``entry`` (a module, or a ``.py`` script) with ``args``.

    Inside a Slurm allocation with more than one worker in all: srun (one task
    per node) + torchrun (``nproc_per_node`` workers per node, default: the
    node's GPUs), rendezvous at the first node. Otherwise one plain process,
    or, outside Slurm with ``nproc_per_node`` > 1, a standalone torchrun.
    """
    env = os.environ if env is None else env
    python = python or sys.executable
    layout = slurm_layout(env)
    if nproc_per_node is None and env.get("ALGHARB_NPROC_PER_NODE", "").isdigit():
        nproc_per_node = int(env["ALGHARB_NPROC_PER_NODE"])
    torchrun = [python, "-m", "torch.distributed.run"]
    if layout is None:
        if nproc_per_node and nproc_per_node > 1:
            return [*torchrun, "--standalone", "--nnodes", "1", "--nproc_per_node", str(nproc_per_node),
                    *_target(entry, args)]
        return [python, *_target(entry, args)]

    nproc = nproc_per_node if nproc_per_node is not None else max(1, layout.gpus_per_node)
    if nproc < 1:
        raise ValueError(f"nproc_per_node must be >= 1, got {nproc}")
    if layout.nnodes * nproc == 1:
        return [python, *_target(entry, args)]
    srun = ["srun", "--overlap", f"--nodes={layout.nnodes}", f"--ntasks={layout.nnodes}",
            "--ntasks-per-node=1"]
    if layout.cpus_per_node:
        srun.append(f"--cpus-per-task={layout.cpus_per_node}")
    srun.append("--kill-on-bad-exit=1")
    port = port or rendezvous_port(layout.job_id)
    return [*srun, *torchrun, "--nnodes", str(layout.nnodes), "--nproc_per_node", str(nproc),
            "--rdzv_backend", "c10d", "--rdzv_endpoint", f"{layout.head}:{port}",
            "--rdzv_id", str(layout.job_id), *_target(entry, args)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m algharb.launch",
        description="Run a module (or .py script) on every GPU of the Slurm allocation: "
                    "srun + torchrun inside Slurm, one plain process outside.")
    parser.add_argument("--nproc-per-node", type=int, default=None,
                        help="workers per node (default: the node's GPUs from Slurm's environment)")
    parser.add_argument("--port", type=int, default=None, help="rendezvous port (default: from the job id)")
    parser.add_argument("--dry-run", action="store_true", help="print the command instead of running it")
    parser.add_argument("entry", help="module (algharb.cli) or script (train.py)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments of the entry")
    options = parser.parse_args(argv)
    command = launch_command(options.entry, options.args, nproc_per_node=options.nproc_per_node,
                             port=options.port)
    if options.dry_run:
        print(shlex.join(command))
        return 0
    print(f"algharb.launch: {shlex.join(command)}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os.execvp(command[0], command)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main())
