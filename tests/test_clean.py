"""Tests for the cleaning runner (algharb.data.clean), its config (algharb.data.config) and the decision table."""

import json

import numpy as np
import pandas as pd
import pytest

from algharb.data.clean import apply_qe_rejections, apply_rule_filters
from algharb.data.config import CleanConfig, FilterConfig, QEConfig
from algharb.data.decisions import funnel, read_decisions, split_jsonl_rows, write_decisions
from algharb.data.ingest import ParallelCorpus, read_parallel
from algharb.data.qe import qe_cutoff

ALL_FILTERS = {
    "filters": [
        {"length": {"min": 1, "max": 50}},
        {"length_ratio": {"max": 3.0}},
        "non_alphabetic",
        "copy",
        "duplicate",
    ]
}

EN_ZH = [
    ("I went to school yesterday.", "我昨天去了学校。"),  # kept
    ("", "空的"),  # length:src
    ("Hello", "好的，我明白了，我们明天再详细讨论这个问题吧。"),  # length_ratio
    ("12345 67890", "12345 67890"),  # non_alphabetic wins over copy and duplicate
    ("\u201cGood morning\u201d", "早上好"),  # kept; quotes normalised
    ("Good morning", "Good morning"),  # copy
    ("I went to school yesterday.", "我昨天去了学校。"),  # duplicate of line 1
    ("See you tomorrow.", "明天见。"),  # kept
]


def apply_qe_threshold(decisions, scores, threshold=None, *, quantile=None):
    """QE as the workflow applies it: cut the scores (qe_cutoff), then mark the rejections."""
    return apply_qe_rejections(decisions, scores, qe_cutoff(scores, QEConfig(threshold=threshold, quantile=quantile)))


def filter_config(clean, pair=None):
    """A ``clean`` section's settings for one direction."""
    return CleanConfig.from_dict(clean, where="clean").filter_config(pair)


def decide(pairs=EN_ZH, config=ALL_FILTERS, **kwargs):
    return apply_rule_filters(ParallelCorpus.from_pairs(pairs), "en", "zh", config, **kwargs)


def test_decision_table_one_row_per_line_in_order():
    decisions = decide()
    assert list(decisions.columns) == ["line", "src", "tgt", "kept", "reason"]
    assert decisions["line"].tolist() == list(range(1, len(EN_ZH) + 1))
    assert decisions["reason"].tolist() == [
        "",
        "length:src",
        "length_ratio",
        "non_alphabetic:src",
        "",
        "copy",
        "duplicate",
        "",
    ]
    assert decisions["kept"].tolist() == [r == "" for r in decisions["reason"]]
    assert decisions.loc[4, "src"] == '"Good morning"'


def test_first_failing_filter_wins_in_config_order():
    reordered = {"filters": ["duplicate", "copy", "non_alphabetic"]}
    decisions = decide(config=reordered)
    assert decisions.loc[3, "reason"] == "copy"  # copy now runs before non_alphabetic
    assert decisions.loc[6, "reason"] == "duplicate"


def test_invalid_utf8_lines_appear_as_rejected_rows(tmp_path):
    (tmp_path / "s.en").write_bytes(b"Hello there\n\xff\nSee you\n")
    (tmp_path / "t.ru").write_bytes("Привет\nПока\nДо встречи\n".encode())
    corpus = read_parallel(tmp_path / "s.en", tmp_path / "t.ru")
    decisions = apply_rule_filters(corpus, "en", "ru", ALL_FILTERS)
    assert decisions["line"].tolist() == [1, 2, 3]
    assert decisions["reason"].tolist() == ["", "invalid_utf8", ""]


def test_empty_config_keeps_everything_normalised():
    decisions = decide(config={})
    assert decisions["kept"].all()
    assert decisions.loc[4, "src"] == '"Good morning"'


