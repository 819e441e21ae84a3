"""Tests for algharb.data.clean: config, decision table, QE, funnel, outputs."""

import numpy as np
import pandas as pd
import pytest

from algharb.data.clean import (
    FilterConfig,
    apply_qe_config,
    apply_qe_threshold,
    apply_rule_filters,
    funnel,
    read_decisions,
    write_decisions,
)
from algharb.data.ingest import ParallelCorpus, read_parallel

ALL_FILTERS = {
    "filters": [
        {"length": {"min_length": 1, "max_length": 50}},
        {"length_ratio": {"max_ratio": 3.0}},
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
    decisions = apply_rule_filters(ParallelCorpus.from_pairs([("GOOD MORNING ALL", "ДОБРОЕ УТРО ВСЕМ")]), "en", "ru", config)
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
    with pytest.raises(ValueError, match="'filter'"):
        FilterConfig.from_dict({"filter": []})
    with pytest.raises(ValueError, match="'lenght'"):
        FilterConfig.from_dict({"filters": ["lenght"]})
    with pytest.raises(ValueError, match=r"filters\[0\].length.*'maximum'"):
        FilterConfig.from_dict({"filters": [{"length": {"maximum": 3}}]})
    with pytest.raises(ValueError, match="'lowercase'"):
        FilterConfig.from_dict({"normalize": {"lowercase": True}})
    with pytest.raises(ValueError, match="not both"):
        FilterConfig.from_dict({"qe": {"threshold": 0.5, "quantile": 0.1}})
    with pytest.raises(ValueError, match="more than once"):
        FilterConfig.from_dict({"filters": ["copy", "copy"]})


def test_config_direction_overrides_merge():
    data = {
        "filters": [{"length_ratio": {"max_ratio": 2.0}}, "copy", "duplicate"],
        "qe": {"threshold": 0.7},
        "directions": {
            "en-zh": {
                "filters": {"length_ratio": {"unit": "chars"}, "copy": False, "non_alphabetic": {"max_share": 0.4}},
                "qe": {"quantile": 0.2},
                "normalize": {"fix_casing": True},
            }
        },
    }
    en_zh = FilterConfig.from_dict(data, "en-zh")
    assert en_zh.filters == [
        ("length_ratio", {"max_ratio": 2.0, "unit": "chars"}),
        ("duplicate", {}),
        ("non_alphabetic", {"max_share": 0.4}),
    ]
    assert en_zh.qe == {"quantile": 0.2}
    assert en_zh.normalize["fix_casing"] is True
    en_de = FilterConfig.from_dict(data, "en-de")
    assert en_de.filter_names == ["length_ratio", "copy", "duplicate"]
    assert en_de.qe == {"threshold": 0.7}
    with pytest.raises(ValueError, match=r"directions.en-zh.*'filtres'"):
        FilterConfig.from_dict({"directions": {"en-zh": {"filtres": {}}}}, "en-zh")


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
    with pytest.raises(ValueError, match="2 scores for 3 kept"):
        apply_qe_threshold(decide(), [0.1, 0.2], threshold=0.5)


def test_qe_from_config():
    config = FilterConfig.from_dict({"qe": {"quantile": 0.5}})
    assert (apply_qe_config(decide(), [0.9, 0.2, 0.75], config)["reason"] == "qe").sum() == 1
    with pytest.raises(ValueError, match="no qe"):
        apply_qe_config(decide(), [0.9, 0.2, 0.75], FilterConfig())


# --- funnel and outputs -------------------------------------------------------------------------


def test_funnel_sums():
    result = apply_qe_threshold(decide(), [0.9, 0.2, 0.75], threshold=0.7)
    table = funnel(result)
    counts = dict(zip(table["step"], table["pairs"]))
    assert counts["pairs_in"] == len(EN_ZH)
    assert counts["pairs_out"] == 2
    removed = sum(pairs for step, pairs in counts.items() if step.startswith("removed:"))
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
