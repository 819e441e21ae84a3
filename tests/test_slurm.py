"""profiles/slurm against a real Slurm cluster (hpc/slurm/start.sh), not a mock.

- every rule maps to a partition on purpose (static, no cluster needed);
- the reduced demo workflow, up to the merged clean data of one direction,
  runs through ``snakemake --profile profiles/slurm`` and each job ran on the
  partition the profile assigns to its rule, as Slurm itself records it:
  the controller's job records (``scontrol show job``: comment = rule and
  wildcards, partition, GPUs asked for) and the job-completion log
  (``sacct --completion``: partition, final state, work directory);
- a ``scancel`` of a running GPU job fails the workflow, leaves no output of
  that job behind, and a rerun completes with every output identical to the
  undisturbed run (results/manifest.json checksums);
- a multi-GPU rule launches torchrun workers through ``algharb.launch``
  inside its allocation (gloo all-reduce across the workers).

The cluster tests run against the local test cluster (ClusterName algharb),
or any cluster when ALGHARB_SLURM_TESTS=1; ALGHARB_REQUIRE_SLURM=1 (CI) turns
a missing cluster into a failure instead of a skip.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "profiles" / "slurm"
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
PAIR = "en-qaa"
TARGET = f"results/data/{PAIR}/clean.jsonl"
# The DAG up to TARGET: crosses both partitions (score_qe is a GPU rule).
TARGET_RULES = {"demo_world", "demo_lid", "demo_comet_encoder", "demo_qe_standin", "shard_corpus", "clean_shard",
                "dedup", "score_qe", "qe_cutoff", "finalize_shard", "merge_shards"}
CANCELLED_SHARD = "00000"
# Poll fast on the test cluster (the profile's 40 s suit a real one).
FAST_POLLING = ["--slurm-init-seconds-before-status-checks", "2", "--seconds-between-status-checks", "2"]


# --- the profile, as Snakemake reads it ------------------------------------------------------------------


def load_profile(env: dict[str, str] | None = None) -> dict:
    """profiles/slurm/config.yaml rendered (yte) under ``env``; partition names unquoted."""
    import yte

    with mock.patch.dict(os.environ, env or {}, clear=env is not None):
        with open(PROFILE / "config.yaml") as handle:
            profile = yte.process_yaml(handle, require_use_yte=True)
    for resources in [profile["default-resources"], *profile["set-resources"].values()]:
        for key in ("slurm_partition", "slurm_account"):
            if key in resources:
                resources[key] = ast.literal_eval(resources[key])
    return profile


def expected_partition(profile: dict, rule: str) -> str:
    return profile["set-resources"].get(rule, {}).get(
        "slurm_partition", profile["default-resources"]["slurm_partition"])


def workflow_rules() -> set[str]:
    result = subprocess.run([SNAKEMAKE, "--list-rules"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    return set(result.stdout.split()) - {"all", "collab", "preference"}  # targets: inputs only, no job


def test_every_rule_is_assigned_a_partition_on_purpose():
    profile = load_profile({})
    assert set(profile["set-resources"]) == workflow_rules()
    for rule, resources in profile["set-resources"].items():
        assert resources["slurm_partition"] in ("cpu", "gpu"), rule
        assert resources["runtime"] > 0 and resources["mem_mb"] > 0, rule
        if resources["slurm_partition"] == "gpu":
            assert resources["gpu"] >= 1 and resources["cpus_per_gpu"] >= 1 and resources["nodes"] == 1, rule
        else:
            assert "gpu" not in resources and "gres" not in resources, rule
    gpu_rules = {r for r, res in profile["set-resources"].items() if res["slurm_partition"] == "gpu"}
    assert {"score_qe", "sft_step1", "sft_step2", "preference_train", "evaluate"} <= gpu_rules
    assert {"shard_corpus", "clean_shard", "dedup", "merge_shards"}.isdisjoint(gpu_rules)
    # The 14B training rules: 8 GPUs of one node.
    for rule in ("sft_step1", "sft_step2", "preference_train", "distill"):
        assert profile["set-resources"][rule]["gpu"] == 8
    assert profile["slurm-status-command"] == "squeue"
    assert profile["retries"] >= 1
    assert "slurm_account" not in profile["default-resources"]


def test_site_names_and_caps_come_from_the_environment():
    profile = load_profile({"ALGHARB_SLURM_ACCOUNT": "proj42", "ALGHARB_SLURM_CPU_PARTITION": "compute",
                            "ALGHARB_SLURM_GPU_PARTITION": "a100", "ALGHARB_SLURM_MAX_GPUS": "2",
                            "ALGHARB_SLURM_MAX_CPUS": "4", "ALGHARB_SLURM_MAX_MEM_MB": "3000"})
    assert profile["default-resources"]["slurm_account"] == "proj42"
    assert expected_partition(profile, "dedup") == "compute"
    assert expected_partition(profile, "score_qe") == "a100"
    sft = profile["set-resources"]["sft_step1"]
    assert (sft["gpu"], sft["cpus_per_gpu"], sft["mem_mb"]) == (2, 2, 3000)


def test_snakemake_reads_the_profile(tmp_path):
    """A dry run of the paper's DAG through the profile (the plugin is loaded; nothing is submitted)."""
    result = subprocess.run([SNAKEMAKE, "all", "--dry-run", "--quiet", "rules", "--profile", str(PROFILE),
                             "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
                             f"--configfile={ROOT / 'config/wmt25.yaml'}"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "sft_step1" in result.stdout + result.stderr


# --- the cluster ------------------------------------------------------------------------------------------


def cluster_env() -> dict[str, str]:
    """This environment, pointed at the local test cluster when one was started here."""
    env = dict(os.environ)
    local_conf = Path(env.get("ALGHARB_SLURM_DIR", "/tmp/algharb-slurm")) / "etc" / "slurm.conf"
    if "SLURM_CONF" not in env and local_conf.is_file():
        env["SLURM_CONF"] = str(local_conf)
    return env


def slurm(*args: str, env=None, check=True) -> str:
    result = subprocess.run(list(args), capture_output=True, text=True, env=env or cluster_env(), timeout=60)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def why_no_cluster() -> str | None:
    if not shutil.which("sinfo"):
        return "Slurm is not installed (start a local cluster with hpc/slurm/start.sh)"
    try:
        result = subprocess.run(["sinfo", "-h"], capture_output=True, text=True, env=cluster_env(), timeout=20)
    except subprocess.TimeoutExpired:
        return "sinfo timed out: no slurmctld answers (hpc/slurm/start.sh)"
    if result.returncode != 0:
        return f"no Slurm cluster reachable, sinfo: {result.stderr.strip()[:200]} (hpc/slurm/start.sh)"
    config = slurm("scontrol", "show", "config", check=False)
    name = re.search(r"^ClusterName\s*=\s*(\S+)", config, re.M)
    if (name and name.group(1)) != "algharb" and os.environ.get("ALGHARB_SLURM_TESTS") != "1":
        return ("the reachable Slurm cluster is not the local test cluster of hpc/slurm/start.sh; "
                "set ALGHARB_SLURM_TESTS=1 to submit the test jobs to it")
    return None


@pytest.fixture(scope="module")
def cluster():
    """Environment for Snakemake on the cluster, with the profile's requests capped to its node."""
    reason = why_no_cluster()
    if reason:
        if os.environ.get("ALGHARB_REQUIRE_SLURM") == "1":
            pytest.fail(f"ALGHARB_REQUIRE_SLURM=1 but {reason}")
        pytest.skip(reason)
    env = cluster_env()
    partitions = set(slurm("sinfo", "-h", "-o", "%R", env=env).split())
    profile = load_profile(env)
    needed = {expected_partition(profile, r) for r in ("dedup", "score_qe")}
    if not needed <= partitions:
        pytest.skip(f"the cluster lacks partition(s) {sorted(needed - partitions)} named by the profile")
    # The smallest node of the cluster bounds every request (the real numbers are for a GPU cluster).
    nodes = [line.split("|") for line in slurm("sinfo", "-h", "-N", "-o", "%c|%m|%G", env=env).split()]
    cpus = min(int(c) for c, _, _ in nodes)
    mem = min(int(m) for _, m, _ in nodes)
    gpus = min(sum(map(int, re.findall(r"gpu(?::[^:,(]+)?:(\d+)", gres))) for _, _, gres in nodes)
    if gpus < 2:
        pytest.skip("the cluster's nodes have fewer than 2 GPUs (hpc/slurm/start.sh makes 8 fake ones)")
    env.update(ALGHARB_SLURM_MAX_CPUS=str(cpus), ALGHARB_SLURM_MAX_MEM_MB=str(min(3000, mem // 2)),
               ALGHARB_SLURM_MAX_GPUS="2", ALGHARB_SLURM_CPUS_PER_GPU="1", ALGHARB_SLURM_MAX_RUNTIME="30")
    return env


def reduced_one_pair_config() -> dict:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_workflow import reduced_config

    config = reduced_config()
    config["pairs"] = [PAIR]
    for section in ("corpora", "dev", "test", "noise_labels", "rl_references"):
        config["data"][section] = {PAIR: config["data"][section][PAIR]}
    config["clean"]["shard_size"] = 800  # 1500 raw lines: two shards, two score_qe jobs
    return config


def snakemake_command(workdir: Path, *args: str) -> list[str]:
    return [SNAKEMAKE, TARGET, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
            f"--configfile={workdir / 'config.yaml'}", "--profile", str(PROFILE), *FAST_POLLING, *args]


def run_snakemake(env, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake_command(workdir, *args), capture_output=True, text=True, cwd=workdir,
                          env=env, timeout=1500)


def parse_scontrol_jobs(text: str) -> dict[str, dict[str, str]]:
    jobs = {}
    for line in text.splitlines():
        fields = dict(re.findall(r"(\S+?)=(\S*)", line))
        if "JobId" in fields:
            jobs[fields["JobId"]] = fields
    return jobs


def run_ids(snakemake_output: str) -> set[str]:
    """The plugin names every Slurm job of one Snakemake run after the run's id."""
    ids = set(re.findall(r"SLURM run ID: (\S+)", snakemake_output))
    assert ids, "no 'SLURM run ID' in Snakemake's output"
    return ids


def slurm_records(env, workdir: Path, runs: set[str]) -> list[dict[str, str]]:
    """Every Slurm job of the Snakemake ``runs`` in ``workdir``: the completion log joined with
    the controller's record (which holds the plugin's comment: rule and wildcards)."""
    controller = parse_scontrol_jobs(slurm("scontrol", "show", "job", "-o", env=env))
    completion = slurm("sacct", "--completion", "--parsable2", "--noheader",
                       "--format=JobID,JobName,Partition,State,WorkDir,ExitCode", env=env)
    records = []
    for line in completion.splitlines():
        job_id, name, partition, state, job_workdir, exit_code = line.split("|")
        if Path(job_workdir) != workdir or name not in runs:
            continue
        job = controller.get(job_id)
        assert job is not None, (f"slurmctld no longer knows job {job_id}: MinJobAge is too short "
                                 "for this test (hpc/slurm/start.sh sets 3600)")
        match = re.fullmatch(r"rule_(.+?)(?:_wildcards_(.*))?", job.get("Comment", ""))
        assert match, f"job {job_id} has no rule comment: {job.get('Comment')!r}"
        records.append({"job_id": job_id, "rule": match.group(1), "wildcards": match.group(2) or "",
                        "partition": partition, "state": state, "exit_code": exit_code,
                        "controller_partition": job["Partition"], "tres_per_job": job.get("TresPerJob", "")})
    return records


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory):
    """The reduced workflow through the profile, undisturbed."""
    workdir = tmp_path_factory.mktemp("slurm_run")
    (workdir / "config.yaml").write_text(yaml.safe_dump(reduced_one_pair_config()))
    start = time.monotonic()
    result = run_snakemake(cluster, workdir)
    elapsed = time.monotonic() - start
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-8000:]
    print(f"reduced workflow through profiles/slurm: {elapsed:.0f} s")
    return workdir, run_ids(result.stdout + result.stderr)


@pytest.mark.slow
@pytest.mark.slurm
def test_each_job_ran_on_the_partition_the_profile_assigns(cluster, slurm_run):
    workdir, runs = slurm_run
    profile = load_profile(cluster)
    records = slurm_records(cluster, workdir, runs)
    assert {r["rule"] for r in records} == TARGET_RULES
    assert len(records) == 14  # 11 rules; clean_shard, score_qe, finalize_shard once per shard
    for record in records:
        expected = expected_partition(profile, record["rule"])
        assert record["partition"] == expected, record
        assert record["controller_partition"] == expected, record
        assert record["state"] == "COMPLETED" and record["exit_code"] == "0:0", record
        gpus = profile["set-resources"][record["rule"]].get("gpu")
        if gpus:
            assert record["tres_per_job"] == f"gres:gpu:{gpus}", record
        else:
            assert record["tres_per_job"] in ("", "(null)"), record
    assert {r["partition"] for r in records} == {expected_partition(profile, "dedup"),
                                                  expected_partition(profile, "score_qe")}
    assert (workdir / TARGET).stat().st_size > 0


def shard_dir(workdir: Path, shard: str = CANCELLED_SHARD) -> Path:
    return workdir / f"results/data/{PAIR}/shards/{shard}"


def wait_for(condition, timeout: float, what: str, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(f"snakemake exited ({process.returncode}) while waiting for {what}")
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.mark.slow
@pytest.mark.slurm
def test_scancel_mid_workflow_fails_cleanly_and_a_rerun_completes(cluster, slurm_run, tmp_path_factory):
    from algharb.audit import compare_manifests, read_manifest

    undisturbed, _ = slurm_run
    # The undisturbed run's folder, rewound to before the QE scores: what a run
    # looks like halfway through its data stage.
    workdir = tmp_path_factory.mktemp("slurm_scancel")
    shutil.copytree(undisturbed, workdir, dirs_exist_ok=True, symlinks=True)
    base = workdir / f"results/data/{PAIR}"
    rewound = [workdir / "results/manifest.json", base / "qe_rejected.npz",
               *(base / name for name in ("decisions.tsv", "clean.jsonl", "rejected.jsonl", "funnel.tsv")),
               *(shard / name for shard in base.glob("shards/0*")
                 for name in ("qe_scores.tsv", "kept.src", "kept.tgt", "rejected.tsv", "decisions.tsv"))]
    for path in rewound:
        path.unlink()
    before = sorted(p.name for p in shard_dir(workdir).iterdir())
    assert before == ["dedup_keys.npz", "rule_decisions.tsv"]
    started = time.time()
    # No retries, so that the cancel ends the run.
    log = open(workdir / "snakemake.out", "w+")
    process = subprocess.Popen(snakemake_command(workdir, "--retries", "0"),
                               stdout=log, stderr=subprocess.STDOUT, text=True, cwd=workdir, env=cluster)
    try:
        comment = f"rule_score_qe_wildcards_{PAIR}_{CANCELLED_SHARD}"

        def running_job():
            jobs = parse_scontrol_jobs(slurm("scontrol", "show", "job", "-o", env=cluster))
            for job_id, job in jobs.items():
                if (job.get("Comment") == comment and Path(job.get("WorkDir", "")) == workdir
                        and job.get("JobState") == "RUNNING"):
                    return job_id
            return None

        job_id = wait_for(running_job, 300, "score_qe to run", process)
        # Cancel once the rule's own code has started (its log is written again).
        rule_log = workdir / f"logs/data/{PAIR}/score_qe/{CANCELLED_SHARD}.log"
        wait_for(lambda: rule_log.exists() and rule_log.stat().st_mtime > started, 120,
                 "score_qe to start its script", process)
        slurm("scancel", job_id, env=cluster)
        process.wait(timeout=600)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # snakemake cancels its Slurm jobs
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=60)
    log.seek(0)
    output = log.read()
    assert process.returncode != 0, output[-4000:]
    assert re.search(rf"SLURM-job '{job_id}' failed, SLURM status is: 'CANCELLED'", output), output[-4000:]
    assert "Error in rule score_qe" in output, output[-4000:]

    # Slurm's records: the job was cancelled on the GPU partition.
    cancelled = [r for r in slurm_records(cluster, workdir, run_ids(output)) if r["job_id"] == job_id]
    assert [(r["rule"], r["state"], r["partition"]) for r in cancelled] == [
        ("score_qe", "CANCELLED", expected_partition(load_profile(cluster), "score_qe"))]

    # No output of the cancelled job, complete or not, anywhere in its shard folder.
    leftovers = sorted(p.relative_to(workdir).as_posix() for p in shard_dir(workdir).rglob("*")
                       if "qe_scores" in p.name)
    assert leftovers == [], leftovers
    # ... and nothing else new (no temporary file or folder of a half-written output).
    assert sorted(p.name for p in shard_dir(workdir).iterdir()) == before
    assert not (base / "clean.jsonl").exists()

    # The rerun (the profile's own retries) completes, and every output equals the undisturbed run's.
    result = run_snakemake(cluster, workdir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-8000:]
    rerun = result.stdout + result.stderr
    assert "(Rule: score_qe)" in rerun and "(Rule: merge_shards)" in rerun and "steps (100%) done" in rerun
    first = read_manifest(undisturbed / "results/manifest.json")
    second = read_manifest(workdir / "results/manifest.json")
    differences = [row["key"] for row in compare_manifests(first, second) if row["section"] == "outputs"]
    assert differences == []
    assert (base / "clean.jsonl").stat().st_size > 0
    assert not list((workdir / ".snakemake" / "incomplete").rglob("*"))


PROBE = """\
import json, os, sys
import torch
import torch.distributed as dist

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
value = torch.tensor([float(rank + 1)])
dist.all_reduce(value)
info = {"rank": rank, "world": world, "local_rank": int(os.environ["LOCAL_RANK"]), "sum": value.item(),
        "master": os.environ.get("MASTER_ADDR"), "job": os.environ.get("SLURM_JOB_ID"),
        "gpus_on_node": os.environ.get("SLURM_GPUS_ON_NODE")}
gathered = [None] * world
dist.all_gather_object(gathered, info)
if rank == 0:
    with open(sys.argv[1], "w") as handle:
        json.dump(gathered, handle)
dist.destroy_process_group()
"""


def run_training_shaped_rule(cluster, workdir: Path, rule: str, output: str, command: str) -> str:
    """Run one rule with the training rules' request shape (capped to 2 GPUs) through the profile; its log.

    ``output`` is the rule's output as Snakemake code; ``command`` runs with
    this Python and logs to ``{rule}.log``.
    """
    request = dict(load_profile(cluster)["set-resources"]["sft_step1"])
    request["slurm_partition"] = repr(request["slurm_partition"])
    assert request["gpu"] == 2
    output = output if output.startswith("directory(") else repr(output)
    (workdir / "Snakefile").write_text(
        f"rule {rule}:\n"
        f"    output: {output}\n"
        f"    log: '{rule}.log'\n"
        f"    shell: '{sys.executable} {command} > {{log}} 2>&1'\n")
    snakemake = [SNAKEMAKE, "--snakefile", str(workdir / "Snakefile"), "--directory", str(workdir),
                 "--profile", str(PROFILE), *FAST_POLLING, "--retries", "0", "--set-resources",
                 *[f"{rule}:{key}={value}" for key, value in request.items()]]
    result = subprocess.run(snakemake, capture_output=True, text=True, cwd=workdir, env=cluster, timeout=900)
    log = (workdir / f"{rule}.log").read_text() if (workdir / f"{rule}.log").exists() else ""
    assert result.returncode == 0, result.stderr[-6000:] + log[-4000:]
    return log


@pytest.mark.slow
@pytest.mark.slurm
def test_a_multi_gpu_rule_launches_one_worker_per_gpu_in_its_allocation(cluster, tmp_path):
    """A rule with the training rules' request shape (capped to 2 GPUs) runs torchrun through algharb.launch."""
    profile = load_profile(cluster)
    (tmp_path / "probe.py").write_text(PROBE)
    launch_log = run_training_shaped_rule(cluster, tmp_path, "probe", "ranks.json",
                                          "-m algharb.launch probe.py {output}")
    ranks = json.loads((tmp_path / "ranks.json").read_text())
    assert sorted(r["rank"] for r in ranks) == [0, 1]
    assert {r["world"] for r in ranks} == {2} and {r["sum"] for r in ranks} == {3.0}
    assert sorted(r["local_rank"] for r in ranks) == [0, 1]
    assert {r["gpus_on_node"] for r in ranks} == {"2"}
    job_id = ranks[0]["job"]
    assert "srun --overlap" in launch_log and f"--rdzv_id {job_id}" in launch_log, launch_log
    job = parse_scontrol_jobs(slurm("scontrol", "show", "job", "-o", job_id, env=cluster))[job_id]
    assert job["Partition"] == profile["set-resources"]["sft_step1"]["slurm_partition"]
    assert job["TresPerJob"] == "gres:gpu:2"


TRAIN_JOB = """\
import json, logging, sys
from algharb.steps.train import run_training_step
logging.basicConfig(level=logging.INFO)
run_training_step("sft", **json.load(open(sys.argv[1])))
"""


@pytest.mark.slow
@pytest.mark.slurm
def test_a_training_rule_trains_on_two_workers_in_its_allocation(cluster, tmp_path, tiny_model_dir, monkeypatch):
    """SFT in a 2-GPU allocation (the training rules' request shape): srun + torchrun, two gloo workers.

    It ends with the model of the same two-process run started directly (torchrun outside Slurm).
    """
    from test_distributed import HPARAMS, assert_same_steps, assert_same_weights, log_rows, sft_rows

    from algharb.io import write_jsonl
    from algharb.steps.train import run_training_step

    calls = {}
    for name in ("slurm", "direct"):
        run = tmp_path / name
        run.mkdir()
        write_jsonl(run / "data.jsonl", sft_rows())
        calls[name] = {"base": {"path": str(tiny_model_dir)}, "data_paths": [str(run / "data.jsonl")],
                       "out_dir": str(run / "out"), "checkpoint_dir": str(run / "ckpt"), "hparams": HPARAMS,
                       "threads": 1}
    (tmp_path / "call.json").write_text(json.dumps(calls["slurm"]))
    (tmp_path / "train_job.py").write_text(TRAIN_JOB)
    train_log = run_training_shaped_rule(cluster, tmp_path, "train", "directory('slurm/out')",
                                         "train_job.py call.json")
    assert "srun --overlap" in train_log and "--nproc_per_node 2" in train_log, train_log[-3000:]

    monkeypatch.setenv("ALGHARB_NPROC_PER_NODE", "2")
    for var in [v for v in os.environ if v.startswith("SLURM_")]:
        monkeypatch.delenv(var)
    run_training_step("sft", **calls["direct"])
    assert_same_steps(log_rows(tmp_path / "direct"), log_rows(tmp_path / "slurm"), ("loss", "grad_norm"))
    assert_same_weights(tmp_path / "direct", tmp_path / "slurm", atol=0)
