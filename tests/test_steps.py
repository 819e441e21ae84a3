"""File-level steps that need no trained model: RL sources, distillation choice, fetch parsing, plots, CLI."""

import json

import pandas as pd
import pytest

from algharb.cli import main
from algharb.io import read_jsonl, read_lines, write_jsonl, write_lines
from algharb.steps.distill import distillable
from algharb.steps.fetch import read_wmt_jsonl
from algharb.steps.rl import sample_rl_sources
from algharb.report.plots import funnel_bars, interval_bars


def test_rl_sources_are_seeded_distinct_and_exclude_the_test_set(tmp_path):
    write_lines(tmp_path / "all.txt", [f"sentence {i}" for i in range(50)] + ["sentence 3", "  sentence  4 "])
    write_lines(tmp_path / "test.txt", ["sentence 7"])
    sample_rl_sources(tmp_path / "all.txt", tmp_path / "a.txt", 20, seed=1, exclude_paths=[tmp_path / "test.txt"])
    sample_rl_sources(tmp_path / "all.txt", tmp_path / "b.txt", 20, seed=1, exclude_paths=[tmp_path / "test.txt"])
    chosen = read_lines(tmp_path / "a.txt")
    assert chosen == read_lines(tmp_path / "b.txt")
    assert len(chosen) == len(set(chosen)) == 20
    assert "sentence 7" not in chosen


def test_rl_references_follow_the_sampled_sources(tmp_path):
    from algharb.steps.rl import rl_references

    write_lines(tmp_path / "all.txt", [f"sentence {i}" for i in range(30)] + ["sentence 3"])
    write_lines(tmp_path / "refs.txt", [f"satz {i}" for i in range(30)] + ["satz 3"])
    sample_rl_sources(tmp_path / "all.txt", tmp_path / "a.txt", 10, seed=2, lines_path=tmp_path / "a.lines")
    references = rl_references(tmp_path / "refs.txt", tmp_path / "a.txt", tmp_path / "a.lines")
    assert references == [s.replace("sentence", "satz") for s in read_lines(tmp_path / "a.txt")]
    write_lines(tmp_path / "short.txt", ["satz 0"])
    with pytest.raises(ValueError, match=r"short.txt: no reference on line \d+ \(the file has 1 lines"):
        rl_references(tmp_path / "short.txt", tmp_path / "a.txt", tmp_path / "a.lines")


def test_only_target_side_rejections_are_distilled():
    assert distillable({"reason": "qe"})
    assert distillable({"reason": "language_id:tgt"})
    assert distillable({"reason": "length_ratio"})
    assert not distillable({"reason": "language_id:src"})
    assert not distillable({"reason": "duplicate"})
    assert not distillable({"reason": "near_duplicate"})


def test_wmt_jsonl_documents_become_line_aligned_segments():
    lines = [
        json.dumps({"doc_id": "en-zh_CN_news_1", "src_text": "Hello\nworld", "tgt_text": {"refA": "你好\n世界"}}),
        json.dumps({"doc_id": "en-ja_JP_news_1", "src_text": "Other", "tgt_text": {"refA": "他"}}),
    ]
    assert read_wmt_jsonl(lines, "en-zh_CN", "refA") == (["Hello world"], ["你好 世界"])
    with pytest.raises(ValueError, match="no document with doc_id prefix 'cs-de_DE'"):
        read_wmt_jsonl(lines, "cs-de_DE", None)
    with pytest.raises(ValueError, match="has no reference 'refB'"):
        read_wmt_jsonl(lines, "en-zh_CN", "refB")


def test_plots_render(tmp_path):
    funnel = pd.DataFrame({"stage": ["pairs_in", "removed:qe", "removed:copy", "pairs_out"],
                           "pairs": [100, 10, 5, 85]})
    funnel_bars({"en-qaa": funnel, "en-qab": funnel}, tmp_path / "f.png")
    significance = pd.DataFrame({"system": ["a", "b", "a", "b"], "pair": ["en-qaa", "en-qaa", "AVG", "AVG"],
                                 "metric": ["chrf"] * 4, "score": [50.0, 60.0, 50.0, 60.0],
                                 "ci_low": [48.0, 57.0, 48.0, 57.0], "ci_high": [52.0, 62.0, 52.0, 62.0]})
    interval_bars(significance, ["chrf"], 0.95, tmp_path / "m.png")
    assert (tmp_path / "f.png").stat().st_size > 1000 and (tmp_path / "m.png").stat().st_size > 1000


