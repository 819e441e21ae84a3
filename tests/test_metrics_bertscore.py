"""``bertscore`` through the metric registry, on a tiny BERT built here (offline)."""

from __future__ import annotations

import pytest
import torch

from algharb.config.section import ConfigError
from algharb.metrics import METRICS, MetricInputs, build_metric

WORDS = "the a cat dog sat on mat ran fast slow house red blue green big small".split()
HYPOTHESES = ["the cat sat on the mat", "", "dog ran fast", "a big red house"]
REFERENCES = ["the cat sat on the mat", "the dog", "the cat sat", "a small blue house"]


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory):
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory = tmp_path_factory.mktemp("bert") / "tiny-bert"
    directory.mkdir()
    (directory / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS) + "\n")
    BertTokenizerFast(vocab_file=str(directory / "vocab.txt")).save_pretrained(directory)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(WORDS) + 5, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64)
    BertModel(config).save_pretrained(directory)
    return directory


def inputs(models) -> MetricInputs:
    return MetricInputs(tgt_lang="en", model=None, batch_size=2, threads=1, models=models)


def metric(bert_dir, **options):
    entry = {"path": str(bert_dir), "options": {"num_layers": 2, **options}}
    return build_metric("bertscore", inputs({"bertscore": entry}))


def test_scores_are_f1_times_100_and_the_corpus_score_is_their_mean(bert_dir):
    result = metric(bert_dir).score(["s"] * 4, HYPOTHESES, REFERENCES)
    assert result.segments[0] == pytest.approx(100.0, abs=1e-3)
    assert result.segments[1] == 0.0  # an empty hypothesis scores 0, not an error
    assert all(0.0 <= s <= 100.0 + 1e-3 for s in result.segments)  # cosines, up to float rounding
    assert result.score == pytest.approx(sum(result.segments) / 4)
    assert result.signature.startswith("bertscore|model:tiny-bert|layers:2|idf:no|rescale:no|version:")
    assert "bertscore" in METRICS and metric(bert_dir).family == "neural"


def test_the_module_does_not_change_bert_scores_numbers(bert_dir):
    import bert_score

    _, _, f1 = bert_score.score(HYPOTHESES, REFERENCES, model_type=str(bert_dir), num_layers=2, batch_size=2)
    ours = metric(bert_dir).score(["s"] * 4, HYPOTHESES, REFERENCES).segments
    assert ours == pytest.approx([100.0 * float(v) for v in f1], abs=1e-4)
    assert metric(bert_dir).score(["s"] * 4, HYPOTHESES, REFERENCES).segments == ours  # deterministic


def test_idf_weights_are_used_as_bert_score_uses_them(bert_dir):
    import bert_score

    _, _, f1 = bert_score.score(HYPOTHESES, REFERENCES, model_type=str(bert_dir), num_layers=2, batch_size=2,
                                idf=True)
    scorer = metric(bert_dir, idf=True)
    result = scorer.score(["s"] * 4, HYPOTHESES, REFERENCES)
    assert result.segments == pytest.approx([100.0 * float(v) for v in f1], abs=1e-4)
    assert result.segments != pytest.approx(metric(bert_dir).score(["s"] * 4, HYPOTHESES, REFERENCES).segments)
    assert "|idf:yes|" in result.signature
    assert scorer.score(["s"] * 4, HYPOTHESES, REFERENCES).segments == result.segments  # weights recomputed, same


def test_errors_name_the_config_key(bert_dir, tmp_path):
    with pytest.raises(ConfigError, match="needs models.bertscore"):
        build_metric("bertscore", inputs({}))
    with pytest.raises(ConfigError, match=f"models.bertscore.path: {tmp_path / 'gone'} does not exist"):
        build_metric("bertscore", inputs({"bertscore": {"path": str(tmp_path / "gone"), "options": {"num_layers": 2}}}))
    with pytest.raises(ConfigError, match="models.bertscore.options.num_layers is required"):
        build_metric("bertscore", inputs({"bertscore": {"path": str(bert_dir)}}))
    with pytest.raises(ConfigError, match="models.bertscore: needs 'path' or 'hub'"):
        build_metric("bertscore", inputs({"bertscore": {"options": {"num_layers": 2}}}))
    with pytest.raises(ConfigError, match="models.bertscore.options.num_layers is required for someone/tiny-bert"):
        build_metric("bertscore", inputs({"bertscore": {"hub": "someone/tiny-bert"}}))
    with pytest.raises(ConfigError, match="models.bertscore.options.num_layers: expected an integer"):
        build_metric("bertscore", inputs({"bertscore": {"path": str(bert_dir), "options": {"num_layers": "2"}}}))
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['layers'\]"):
        build_metric("bertscore", inputs({"bertscore": {"path": str(bert_dir), "options": {"layers": 2}}}))
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        metric(bert_dir).score(["s", "t"], ["a", "b"], ["a"])


def test_building_the_metric_loads_no_model(bert_dir, monkeypatch):
    """The significance step builds every metric for its resampling statistic only: no model load there."""
    import bert_score

    monkeypatch.setattr(bert_score, "BERTScorer", lambda *a, **k: pytest.fail("BERTScorer loaded"))
    built = metric(bert_dir)
    statistic = built.resampling_statistic(["a", "b"], ["a", "c"], [100.0, 50.0])
    assert statistic.score_of(statistic.stats.sum(axis=0), 2) == 75.0
    assert built.signature().startswith("bertscore|model:tiny-bert|layers:2|")


def test_significance_resamples_bertscore_segments_with_its_model_entry(bert_dir, tmp_path):
    from algharb.io import write_lines
    from algharb.metrics import MetricResult
    from algharb.steps.evaluate import significance_tables, write_segment_table

    sources = [f"s{i}" for i in range(6)]
    write_lines(tmp_path / "test.src", sources)
    files = {}
    for system, offset in (("a", 0.0), ("b", 5.0)):
        segments = [50.0 + offset + i for i in range(6)]
        result = MetricResult("bertscore", sum(segments) / 6, "sig", segments)
        files[(system, "en-ja")] = tmp_path / f"{system}.tsv"
        write_segment_table(files[(system, "en-ja")], sources, ["h"] * 6, ["r"] * 6, {"bertscore": result})
    entry = {"bertscore": {"path": str(bert_dir), "options": {"num_layers": 2}}}
    long, _ = significance_tables(files, {"en-ja": str(tmp_path / "test.src")}, ["bertscore"], ["a", "b"],
                                  ["en-ja"], {"en-ja": "ja"}, baseline="a", resamples=50, confidence=0.95, seed=1,
                                  metric_models=entry)
    b = long[(long["system"] == "b") & (long["pair"] == "en-ja")].iloc[0]
    assert b["family"] == "neural" and b["delta_baseline"] == pytest.approx(5.0)
