"""Run manifests and their comparison (algharb audit)."""

import json

from algharb.audit import build_manifest, compare_manifests, read_manifest, tree_checksums, write_manifest
from algharb.cli import main


def make_run(root, model_bytes=b"weights", config=None):
    results = root / "results"
    (results / "models").mkdir(parents=True)
    (results / "benchmarks").mkdir()
    (results / "models" / "w.bin").write_bytes(model_bytes)
    (results / "table.tsv").write_text("a\t1\n")
    (results / "benchmarks" / "t.tsv").write_text("s\n1.23\n")  # timings are never compared
    (root / "train.en").write_text("hello\n")
    config = config or {"seed": 1, "models": {}, "data": {"corpora": {}, "rl_sources": {}}, "pairs": [],
                        "evaluate": {}}
    return build_manifest(config, root, results_dir=results)


def test_checksums_are_named_independently_of_the_folder(tmp_path):
    first, second = make_run(tmp_path / "a"), make_run(tmp_path / "b")
    assert set(first["outputs"]) == {"results/models/w.bin", "results/table.tsv"}
    assert first["outputs"] == second["outputs"]
    assert compare_manifests(first, second) == [row for row in compare_manifests(first, second)
                                                if row["section"] == "git"]


def test_differences_are_listed_by_section_and_key(tmp_path):
    first = make_run(tmp_path / "a")
    second = make_run(tmp_path / "b", model_bytes=b"other", config={**first["config"], "seed": 2})
    second["packages"] = {**first["packages"], "torch": "0.0.1"}
    rows = {(row["section"], row["key"]) for row in compare_manifests(first, second)}
    assert {("outputs", "results/models/w.bin"), ("config", "seed"), ("packages", "torch")} <= rows
    assert ("outputs", "results/table.tsv") not in rows


def test_cli_audit_exit_status_and_ignore(tmp_path, capsys):
    first = make_run(tmp_path / "a")
    second = make_run(tmp_path / "b", model_bytes=b"other")
    second["git"] = first["git"]
    write_manifest(tmp_path / "a.json", first)
    write_manifest(tmp_path / "b.json", second)
    assert main(["audit", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 1
    assert "results/models/w.bin" in capsys.readouterr().out
    assert main(["audit", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--ignore", "results/models/"]) == 0
    assert read_manifest(tmp_path / "a.json")["config_sha256"] == first["config_sha256"]


def test_tree_checksums_skip_prefixes(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f").write_text("1")
    (tmp_path / "y").write_text("2")
    assert list(tree_checksums(tmp_path, skip=["results/x/"])) == ["results/y"]


def test_bad_manifest_is_named(tmp_path):
    (tmp_path / "m.json").write_text("{not json")
    assert main(["audit", str(tmp_path / "m.json"), str(tmp_path / "m.json")]) == 2


def test_manifest_is_json_with_git_and_packages(tmp_path):
    manifest = make_run(tmp_path / "a")
    assert "numpy" in manifest["packages"] and set(manifest["git"]) == {"commit", "dirty"}
    json.dumps(manifest)


def test_the_run_identity_of_training_checkpoints_is_not_a_result(tmp_path):
    from algharb.audit import UNHASHED_NAMES
    from algharb.train.common import RUN_IDENTITY

    assert RUN_IDENTITY in UNHASHED_NAMES  # it records the starting model's file mtimes
    (tmp_path / "checkpoints" / "sft1").mkdir(parents=True)
    (tmp_path / "checkpoints" / "sft1" / RUN_IDENTITY).write_text("{}")
    (tmp_path / "checkpoints" / "sft1" / "train_log.jsonl").write_text("{}")
    assert list(tree_checksums(tmp_path, skip_names=UNHASHED_NAMES)) == ["results/checkpoints/sft1/train_log.jsonl"]
