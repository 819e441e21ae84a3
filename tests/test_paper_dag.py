"""The paper's DAG (config/wmt25.yaml), dry-run offline: evaluation rows, WMT files, configured models."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


@pytest.fixture(scope="module")
def paper_jobs(tmp_path_factory) -> str:
    workdir = tmp_path_factory.mktemp("paper")
    result = subprocess.run([SNAKEMAKE, "all", "--dry-run", "--snakefile", str(ROOT / "Snakefile"),
                             "--directory", str(workdir), f"--configfile={ROOT / 'config/wmt25.yaml'}"],
                            capture_output=True, text=True, cwd=workdir)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def _jobs(dry_run: str, rule: str) -> list[str]:
    """The ``wildcards:`` line of every job of ``rule``."""
    blocks = dry_run.split("\nrule ")
    return [re.search(r"wildcards: (.*)", b).group(1) for b in blocks if b.startswith(f"{rule}:")]


def test_released_model_is_decoded_as_its_own_rows_without_training(paper_jobs):
    greedy = _jobs(paper_jobs, "translate_baseline")
    assert sum("system=marco_mt_algharb," in w for w in greedy) == 13
    candidates = _jobs(paper_jobs, "candidates")
    assert sum("system=marco_mt_algharb_hybrid" in w for w in candidates) == 13
    assert sum("system=hybrid_decode" in w for w in candidates) == 13


def test_official_wmt_systems_are_rows_and_our_rows_become_submissions(paper_jobs):
    external = _jobs(paper_jobs, "wmt_external")
    assert {re.search(r"system=([^,]+)", w).group(1) for w in external} == {"Algharb", "Gemini-2.5-Pro", "GPT-4.1"}
    submissions = _jobs(paper_jobs, "wmt_submission")
    assert len(submissions) == 13 * 5  # the paper's three rows and the released model's two
    assert len(_jobs(paper_jobs, "wmt_segments")) == 13
    assert len(_jobs(paper_jobs, "evaluate")) == 13 * 8
    assert "rule significance:" in paper_jobs and "rule error_spans:" in paper_jobs