def test_fix_casing_from_config():
    config = {"normalize": {"fix_casing": True}, "filters": []}
    corpus = ParallelCorpus.from_pairs([("GOOD MORNING ALL", "ДОБРОЕ УТРО ВСЕМ")])
    decisions = apply_rule_filters(corpus, "en", "ru", config)
    assert decisions.loc[0, ["src", "tgt"]].tolist() == ["Good morning all", "Доброе утро всем"]


def test_progress_bar_can_be_forced(capsys):
    decide(progress=True)
    assert "normalize" in capsys.readouterr().err


def test_language_id_uses_the_given_identifier():
    class AlwaysEnglish:
        def predict(self, texts):
            return ["en"] * len(texts), np.ones(len(texts))

    decisions = decide(config={"filters": ["language_id"]}, lid=AlwaysEnglish())
    assert set(decisions["reason"]) == {"language_id:tgt"}


# --- config ------------------------------------------------------------------------------


def test_config_unknown_keys_are_named():
    with pytest.raises(ValueError, match=r"'clean\.filter'"):
        filter_config({"filter": []})
    with pytest.raises(ValueError, match="'lenght'"):
        filter_config({"filters": ["lenght"]})
    with pytest.raises(ValueError, match=r"'clean\.filters\[0\]\.maximum'"):
        filter_config({"filters": [{"length": {"maximum": 3}}]})
    with pytest.raises(ValueError, match=r"'clean\.filters\.length\.maximum'"):
        filter_config({"filters": {"length": {"maximum": 3}}})
    with pytest.raises(ValueError, match=r"'clean\.normalize\.lowercase'"):
        filter_config({"normalize": {"lowercase": True}})
    with pytest.raises(ValueError, match="not both"):
        CleanConfig.from_dict({"qe": {"threshold": 0.5, "quantile": 0.1}}).qe_for("en-zh")
    with pytest.raises(ValueError, match="clean.qe.quantile"):
        CleanConfig.from_dict({"qe": {"mode": "quantile", "threshold": 0.5}}).qe_for("en-zh")
    with pytest.raises(ValueError, match="more than once"):
        filter_config({"filters": ["copy", "copy"]})
    with pytest.raises(ValueError, match=r"'clean\.per_pair\.en-zh\.copy\.max'"):
        filter_config({"filters": {"copy": {}}, "per_pair": {"en-zh": {"copy": {"max": 1}}}}, "en-zh")


def test_option_values_are_checked_when_the_config_is_parsed():
    with pytest.raises(ValueError, match=r"clean\.filters\.length_ratio: length_ratio\.max"):
        filter_config({"filters": {"length_ratio": {"max": 0.5}}})
    with pytest.raises(ValueError, match=r"clean\.normalize\.fix_casing: expected true or false"):
        filter_config({"normalize": {"fix_casing": "yes"}})


def test_workflow_config_shape():
    """The ``clean`` section as config/config.yaml writes it: a mapping, mode-based QE."""
    clean = {
        "filters": {
            "length": {"min": 1, "max": 200, "unit": "auto"},
            "length_ratio": {"max": 2.5, "unit": "auto"},
            "non_alphabetic": {"max_share": 0.3},
            "copy": {},
            "duplicate": None,
            "language_id": {"min_prob": 0.5},
        },
        "qe": {"mode": "threshold", "threshold": 0.55, "quantile": 0.1, "batch_size": 64},
    }
    config = filter_config(clean)
    assert config.filter_names == ["length", "length_ratio", "non_alphabetic", "copy", "duplicate", "language_id"]
    assert config.options("language_id").min_prob == 0.5 and config.options("language_id").identifier == "fasttext"
    assert CleanConfig.from_dict(clean).qe_for("en-zh").check() == ("threshold", 0.55)


