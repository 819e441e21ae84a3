"""The training-throughput benchmark runs end to end (on the CPU, with a tiny model)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_benchmark():
    spec = importlib.util.spec_from_file_location("train_mfu", ROOT / "benchmarks" / "train_mfu.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_train_benchmark_measures_every_setting_against_the_plain_loop(tmp_path):
    out = tmp_path / "train_mfu.json"
    results = load_benchmark().main(["--shape", "tiny", "--device", "cpu", "--steps", "2", "--warmup", "1",
                                     "--seq-len", "128", "--preference-steps", "2", "--out", str(out)])
    assert out.is_file()
    for name in ("plain_loop", "algharb_sft_packed", "algharb_sft_grouped"):
        assert results[name]["steps_timed"] == 2 and results[name]["tokens"] > 0
        assert results[name]["mfu"] is None  # no peak FLOP rate on a CPU
    assert results["algharb_sft_packed"]["settings"]["packing"] is True
    for name in ("cpo", "dynamic"):  # 2 steps, the first one untimed
        assert results[name]["steps_timed"] == 1 and results[name]["warmup_steps"] == 1


def test_rows_are_translation_shaped_and_seeded():
    benchmark = load_benchmark()
    rows = benchmark.synthetic_rows(200, seed=3, mean_words=20)
    assert rows == benchmark.synthetic_rows(200, seed=3, mean_words=20)
    lengths = [len(row["src"].split()) for row in rows]
    assert 12 < sum(lengths) / len(lengths) < 35 and min(lengths) >= 3
