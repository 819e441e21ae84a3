import pandas as pd
import pytest

from algharb.io import read_json, write_lines
from algharb.metrics import METRICS, Metric, MetricInputs, MetricResult, build_metric
from algharb.metrics.sacre import corpus_score, sentence_scores
from algharb.steps.evaluate import ablation_table, collect_scores, evaluate_file
from algharb.report.tables import write_table


def test_sacrebleu_scores_and_signatures():
    result = corpus_score("chrf", ["the cat sat"], ["the cat sat"])
    assert result["score"] == pytest.approx(100.0)
    assert result["signature"].startswith("nrefs:1")
    assert "tok:zh" in corpus_score("bleu", ["我爱你"], ["我爱你"], "zh")["signature"]
    assert sentence_scores("chrf", ["abc", "xyz"], ["abc", "abc"]) == pytest.approx([1.0, 0.0])
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        sentence_scores("chrf", ["a", "b"], ["a"])


def test_evaluate_file_and_table(tmp_path):
    write_lines(tmp_path / "src", ["a b", "c d"])
    write_lines(tmp_path / "ref", ["x y", "z w"])
    for system, hyp in [("two_step_sft", ["x", "z"]), ("hybrid_decode", ["x y", "z w"])]:
        write_lines(tmp_path / f"{system}.txt", hyp)
        for pair in ("en-qaa", "en-qab"):
            evaluate_file(tmp_path / "src", tmp_path / "ref", tmp_path / f"{system}.txt",
                          tmp_path / "eval" / system / f"{pair}.json", ["chrf", "bleu"], "qaa", None, 64)
    scores = collect_scores(sorted((tmp_path / "eval").glob("*/*.json")))
    table = ablation_table(scores, "chrf", ["two_step_sft", "two_step_rl", "hybrid_decode"], ["en-qaa", "en-qab"])
    assert list(table.index) == ["two_step_sft", "hybrid_decode"]
    assert list(table.columns) == ["AVG", "en-qaa", "en-qab"]
    assert table.loc["hybrid_decode", "AVG"] == pytest.approx(100.0)
    assert table.loc["two_step_sft", "AVG"] < 100
    write_table(table, tmp_path / "t.tsv", tmp_path / "t.md", tmp_path / "t.tex", caption="chrF")
    assert pd.read_csv(tmp_path / "t.tsv", sep="\t", index_col=0).shape == (2, 3)
    assert "| system" in (tmp_path / "t.md").read_text()
    assert "\\begin{table}" in (tmp_path / "t.tex").read_text()


def test_a_table_indexed_by_several_levels_gets_one_markdown_column_per_level(tmp_path):
    table = pd.DataFrame({"system": ["a", "a"], "pair": ["en-qaa", "all"], "score": [1.0, 2.5]})
    write_table(table.set_index(["system", "pair"]), tmp_path / "t.tsv", tmp_path / "t.md")
    header, _, first, second = (tmp_path / "t.md").read_text().splitlines()[:4]
    assert [cell.strip() for cell in header.strip("|").split("|")] == ["system", "pair", "score"]
    assert "('a'" not in first and "all" in second
    assert pd.read_csv(tmp_path / "t.tsv", sep="\t").columns.tolist() == ["system", "pair", "score"]


def test_hypothesis_count_must_match(tmp_path):
    write_lines(tmp_path / "src", ["a", "b"])
    write_lines(tmp_path / "ref", ["a", "b"])
    write_lines(tmp_path / "hyp", ["a"])
    with pytest.raises(ValueError, match="hyp has 1 lines but the test set"):
        evaluate_file(tmp_path / "src", tmp_path / "ref", tmp_path / "hyp", tmp_path / "o.json", ["chrf"], "x",
                      None, 64)


@METRICS.register("toy_length_ratio")
class ToyLengthRatio(Metric):
    """A metric added as the README shows: one class, one registry entry."""

    family = "string"

    def __init__(self, inputs: MetricInputs):
        self.inputs = inputs

    def score(self, sources, hypotheses, references) -> MetricResult:
        ratio = sum(map(len, hypotheses)) / sum(map(len, references))
        segments = [100.0 * len(h) / len(r) for h, r in zip(hypotheses, references)]
        return MetricResult("toy_length_ratio", 100.0 * ratio, f"toy:{self.inputs.tgt_lang}:{self.inputs.batch_size}",
                            segments)


def test_a_registered_metric_runs_through_the_evaluate_step(tmp_path):
    write_lines(tmp_path / "src", ["a b", "c d"])
    write_lines(tmp_path / "ref", ["xx yy", "zz ww"])
    write_lines(tmp_path / "hyp", ["xx", "zz ww"])
    out = tmp_path / "eval" / "toy_system" / "en-qaa.json"
    result = evaluate_file(tmp_path / "src", tmp_path / "ref", tmp_path / "hyp", out,
                           ["toy_length_ratio", "chrf"], "qaa", None, 32)
    saved = read_json(out)
    assert saved == result and list(saved["scores"]) == ["toy_length_ratio", "chrf"]
    assert saved["scores"]["toy_length_ratio"] == {"metric": "toy_length_ratio", "score": 70.0,
                                                    "signature": "toy:qaa:32"}
    table = ablation_table(collect_scores([out]), "toy_length_ratio", ["toy_system"], ["en-qaa"])
    assert table.loc["toy_system", "en-qaa"] == 70.0


def test_metric_names_come_from_the_registry():
    assert {"chrf", "bleu", "xcomet"} <= set(METRICS.names())
    inputs = MetricInputs(tgt_lang="zh", model=None, batch_size=8, threads=1)
    assert build_metric("bleu", inputs).score([], ["我爱你"], ["我爱你"]).summary() == corpus_score("bleu", ["我爱你"], ["我爱你"], "zh")
    with pytest.raises(ValueError, match=r"evaluate\.metrics: unknown evaluation metric 'meteor'.*xcomet"):
        build_metric("meteor", inputs)
    with pytest.raises(ValueError, match="metric 'xcomet' needs models.evaluation"):
        build_metric("xcomet", inputs)