def test_per_pair_overrides_replace_drop_and_append():
    data = {
        "filters": {"length_ratio": {"max": 2.0, "unit": "chars"}, "copy": {}, "duplicate": {}},
        "per_pair": {"en-zh": {"length_ratio": {"max": 4.0}, "copy": False, "non_alphabetic": {"max_share": 0.4}}},
    }
    en_zh = filter_config(data, "en-zh")
    assert [(name, options.to_dict()) for name, options in en_zh.filters] == [
        ("length_ratio", {"max": 4.0, "slack": 2.0, "unit": "auto", "chars_per_word": {}}),
        ("duplicate", {"side": "pair"}),
        ("non_alphabetic", {"max_share": 0.4, "letters_per_word": 5.0}),
    ]
    assert filter_config(data, "en-de").filter_names == ["length_ratio", "copy", "duplicate"]


def test_dict_config_applies_the_pair_overrides():
    config = {"filters": ["copy"], "per_pair": {"en-zh": {"copy": False}}}
    assert decide(config=config)["kept"].all()
    assert not apply_rule_filters(ParallelCorpus.from_pairs([("Hi", "Hi")]), "en", "de", config)["kept"].any()


# --- QE ----------------------------------------------------------------------------------------


def test_qe_threshold_rejects_kept_pairs_below_it():
    decisions = decide()
    result = apply_qe_threshold(decisions, [0.9, 0.2, 0.75], threshold=0.7)
    assert result["reason"].tolist()[7] == "" and result.loc[4, "reason"] == "qe"
    assert result["kept"].sum() == 2
    assert np.isnan(result.loc[1, "qe_score"]) and result.loc[7, "qe_score"] == 0.75
    assert decisions["kept"].sum() == 3  # input table untouched


def test_qe_quantile_rejects_lowest_share():
    result = apply_qe_threshold(decide(), [0.9, 0.2, 0.75], quantile=0.34)
    assert result.loc[result["reason"] == "qe", "line"].tolist() == [5]


def test_qe_scores_must_align_with_kept_rows():
    with pytest.raises(ValueError, match="2 scores and 2 decisions for 3 kept"):
        apply_qe_threshold(decide(), [0.1, 0.2], threshold=0.5)


def test_qe_rejections_are_applied_as_given():
    result = apply_qe_rejections(decide(), [0.9, 0.2, 0.75], [False, False, True])
    assert result.loc[result["reason"] == "qe", "line"].tolist() == [8]  # the third kept pair
    with pytest.raises(ValueError, match="3 scores and 2 decisions"):
        apply_qe_rejections(decide(), [0.9, 0.2, 0.75], [False, True])


# --- funnel and outputs -------------------------------------------------------------------------


def test_funnel_sums():
    result = apply_qe_threshold(decide(), [0.9, 0.2, 0.75], threshold=0.7)
    table = funnel(result)
    counts = dict(zip(table["stage"], table["pairs"]))
    assert counts["pairs_in"] == len(EN_ZH)
    assert counts["pairs_out"] == 2
    removed = sum(pairs for stage, pairs in counts.items() if stage.startswith("removed:"))
    assert counts["pairs_in"] - removed == counts["pairs_out"]
    assert counts["removed:qe"] == 1 and counts["removed:copy"] == 1


def test_write_and_read_decisions(tmp_path):
    result = apply_qe_threshold(decide(), [0.9, 0.2, 0.75], threshold=0.7)
    paths = [tmp_path / name for name in ("kept.en", "kept.zh", "rejected.tsv", "decisions.tsv")]
    write_decisions(result, *paths)
    assert paths[0].read_text(encoding="utf-8").splitlines() == ["I went to school yesterday.", "See you tomorrow."]
    assert paths[1].read_text(encoding="utf-8").splitlines() == ["我昨天去了学校。", "明天见。"]
    rejected = paths[2].read_text(encoding="utf-8").splitlines()
    assert rejected[0] == "line\treason\tsrc\ttgt"
    assert len(rejected) == 1 + 6
    assert rejected[1] == "2\tlength:src\t\t空的"
    back = read_decisions(paths[3])
    pd.testing.assert_frame_equal(back, result, check_dtype=False)
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_jsonl_records_of_kept_and_rejected_pairs(tmp_path):
    (tmp_path / "s.en").write_bytes(b"Hello there\n\xff\nGood morning\nGood morning\n")
    (tmp_path / "t.ru").write_bytes("Привет\nПока\nДоброе утро\nДоброе утро\n".encode())
    decisions = apply_rule_filters(read_parallel(tmp_path / "s.en", tmp_path / "t.ru"), "en", "ru", ALL_FILTERS)
    decisions = apply_qe_threshold(decisions, [0.8, 0.9], threshold=0.5)
    clean, rejected = json.loads(json.dumps(split_jsonl_rows(decisions, "en", "ru")))  # JSON-ready as is
    assert (len(clean), len(rejected)) == (2, 1)
    assert clean[0] == {
        "line": 1, "src": "Hello there", "tgt": "Привет", "src_lang": "en", "tgt_lang": "ru", "qe_score": 0.8
    }
    assert [(row["line"], row["reason"]) for row in rejected] == [(4, "duplicate")]  # line 2 had no text
    assert "qe_score" not in rejected[0]


