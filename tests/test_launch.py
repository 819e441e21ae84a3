"""algharb.launch: the srun + torchrun command of a multi-GPU step, from Slurm's environment."""

import shutil
import subprocess
import sys

import pytest

from algharb.launch import (
    expand_nodelist,
    gpus_per_node,
    launch_command,
    main,
    rendezvous_port,
    slurm_layout,
    world_size,
)

PY = "/env/bin/python"


def slurm_env(nodelist, nnodes, gpus, job_id="777", cpus="64", **extra):
    env = {"SLURM_JOB_ID": job_id, "SLURM_JOB_NODELIST": nodelist, "SLURM_JOB_NUM_NODES": str(nnodes),
           "SLURM_NNODES": str(nnodes), "SLURM_CPUS_ON_NODE": cpus, "PATH": "/usr/bin"}
    if gpus is not None:
        env["SLURM_GPUS_ON_NODE"] = str(gpus)
    env.update(extra)
    return env


def torchrun_args(command):
    """The torchrun options of a command, as a dict."""
    start = command.index("torch.distributed.run") + 1
    options, i = {}, start
    while command[i].startswith("--"):
        if command[i] == "--standalone":
            options["--standalone"] = True
            i += 1
        else:
            options[command[i]] = command[i + 1]
            i += 2
    return options, command[i:]


@pytest.mark.parametrize("nodelist, hosts", [
    ("gpu01", ["gpu01"]),
    ("gpu[01-02,05]", ["gpu01", "gpu02", "gpu05"]),
    ("gpu[01-02],login1", ["gpu01", "gpu02", "login1"]),
    ("n[8-11]", ["n8", "n9", "n10", "n11"]),
    ("n[098-101]", ["n098", "n099", "n100", "n101"]),
    ("rack[1-2]-n[1,3]", ["rack1-n1", "rack1-n3", "rack2-n1", "rack2-n3"]),
    ("a,b[3],c[1-2]", ["a", "b3", "c1", "c2"]),
])
def test_nodelists_expand_like_scontrol(nodelist, hosts):
    assert expand_nodelist(nodelist) == hosts
    if shutil.which("scontrol") and "-n[" not in nodelist:
        # Cross-check with Slurm itself where it is installed (no daemon needed).
        result = subprocess.run(["scontrol", "show", "hostnames", nodelist], capture_output=True, text=True)
        if result.returncode == 0:
            assert result.stdout.split() == hosts


@pytest.mark.parametrize("bad", ["gpu[01-02", "gpu01]", "gpu[a-b]", "gpu[5-2]"])
def test_malformed_nodelists_are_refused(bad):
    with pytest.raises(ValueError):
        expand_nodelist(bad)


@pytest.mark.parametrize("env, gpus", [
    ({"SLURM_GPUS_ON_NODE": "8"}, 8),
    ({"SLURM_GPUS_PER_NODE": "4"}, 4),
    ({"SLURM_GPUS_PER_NODE": "a100:8"}, 8),
    ({"SLURM_GPUS_PER_NODE": "gpu:a100:4(S:0-1),gpu:v100:2"}, 6),
    ({"SLURM_JOB_GPUS": "0,1,2"}, 3),
    ({}, 0),
])
def test_gpus_per_node_from_any_of_slurms_variables(env, gpus):
    assert gpus_per_node(env) == gpus


def test_one_node_eight_gpus():
    env = slurm_env("gpu07", 1, 8, job_id="4242")
    command = launch_command("algharb.cli", ["sft", "--out", "m"], env, python=PY)
    assert command[:6] == ["srun", "--overlap", "--nodes=1", "--ntasks=1", "--ntasks-per-node=1",
                           "--cpus-per-task=64"]
    assert command[command.index("--kill-on-bad-exit=1") + 1:][:3] == [PY, "-m", "torch.distributed.run"]
    options, rest = torchrun_args(command)
    assert options == {"--nnodes": "1", "--nproc_per_node": "8", "--rdzv_backend": "c10d",
                       "--rdzv_endpoint": f"gpu07:{rendezvous_port('4242')}", "--rdzv_id": "4242"}
    assert rest == ["-m", "algharb.cli", "sft", "--out", "m"]


def test_two_nodes_eight_gpus_each_meet_at_the_first_node():
    env = slurm_env("gpu[01-02]", 2, 8, job_id="123456")
    command = launch_command("algharb.cli", ["sft"], env, python=PY)
    assert "--nodes=2" in command and "--ntasks=2" in command and "--ntasks-per-node=1" in command
    options, rest = torchrun_args(command)
    assert options["--nnodes"] == "2" and options["--nproc_per_node"] == "8"
    assert options["--rdzv_endpoint"] == f"gpu01:{rendezvous_port(123456)}"
    assert options["--rdzv_id"] == "123456"
    assert rest == ["-m", "algharb.cli", "sft"]


