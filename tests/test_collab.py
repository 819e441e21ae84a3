"""The collab section: its checks, the Table 6 plan (shared models and decodings), the scoring and table steps."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import yaml

from algharb.collab.config import CollabConfig
from algharb.collab.plan import CollabPlan, Model, finetuned_dir
from algharb.config.section import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def paper_collab() -> dict:
    return yaml.safe_load((ROOT / "config/collab_mt.yaml").read_text())["collab"]


def demo_collab() -> dict:
    return yaml.safe_load((ROOT / "config/config.yaml").read_text())["collab"]


def parse(values: dict) -> CollabConfig:
    return CollabConfig.parse(values, run={"seed": 7, "threads": 1})


def test_the_paper_config_has_table_6_rows_in_order():
    plan = CollabPlan(parse(paper_collab()))
    assert [row.row for row in plan.rows[:4]] == ["1B-original", "1B-finetuning", "3B-original", "3B-finetuning"]
    sizes = [row.size for row in plan.rows]
    assert sizes.count("1B") == 2 and sizes.count("3B") == 11 and sizes.count("8B") == 11
    methods = [row.method for row in plan.rows if row.size == "8B"]
    assert methods == ["Original", "Fine-tuning"] + ["Proxy-tuning"] * 4 + ["Collab-MT"] * 5
    formulas = {row.row: row.formula for row in plan.rows}
    assert formulas["3B-proxytuning-1"] == "L_M + (S_MT − S_M)"
    assert formulas["8B-collabmt-5"] == "L_M + S_en-src + S_en-tgt"
    assert formulas["1B-finetuning"] == "S_MT" and formulas["3B-finetuning"] == "L_MT"


def test_the_paper_config_trains_each_expert_once_and_shares_the_small_fine_tuning_row():
    plan = CollabPlan(parse(paper_collab()))
    models = plan.finetuned_models()
    small = sorted(m.directions for m in models if m.size == "1B")
    # Per direction S_MT (= the 1B Fine-tuning row), one English-source and one English-target expert.
    assert small == sorted([("de-en",), ("en-de",), ("en-ja",), ("ja-en",), ("en-de", "en-ja"), ("de-en", "ja-en")])
    assert sorted(m.directions for m in models if m.size == "8B") == [("de-en",), ("en-de",), ("en-ja",), ("ja-en",)]
    assert len(models) == len(set(models)) == 6 + 2 * 4


def test_a_proxy_tuning_row_fuses_the_expert_and_the_untuned_small_model_as_anti_expert():
    plan = CollabPlan(parse(paper_collab()))
    entry = plan.generator(plan.row("8B-proxytuning-1"), "ja-en")
    assert entry["hub"] == "meta-llama/Llama-3.1-8B-Instruct" and entry["backend"] == "fusion"
    assert entry["options"]["terms"] == [
        {"path": finetuned_dir(Model("1B", ("ja-en",))), "weight": 1.0},
        {"hub": "meta-llama/Llama-3.2-1B", "weight": -1.0},
    ]
    assert plan.generator(plan.row("1B-original"), "ja-en") == {"hub": "meta-llama/Llama-3.2-1B",
                                                                 "backend": "transformers"}
    halves = plan.generator(plan.row("3B-collabmt-4"), "en-de")["options"]["terms"]
    assert [t["path"].rsplit("/", 1)[1] for t in halves] == ["en-de+en-ja", "de-en+ja-en"]
    assert [t["weight"] for t in halves] == [0.5, 0.5]


def test_rows_that_fuse_the_same_models_share_one_decoding():
    # In the demo, S_en-src is trained on en-qaa alone: for en-qaa it is the S_MT expert.
    plan = CollabPlan(parse(demo_collab()))
    assert plan.decoded_as("en-qaa")["large-collabmt-2"] == "large-collabmt-1"
    assert plan.decoded_as("qaa-en")["large-collabmt-2"] == "large-collabmt-2"
    assert plan.decoded_as("qaa-en")["large-collabmt-3"] == "large-collabmt-1"
    assert len(plan.decodings("en-qaa")) == 11 and len(plan.rows) == 13
    # The direction's decodings read exactly the local models they fuse, each once.
    assert sorted(plan.local_inputs("en-qaa")) == sorted([
        "results/models/sft1", "results/collab/models/small/en-qaa", "results/demo/models/teacher",
        "results/collab/models/large/en-qaa", "results/collab/models/small/qaa-en"])
    assert list(plan.generators("en-qaa")) == plan.decodings("en-qaa")


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["combinations"].append({"method": "Collab-MT", "terms": {"S_xx": 1}}),
     r"collab\.combinations\[9\]\.terms: unknown symbol\(s\) \['S_xx'\]"),
    (lambda c: c["experts"].append({"symbol": "S_MT", "train": ["en-ja"]}), r"collab\.experts\[3\]\.symbol"),
    (lambda c: c["experts"][1].update(train=["en-fr"]), r"collab\.experts\[1\]\.train: \['en-fr'\]"),
    (lambda c: c["data"]["en-de"].pop("test"), r"collab\.data\.en-de: needs \['train', 'test'\]"),
    (lambda c: c.update(small_size="3B"), r"collab\.small_size"),
    (lambda c: c["large"].update({"70B": {"path": "x", "hub": "a/b"}}), r"collab\.large\.70B"),
    (lambda c: c["combinations"][0]["terms"].update(S_MT="one"), r"collab\.combinations\[0\]\.terms\.S_MT"),
    (lambda c: c.update(sampling={"temprature": 0}), r"collab\.sampling\.temprature"),
    (lambda c: c.update(expert=[]), r"unknown key 'collab\.expert' \(did you mean 'experts'\?\)"),
])
def test_config_errors_name_the_key(edit, message):
    values = paper_collab()
    edit(values)
    with pytest.raises(ConfigError, match=message):
        parse(values)


def test_the_finetune_section_takes_the_run_seed_and_threads():
    config = parse(paper_collab())
    assert (config.finetune.seed, config.finetune.threads, config.finetune.learning_rate) == (7, 1, 2e-5)


def test_a_collab_metric_without_its_model_entry_fails_validation():
    from algharb.config import validate_config

    demo = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    validate_config(copy.deepcopy(demo), check_paths=False)
    bad = copy.deepcopy(demo)
    del bad["models"]["bertscore"]
    with pytest.raises(ValueError, match=r"models\.bertscore: missing, but collab\.metrics names"):
        validate_config(bad, check_paths=False)
    bad = copy.deepcopy(demo)
    bad["collab"]["data"]["en-qaa"]["train"] = {"format": "tmx", "src": "a"}
    with pytest.raises(ValueError, match=r"collab\.data\.en-qaa\.train"):
        validate_config(bad, check_paths=False)


# -- steps ----------------------------------------------------------------------


def test_training_rows_carry_the_direction_and_bad_corpora_name_their_files(tmp_path):
    from algharb.io import read_jsonl
    from algharb.steps.collab import train_rows_step

    (tmp_path / "a.ja").write_text("こんにちは\n元気\n")
    (tmp_path / "a.en").write_text("hello\nfine\n")
    spec = {"src": str(tmp_path / "a.ja"), "tgt": str(tmp_path / "a.en")}
    assert train_rows_step(spec, "ja-en", tmp_path / "rows.jsonl", where="collab.data.ja-en.train") == 2
    assert read_jsonl(tmp_path / "rows.jsonl")[1] == {"src": "元気", "tgt": "fine", "src_lang": "ja", "tgt_lang": "en"}
    (tmp_path / "a.en").write_text("hello\n")
    with pytest.raises(ValueError, match="a.ja"):
        train_rows_step(spec, "ja-en", tmp_path / "bad.jsonl", where="collab.data.ja-en.train")
    assert not (tmp_path / "bad.jsonl").exists()


def test_each_decoding_is_scored_once_and_shared_rows_get_its_scores(tmp_path):
    from algharb.steps.collab import score_decodings

    (tmp_path / "src").write_text("a b\nc d\n")
    (tmp_path / "ref").write_text("the black cat sat down\non the old red mat\n")
    (tmp_path / "good").write_text("the black cat sat down\non the old red mat\n")
    (tmp_path / "poor").write_text("a dog\nmat\n")
    table = score_decodings(tmp_path / "src", tmp_path / "ref", {"r1": tmp_path / "good", "r2": tmp_path / "poor"},
                            {"r1": "r1", "r2": "r2", "r3": "r1"}, "xx-en", ["bleu", "chrf"], {}, 8, 1,
                            tmp_path / "scores.tsv")
    scores = table.set_index(["row", "metric"])["score"]
    assert scores[("r1", "bleu")] == pytest.approx(100.0) and scores[("r2", "bleu")] < 20
    assert scores[("r3", "chrf")] == scores[("r1", "chrf")]
    assert pd.read_csv(tmp_path / "scores.tsv", sep="\t").shape == (6, 6)
    (tmp_path / "short").write_text("the cat sat\n")
    with pytest.raises(ValueError, match="short has 1 lines"):
        score_decodings(tmp_path / "src", tmp_path / "ref", {"r1": tmp_path / "short"}, {"r1": "r1"}, "xx-en",
                        ["bleu"], {}, 8, 1, tmp_path / "x.tsv")


def test_the_table_step_writes_table_6_with_formulas(tmp_path):
    from algharb.steps.collab import table_step

    plan = CollabPlan(parse(demo_collab()))
    lines = [{"row": row.row, "direction": d, "metric": m, "score": float(i)}
             for i, row in enumerate(plan.rows) for d in ("en-qaa", "qaa-en") for m in ("bleu", "bertscore")]
    path = tmp_path / "scores.tsv"
    pd.DataFrame(lines).to_csv(path, sep="\t", index=False)
    table_step([path], [row.describe() for row in plan.rows], ["en-qaa", "qaa-en"], ["bleu", "bertscore"],
               tmp_path / "t.tsv", tmp_path / "t.md", tmp_path / "t.tex")
    markdown = (tmp_path / "t.md").read_text()
    assert "L_M + (S_MT − S_M)" in markdown and "12.00 / 12.00" in markdown
    assert r"$-$" in (tmp_path / "t.tex").read_text()
    assert len(pd.read_csv(tmp_path / "t.tsv", sep="\t")) == 13


def test_a_direction_is_decoded_row_by_row_and_a_rerun_reuses_the_finished_rows(tiny_model_dir, tmp_path,
                                                                               monkeypatch):
    from algharb.generation import chunks
    from algharb.io import read_lines
    from algharb.steps.collab import decode_direction

    (tmp_path / "test.src").write_text("the cat\na dog ran\nhello\n")
    single = {"path": str(tiny_model_dir), "backend": "transformers"}
    # The model plus itself minus itself: the fusion must give the single model's output.
    fused = {**single, "backend": "fusion",
             "options": {"terms": [{"path": str(tiny_model_dir), "weight": 1.0},
                                   {"path": str(tiny_model_dir), "weight": -1.0}]}}
    sampling = {"temperature": 0.0, "max_new_tokens": 6, "batch_size": 2}
    args = dict(src_path=tmp_path / "test.src", src_lang="en", tgt_lang="de", sampling=sampling,
                chunk_dir=tmp_path / "cache", chunk_size=2)
    decode_direction({"single": single, "fused": fused}, out_dir=tmp_path / "hyp", **args)
    first = read_lines(tmp_path / "hyp" / "single.txt")
    assert len(first) == 3 and read_lines(tmp_path / "hyp" / "fused.txt") == first

    def no_model(*_, **__):
        raise AssertionError("a finished row was generated again")

    monkeypatch.setattr(chunks, "load_backend", no_model)
    decode_direction({"single": single, "fused": fused}, out_dir=tmp_path / "again", **args)
    assert read_lines(tmp_path / "again" / "fused.txt") == first