def test_cli_mbr_with_chrf(tmp_path, capsys):
    write_jsonl(tmp_path / "c.jsonl", [
        {"id": 0, "src": "s", "candidates": ["the cat sat", "the cat sat down", "a dog", "the cat sat"]},
        {"id": 1, "src": "t", "candidates": ["only one"]},
    ])
    assert main(["mbr", "--candidates", str(tmp_path / "c.jsonl"), "--utility", "chrf", "--align", "none",
                 "--lambda", "0.5", "--out", str(tmp_path / "s.jsonl")]) == 0
    rows = read_jsonl(tmp_path / "s.jsonl")
    assert [r["selected"] for r in rows] == ["the cat sat down", "only one"]
    assert rows[0]["index"] == 1 and len(rows[0]["mbr"]) == 4 and rows[0]["candidates"][3] == "the cat sat"
    assert read_lines(tmp_path / "s.txt") == ["the cat sat down", "only one"]


def test_cli_reports_errors_without_traceback(tmp_path, capsys):
    assert main(["mbr", "--candidates", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o")]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("run_name: x\n")
    assert main(["validate", str(bad)]) == 2
    assert "missing a required key" in capsys.readouterr().err


def test_distillation_refilters_teacher_outputs(tmp_path, tiny_model_dir):
    from algharb.steps.distill import distill_file

    rejected = [{"line": i + 1, "src": f"alpha beta {w}", "tgt": "x", "reason": reason}
                for i, (w, reason) in enumerate([("gamma", "qe"), ("delta", "language_id:src"),
                                                 ("gamma", "copy"), ("eta", "duplicate"), ("mu", "length_ratio")])]
    write_jsonl(tmp_path / "rejected.jsonl", rejected)
    from algharb.data.config import CleanConfig

    clean = {"filters": {"length": {"min": 1, "max": 3}}, "qe": {"mode": "threshold", "threshold": 0.5}}
    stats = distill_file(tmp_path / "rejected.jsonl", tmp_path / "out.jsonl", "qaa", "qab",
                         {"path": str(tiny_model_dir)}, max_pairs=10, sampling={"max_new_tokens": 12},
                         seed=0, threads=1, refilter=CleanConfig.from_dict(clean).rule_settings("qaa-qab"), lid=None,
                         chunk_size=10000, stats_path=tmp_path / "stats.json")
    assert stats["distillable"] == 2  # one :src reason, one duplicate, one repeated source skipped
    assert stats["skipped_by_reason"] == {"language_id:src": 1, "duplicate": 1}
    assert stats["translated"] == 2
    assert stats["kept"] + sum(stats["refilter_rejected_by_reason"].values()) == 2
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert all(1 <= len(r["tgt"].split()) <= 3 for r in rows)
    assert json.loads((tmp_path / "stats.json").read_text()) == stats


def test_cli_clean_keeps_rejected_pairs_with_reasons(tmp_path, capsys):
    (tmp_path / "f.yaml").write_text("filters:\n  length: {min: 1, max: 50}\n  copy: {}\n  duplicate: {}\n")
    write_lines(tmp_path / "a.en", ["hello world", "same", "hello world"])
    write_lines(tmp_path / "a.de", ["hallo welt", "same", "hallo welt"])
    assert main(["clean", "--src", str(tmp_path / "a.en"), "--tgt", str(tmp_path / "a.de"), "--pair", "en-de",
                 "--filters", str(tmp_path / "f.yaml"), "--out", str(tmp_path / "out")]) == 0
    assert [r["src"] for r in read_jsonl(tmp_path / "out/clean.jsonl")] == ["hello world"]
    assert {r["reason"] for r in read_jsonl(tmp_path / "out/rejected.jsonl")} == {"copy", "duplicate"}
    write_lines(tmp_path / "short.de", ["x"])
    assert main(["clean", "--src", str(tmp_path / "a.en"), "--tgt", str(tmp_path / "short.de"), "--pair",
                 "en-de", "--filters", str(tmp_path / "f.yaml"), "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert "a.en" in err and "short.de" in err


def test_cli_clean_reads_a_tsv_and_writes_per_shard_files(tmp_path, capsys):
    (tmp_path / "f.yaml").write_text("filters:\n  copy: {}\n  near_duplicate: {}\n")
    write_lines(tmp_path / "c.tsv", ["id1\tHello, world!\tПривет, мир!", "id2\tsame\tsame",
                                     "id3\thello world\tпривет мир"])
    assert main(["clean", "--tsv", str(tmp_path / "c.tsv"), "--src-col", "1", "--tgt-col", "2", "--pair", "en-ru",
                 "--filters", str(tmp_path / "f.yaml"), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out/kept.tgt").read_text() == "Привет, мир!\n"
    assert (tmp_path / "out/rejected.tsv").read_text().splitlines()[1:] == [
        "2\tcopy\tsame\tsame", "3\tnear_duplicate\thello world\tпривет мир"]
    assert "1 of 3 pairs kept" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "clean.jsonl", "decisions.tsv", "funnel.tsv", "kept.src", "kept.tgt", "rejected.jsonl", "rejected.tsv"]
    with pytest.raises(SystemExit, match="either --src and --tgt"):
        main(["clean", "--tsv", "a", "--src", "b", "--pair", "en-ru", "--filters", "f", "--out", "o"])


def test_prepare_split_writes_plain_files_from_sgm(tmp_path):
    from algharb.steps.data import prepare_split_step

    for side, lang, segs in (("src", "en", ["Hello &amp; bye", "Two"]), ("ref", "de", ["Hallo &amp; tschüss", "Zwei"])):
        body = "\n".join(f'<seg id="{i}">{text}</seg>' for i, text in enumerate(segs, 1))
        (tmp_path / f"t.{side}.sgm").write_text(f'<{side}set setid="t" srclang="en">\n<doc docid="d">\n{body}\n'
                                                f"</doc>\n</{side}set>\n")
    count = prepare_split_step({"src": str(tmp_path / "t.src.sgm"), "tgt": str(tmp_path / "t.ref.sgm")},
                               tmp_path / "test.src", tmp_path / "test.tgt", where="data.test.en-de")
    assert count == 2
    assert (tmp_path / "test.src").read_text() == "Hello & bye\nTwo\n"
    assert (tmp_path / "test.tgt").read_text() == "Hallo & tschüss\nZwei\n"


def test_training_steps_run_in_process_outside_a_multi_gpu_allocation(monkeypatch, tmp_path):
    from algharb.steps import train

    for var in ("SLURM_JOB_ID", "SLURM_JOBID", "ALGHARB_NPROC_PER_NODE"):
        monkeypatch.delenv(var, raising=False)
    calls = []
    monkeypatch.setitem(train.TRAINING_STAGES._entries, "sft", lambda **kwargs: calls.append(kwargs) or "done")
    monkeypatch.setattr(train, "training_identity", lambda name, kwargs: {"stage": name})
    checkpoints = str(tmp_path / "c")
    assert train.run_training_step("sft", out_dir="m", checkpoint_dir=checkpoints) == "done"
    assert calls == [{"out_dir": "m", "checkpoint_dir": checkpoints}]


def test_training_steps_start_one_worker_per_gpu_inside_slurm(monkeypatch, tmp_path):
    import subprocess
    from pathlib import Path

    from algharb.steps import train

    env = {"SLURM_JOB_ID": "4242", "SLURM_JOB_NODELIST": "gpu[01-02]", "SLURM_NNODES": "2",
           "SLURM_GPUS_ON_NODE": "8", "SLURM_CPUS_ON_NODE": "64"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ALGHARB_NPROC_PER_NODE", raising=False)
    commands = []
    monkeypatch.setattr(subprocess, "run", lambda command, check: commands.append(command))
    monkeypatch.setattr(train, "training_identity", lambda name, kwargs: {"stage": name})
    train.run_training_step("sft", data_paths=[Path("a.jsonl"), "b.jsonl"], checkpoint_dir=str(tmp_path / "ck"),
                            hparams={"learning_rate": 2e-5}, seed=3)
    (command,) = commands
    assert command[:2] == ["srun", "--overlap"] and "torch.distributed.run" in command
    assert command[command.index("--nproc_per_node") + 1] == "8" and command[-3:] == [
        "algharb.steps.train", "sft", str(tmp_path / "ck" / "sft_call.json")]
    seen = []
    monkeypatch.setitem(train.TRAINING_STAGES._entries, "sft", lambda **kwargs: seen.append(kwargs))
    assert train.main(["sft", str(tmp_path / "ck" / "sft_call.json")]) == 0
    assert seen == [{"data_paths": ["a.jsonl", "b.jsonl"], "checkpoint_dir": str(tmp_path / "ck"),
                     "hparams": {"learning_rate": 2e-5}, "seed": 3}]


def test_jobs_get_a_hash_seed_from_the_config(monkeypatch):
    import os
    import subprocess
    import sys

    from algharb.jobs import pin_hash_seed

    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    pin_hash_seed(1234)
    order = "print(list({'q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj'}))"
    runs = {subprocess.run([sys.executable, "-c", order], capture_output=True, text=True).stdout for _ in range(3)}
    assert os.environ["PYTHONHASHSEED"] == "1234" and len(runs) == 1


def test_candidates_of_a_killed_job_resume_byte_identical(tmp_path, fake_generation):
    from algharb.steps.decode import candidates_file

    write_lines(tmp_path / "test.src", [f"sentence {i}" for i in range(7)])
    model = {"hub": "fake/policy", "backend": "vllm"}

    def candidates(name):
        return candidates_file(model, tmp_path / "test.src", tmp_path / f"{name}.jsonl", "en", "de", n=3,
                               sampling={"temperature": 0.7}, seed=1, chunk_dir=tmp_path / "cache" / name,
                               chunk_size=2)

    assert candidates("whole") == 7
    fake_generation.calls.clear()
    fake_generation.fail_on_call = 3
    with pytest.raises(KeyboardInterrupt):
        candidates("resumed")
    assert not (tmp_path / "resumed.jsonl").exists()
    fake_generation.calls.clear()
    fake_generation.fail_on_call = None
    assert candidates("resumed") == 7
    assert fake_generation.calls == [["sentence 4", "sentence 5"], ["sentence 6"]]
    assert (tmp_path / "resumed.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()


def test_rl_pool_keeps_policy_and_teacher_chunks_apart(tmp_path, fake_generation):
    from algharb.config.sections import PoolConfig
    from algharb.steps.rl import build_pool

    write_lines(tmp_path / "sources.txt", [f"sentence {i}" for i in range(5)])
    pool = PoolConfig(samples=2, sampling={"temperature": 0.7}, chunk_size=2)

    def build(chunk_dir):
        build_pool(tmp_path / "sources.txt", tmp_path / "pool.jsonl", "en", "de", {"hub": "fake/policy"},
                   {"hub": "fake/teacher"}, pool, seed=0, chunk_dir=chunk_dir)
        return (tmp_path / "pool.jsonl").read_bytes()

    unchunked = build(None)
    fake_generation.loads.clear()
    assert build(tmp_path / "cache") == unchunked  # the fake's outputs do not depend on the chunking
    assert [spec["hub"] for spec in fake_generation.loads] == ["fake/policy", "fake/teacher"]
    for origin in ("self", "teacher"):
        assert sorted(p.name for p in (tmp_path / "cache" / origin).iterdir()) == ["0.jsonl", "1.jsonl", "2.jsonl"]
    fake_generation.loads.clear()
    assert build(tmp_path / "cache") == unchunked
    assert fake_generation.loads == []
    row = read_jsonl(tmp_path / "pool.jsonl")[0]
    assert [c["origin"] for c in row["candidates"]] == ["self", "self", "teacher"]
    references = [f"Satz {i}" for i in range(5)]
    build_pool(tmp_path / "sources.txt", tmp_path / "with_refs.jsonl", "en", "de", {"hub": "fake/policy"},
               {"hub": "fake/teacher"}, pool, seed=0, chunk_dir=tmp_path / "cache", references=references)
    rows = read_jsonl(tmp_path / "with_refs.jsonl")
    assert [c["origin"] for c in rows[3]["candidates"]] == ["self", "self", "teacher", "reference"]
    assert rows[3]["candidates"][-1]["text"] == "Satz 3"
    with pytest.raises(ValueError, match="4 references for the 5 sources"):
        build_pool(tmp_path / "sources.txt", tmp_path / "bad.jsonl", "en", "de", {"hub": "fake/policy"},
                   {"hub": "fake/teacher"}, pool, seed=0, chunk_dir=tmp_path / "cache", references=references[:4])


def test_distillation_resumes_from_its_chunks(tmp_path, fake_generation):
    from algharb.steps.distill import distill_file

    write_jsonl(tmp_path / "rejected.jsonl", [{"line": i, "src": f"source {i}", "tgt": "x", "reason": "qe"}
                                              for i in range(5)])

    def distill(chunk_dir):
        distill_file(tmp_path / "rejected.jsonl", tmp_path / "out.jsonl", "en", "de", {"hub": "fake/teacher"},
                     max_pairs=4, sampling={}, seed=0, threads=1, refilter=None, lid=None, chunk_dir=chunk_dir,
                     chunk_size=3)
        return (tmp_path / "out.jsonl").read_bytes()

    unchunked = distill(None)
    assert distill(tmp_path / "cache") == unchunked
    assert [len(sources) for sources in fake_generation.calls[-2:]] == [3, 1]  # 4 chosen sources, chunks of 3
    fake_generation.loads.clear()
    assert distill(tmp_path / "cache") == unchunked
    assert fake_generation.loads == []


def test_pool_scoring_keeps_every_scorer_and_picks_by_the_weighted_mean(tmp_path, monkeypatch):
    """Two scorers (0.25 / 0.75) and no aligner: per candidate both scores, their weighted mean as qe."""
    from algharb.steps import rl

    class LengthScorer:
        def __init__(self, scale):
            self.scale = scale

        def score(self, sources, texts):
            return [self.scale * len(t) for t in texts]

    monkeypatch.setattr(rl, "comet_scorer", lambda spec, batch_size, threads: LengthScorer(spec["scale"]))
    write_jsonl(tmp_path / "pool.jsonl", [
        {"id": "a", "src": "s", "src_lang": "en", "tgt_lang": "qaa",
         "candidates": [{"text": "ab", "origin": "self"}, {"text": "abcd", "origin": "teacher"}]}])
    scorers = {"kiwi": {"model": {"scale": 0.1}, "weight": 0.25}, "xcomet": {"model": {"scale": 0.2}, "weight": 0.75}}
    rl.score_pool(tmp_path / "pool.jsonl", tmp_path / "scored.jsonl", scorers, batch_size=8)
    (row,) = read_jsonl(tmp_path / "scored.jsonl")
    first, second = row["candidates"]
    assert first["scores"] == {"kiwi": 0.2, "xcomet": 0.4} and first["qe"] == pytest.approx(0.35)
    assert second["scores"] == {"kiwi": 0.4, "xcomet": 0.8} and second["qe"] == pytest.approx(0.7)
    assert "align" not in first and second["origin"] == "teacher"
    write_jsonl(tmp_path / "empty.jsonl", [])
    with pytest.raises(ValueError, match="empty.jsonl holds no pool rows"):
        rl.score_pool(tmp_path / "empty.jsonl", tmp_path / "out.jsonl", scorers, batch_size=8)
