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
    # 8 rows of the ablation table, and the 4 compared preference chains that are not among them.
    assert len(_jobs(paper_jobs, "evaluate")) == 13 * (8 + 4)
    assert "rule significance:" in paper_jobs and "rule error_spans:" in paper_jobs


def test_every_preference_chain_trains_once_from_the_same_sft_model(paper_jobs):
    """rl.compare of the paper's config: CPO (shared with the paper's chain), DPO, CPO-noised, CPO → dynamic, M2PO."""
    chains = sorted(re.search(r"chain=(\S+)", w).group(1) for w in _jobs(paper_jobs, "preference_train"))
    assert chains == ["cpo", "cpo+dynamic", "cpo_noised", "dpo", "m2po"]
    assert len(_jobs(paper_jobs, "preference_qe")) == 13
    assert "rule preference_table:" in paper_jobs and "rule preference_pairs:" in paper_jobs
    # The pools are aligned for M2PO's faithfulness reward with the decoding's aligner (WSPAlign).
    pool_scoring = paper_jobs.split("\nrule rl_pool_qe:")[1].split("\nrule ")[0]
    assert re.search(r"input: results/rl/pools/(\S+)\.jsonl, results/data/\1/clean\.jsonl", pool_scoring)


def test_collab_mt_overlay_builds_table_6_offline(tmp_path):
    """config/collab_mt.yaml over the paper's config: 14 fine-tunes, 96 decodings, one table, no download run."""
    result = subprocess.run([SNAKEMAKE, "collab", "--dry-run", "--snakefile", str(ROOT / "Snakefile"),
                             "--directory", str(tmp_path), "--configfile", str(ROOT / "config/wmt25.yaml"),
                             str(ROOT / "config/collab_mt.yaml")], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    finetunes = _jobs(result.stdout, "collab_finetune")
    assert len(finetunes) == 14
    assert "size=1B, directions=en-de+en-ja" in finetunes and "size=8B, directions=ja-en" in finetunes
    assert len(_jobs(result.stdout, "collab_decode")) == 4  # one job per direction: its 2 + 2 × 11 rows
    assert {"fetch_alt", "sample_train_test", "fetch_corpus", "collab_table"} <= set(
        re.findall(r"^rule (\w+):", result.stdout, flags=re.M))