def test_write_refuses_tabs_in_fields(tmp_path):
    decisions = decide(config={"normalize": {"enabled": False}})
    decisions.loc[0, "src"] = "a\tb"
    with pytest.raises(ValueError, match="tab"):
        write_decisions(decisions, *(tmp_path / name for name in ("a", "b", "c", "d")))


def test_read_decisions_names_bad_line(tmp_path):
    path = tmp_path / "d.tsv"
    path.write_text("line\tsrc\ttgt\tkept\treason\n1\ta\tb\t1\t\n2\ta\tb\tyes\t\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"d\.tsv:3: column 'kept'"):
        read_decisions(path)


def test_per_pair_qe_replaces_the_qe_section():
    data = CleanConfig.from_dict({"filters": {"copy": {}}, "qe": {"mode": "threshold", "threshold": 0.7},
                                  "per_pair": {"en-zh": {"qe": {"mode": "quantile", "quantile": 0.1}, "copy": False}}})
    assert data.qe_for("en-zh").check() == ("quantile", 0.1)
    assert data.filter_config("en-zh").filters == ()
    assert data.qe_for("en-de").check() == ("threshold", 0.7)
    bad = data.replace(per_pair={"en-zh": {"qe": {"quantile": 3}}})
    with pytest.raises(ValueError, match=r"clean\.per_pair\.en-zh\.qe\.quantile"):
        bad.qe_for("en-zh")


def test_rule_settings_ignore_qe_and_round_trip():
    """What clean_shard gets: a QE change leaves it as it is, so the shards' rule filters do not rerun."""
    clean = {"filters": {"language_id": {"min_prob": 0.6}, "copy": {}, "duplicate": None},
             "per_pair": {"en-zh": {"copy": False, "qe": {"quantile": 0.2}}},
             "qe": {"mode": "threshold", "threshold": 0.7, "batch_size": 8}}
    base = CleanConfig.from_dict(clean)
    for changed in ({"threshold": 0.1}, {"mode": "quantile", "quantile": 0.5}, {"batch_size": 1}):
        other = CleanConfig.from_dict({**clean, "qe": {**clean["qe"], **changed}})
        for pair in ("en-zh", "en-de"):
            assert other.rule_settings(pair) == base.rule_settings(pair)
    settings = base.rule_settings("en-de")
    assert "qe" not in json.dumps(settings)
    assert list(settings["filters"]) == ["copy", "duplicate", "language_id"]  # name order: the workflow's
    assert FilterConfig.from_dict(json.loads(json.dumps(settings))).to_dict() == settings
    assert list(base.rule_settings("en-zh")["filters"]) == ["duplicate", "language_id"]
    assert base.qe_for("en-zh").cut() == {"mode": None, "threshold": None, "quantile": 0.2}


def test_dedup_filters_run_after_the_per_pair_filters_whatever_their_position():
    config = filter_config({"filters": ["near_duplicate", "duplicate", "copy", "length"]})
    assert [name for name, _ in config.pair_filters] == ["copy", "length"]
    assert [name for name, _ in config.dedup_filters] == ["duplicate", "near_duplicate"]
