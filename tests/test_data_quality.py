import pandas as pd
import pytest

from algharb.demo.filter_quality import filter_quality, kept_precision


def test_recall_per_kind_and_precision_of_kept():
    decisions = pd.DataFrame({
        "line": [1, 2, 3, 4, 5, 6],
        "kept": [True, True, False, False, True, False],
        "reason": ["", "", "copy", "qe", "", "qe"],
    })
    labels = pd.DataFrame({"line": [1, 2, 3, 4, 5, 6],
                           "kind": ["clean", "clean", "untranslated_copy", "misaligned", "misaligned", "clean"]})
    table = filter_quality(decisions, labels)
    assert table.loc["untranslated_copy", "rejected_share"] == 1.0
    assert table.loc["misaligned", "rejected_share"] == 0.5
    assert table.loc["misaligned", "top_reason"] == "qe"
    assert table.loc["clean", "rejected_share"] == pytest.approx(1 / 3)
    assert kept_precision(decisions, labels) == pytest.approx(2 / 3)


def test_unlabelled_lines_are_an_error():
    decisions = pd.DataFrame({"line": [1, 2], "kept": [True, False], "reason": ["", "qe"]})
    labels = pd.DataFrame({"line": [1], "kind": ["clean"]})
    with pytest.raises(ValueError, match="first: line 2"):
        filter_quality(decisions, labels)


def test_precision_and_recall_per_filter():
    from algharb.demo.filter_quality import filter_precision_recall

    decisions = pd.DataFrame({
        "line": [1, 2, 3, 4, 5, 6],
        "kept": [True, False, False, False, True, False],
        "reason": ["", "language_id:src", "language_id:tgt", "copy", "", "copy"],
    })
    labels = pd.DataFrame({"line": [1, 2, 3, 4, 5, 6],
                           "kind": ["clean", "wrong_language", "clean", "untranslated_copy", "wrong_language",
                                    "non_alphabetic"]})
    table = filter_precision_recall(decisions, labels)
    assert table.loc["language_id", "removed"] == 2  # both sides count as one filter
    assert table.loc["language_id", "precision"] == 0.5 and table.loc["language_id", "recall"] == 0.5
    assert table.loc["copy", "precision"] == 1.0 and table.loc["copy", "recall"] == 1.0