def test_compressed_nodelist_of_three_nodes():
    env = slurm_env("gpu[01-02,05]", 3, None, SLURM_GPUS_PER_NODE="h100:4")
    command = launch_command("train.py", ["--lr", "1e-5"], env, python=PY, port=31000)
    options, rest = torchrun_args(command)
    assert options["--nnodes"] == "3" and options["--nproc_per_node"] == "4"
    assert options["--rdzv_endpoint"] == "gpu01:31000"
    assert rest == ["train.py", "--lr", "1e-5"]  # a script, not a module


def test_inside_the_plugins_job_step():
    """The executor plugin runs the rule in `srun -n1` with SLURM_* reset to the step's values."""
    env = {"SLURM_JOB_ID": "9", "SLURM_JOB_NODELIST": "localhost", "SLURM_NNODES": "1",
           "SLURM_STEP_ID": "0", "SLURM_STEP_NODELIST": "localhost", "SLURM_NTASKS": "1",
           "SLURM_GPUS_ON_NODE": "2", "SLURM_CPUS_ON_NODE": "2"}
    command = launch_command("algharb.cli", [], env, python=PY)
    assert command[:2] == ["srun", "--overlap"]
    assert torchrun_args(command)[0]["--nproc_per_node"] == "2"


def test_without_slurm_one_plain_process():
    assert launch_command("algharb.cli", ["sft", "--out", "m"], {"PATH": "/usr/bin"}, python=PY) == [
        PY, "-m", "algharb.cli", "sft", "--out", "m"]
    assert slurm_layout({"PATH": "/usr/bin"}) is None


def test_without_slurm_several_processes_on_request():
    command = launch_command("algharb.cli", ["x"], {}, python=PY, nproc_per_node=4)
    options, rest = torchrun_args(command)
    assert command[0] == PY and "srun" not in command
    assert options == {"--standalone": True, "--nnodes": "1", "--nproc_per_node": "4"}
    assert rest == ["-m", "algharb.cli", "x"]


@pytest.mark.parametrize("gpus", [1, 0, None])
def test_one_gpu_or_none_in_slurm_is_a_plain_process(gpus):
    env = slurm_env("gpu01", 1, gpus)
    assert launch_command("algharb.cli", ["x"], env, python=PY) == [PY, "-m", "algharb.cli", "x"]


def test_nproc_override_from_the_environment():
    env = slurm_env("cpu01", 1, None, ALGHARB_NPROC_PER_NODE="3")
    assert torchrun_args(launch_command("m", [], env, python=PY))[0]["--nproc_per_node"] == "3"


def test_inconsistent_node_count_is_an_error():
    with pytest.raises(ValueError, match="names 3 nodes"):
        slurm_layout(slurm_env("gpu[01-03]", 2, 8))


def test_ports_are_per_job_and_in_range():
    ports = {rendezvous_port(j) for j in range(1000, 1100)}
    assert len(ports) == 100
    assert all(29500 <= p < 39500 for p in ports)
    assert rendezvous_port("12_3") == rendezvous_port(123)  # array task ids


def test_cli_dry_run_prints_the_command(capsys, monkeypatch):
    for var, value in slurm_env("gpu[01-02]", 2, 8, job_id="55").items():
        monkeypatch.setenv(var, value)
    assert main(["--dry-run", "algharb.cli", "sft", "--out", "m"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed[:2] == ["srun", "--overlap"]
    assert printed[-4:] == ["algharb.cli", "sft", "--out", "m"]
    assert f"gpu01:{rendezvous_port(55)}" in printed


def test_cli_runs_the_plain_command_outside_slurm(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}
    result = subprocess.run([sys.executable, "-m", "algharb.launch", "json.tool", "--help"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "json.tool" in result.stdout


@pytest.mark.parametrize("env, size", [
    ({}, 1),
    (slurm_env("gpu01", 1, 1), 1),
    (slurm_env("gpu01", 1, 8), 8),
    (slurm_env("gpu[01-02]", 2, 8), 16),
    (slurm_env("cpu01", 1, None), 1),
])
def test_world_size_tells_whether_to_launch(env, size):
    assert world_size(env) == size
    command = launch_command("m", [], env, python=PY)
    assert (command[0] == "srun") == (size > 1)
