"""The Collab-MT Table 6 layout: formulas, row order, cells checked, TSV/Markdown/LaTeX."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from algharb.report.tables import write_table
from algharb.collab.table import comparison_table, display_caption, display_table, formula

DIRECTIONS = ["ja-en", "en-ja"]
METRICS = ["bleu", "bertscore"]
SRC, TGT = "S_en-src", "S_en-tgt"
# The rows of one large size in Table 6, as term weights.
TABLE_6 = [
    ("Original", {}, "L_M"),
    ("Proxy-tuning", {"S_MT": 1, "S_M": -1}, "L_M + (S_MT − S_M)"),
    ("Proxy-tuning", {SRC: 1, "S_M": -1}, "L_M + (S_en-src − S_M)"),
    ("Proxy-tuning", {TGT: 1, "S_M": -1}, "L_M + (S_en-tgt − S_M)"),
    ("Proxy-tuning", {SRC: 0.5, TGT: 0.5, "S_M": -1}, "L_M + (0.5·S_en-src + 0.5·S_en-tgt − S_M)"),
    ("Collab-MT", {"S_MT": 1}, "L_M + S_MT"),
    ("Collab-MT", {SRC: 1}, "L_M + S_en-src"),
    ("Collab-MT", {TGT: 1}, "L_M + S_en-tgt"),
    ("Collab-MT", {SRC: 0.5, TGT: 0.5}, "L_M + 0.5·S_en-src + 0.5·S_en-tgt"),
    ("Collab-MT", {SRC: 1, TGT: 1}, "L_M + S_en-src + S_en-tgt"),
]


# The rows whose formula is a model alone: 1B Original and Fine-tuning, 3B/8B Fine-tuning.
BARE = ["S_M", "S_MT", "L_MT"]


@pytest.mark.parametrize("method, terms, expected", TABLE_6)
def test_formulas_are_written_as_in_table_6(method, terms, expected):
    assert formula("L_M", terms) == expected


@pytest.mark.parametrize("base", BARE)
def test_a_model_alone_is_its_symbol(base):
    assert formula(base, {}) == base


def test_other_weights_keep_their_value_and_sign_and_anti_experts_come_last():
    assert formula("L_M", {"S_M": -0.5, "S_MT": 2}) == "L_M + (2·S_MT − 0.5·S_M)"
    # A config whose keys were sorted (S_M before S_MT) gives the paper's formula.
    assert formula("L_M", {"S_M": -1, "S_MT": 1}) == "L_M + (S_MT − S_M)"
    assert formula("L_M", {"S_b": 1, "S_a": 0.5}) == "L_M + S_b + 0.5·S_a"


def rows_and_scores():
    rows = [{"row": "1b_original", "size": "1B", "method": "Original", "formula": "S_M"},
            {"row": "1b_finetuned", "size": "1B", "method": "Fine-tuning", "formula": "S_MT"}]
    rows += [{"row": f"3b_{i}", "size": "3B", "method": method, "formula": formula("L_M", terms)}
             for i, (method, terms, _) in enumerate(TABLE_6)]
    scores = pd.DataFrame([{"row": row["row"], "direction": d, "metric": m, "score": 10.0 * i + j + 0.123}
                           for i, row in enumerate(rows) for j, d in enumerate(DIRECTIONS) for m in METRICS])
    return rows, scores


def test_rows_keep_their_configured_order_and_each_cell_its_score():
    rows, scores = rows_and_scores()
    table = comparison_table(scores.sample(frac=1, random_state=0), rows, DIRECTIONS, METRICS)
    assert table["method"].tolist()[:3] == ["Original", "Fine-tuning", "Original"]
    assert table.columns.tolist() == ["size", "method", "formula", "ja-en bleu", "ja-en bertscore", "en-ja bleu",
                                      "en-ja bertscore"]
    assert table.loc[3, "en-ja bertscore"] == 31.12


def test_missing_duplicated_and_unconfigured_cells_are_errors_naming_them():
    rows, scores = rows_and_scores()
    with pytest.raises(ValueError, match="row '3b_4' has no bleu score for en-ja"):
        comparison_table(scores.drop(scores.index[(scores.row == "3b_4") & (scores.direction == "en-ja")
                                                  & (scores.metric == "bleu")]), rows, DIRECTIONS, METRICS)
    with pytest.raises(ValueError, match="row '1b_original' has two bleu scores for ja-en"):
        comparison_table(pd.concat([scores, scores.head(1)]), rows, DIRECTIONS, METRICS)
    with pytest.raises(ValueError, match=r"row\(s\) \['8b_0'\] that the table does not configure"):
        comparison_table(pd.concat([scores, scores.head(1).assign(row="8b_0")]), rows, DIRECTIONS, METRICS)
    # An unconfigured row is an error even in a direction the table does not show.
    with pytest.raises(ValueError, match=r"\['8b_0'\]"):
        comparison_table(pd.concat([scores, scores.head(1).assign(row="8b_0", direction="de-en")]), rows,
                         DIRECTIONS, METRICS)
    with pytest.raises(ValueError, match="row '3b_2' has an empty bertscore score for ja-en"):
        comparison_table(scores.assign(score=scores.score.mask((scores.row == "3b_2") & (scores.direction == "ja-en")
                                                               & (scores.metric == "bertscore"))),
                         rows, DIRECTIONS, METRICS)


def test_directions_and_metrics_not_asked_for_are_left_out():
    rows, scores = rows_and_scores()
    table = comparison_table(pd.concat([scores, scores.assign(metric="chrf")]), rows, ["en-ja"], ["bleu"])
    assert table.columns.tolist() == ["size", "method", "formula", "en-ja bleu"]


def test_display_shows_each_size_once_and_metric_pairs_per_direction(tmp_path):
    rows, scores = rows_and_scores()
    shown = display_table(comparison_table(scores, rows, DIRECTIONS, METRICS), DIRECTIONS, METRICS)
    assert shown.index.tolist()[:4] == ["1B", "", "3B", ""]
    assert shown.iloc[0]["ja-en"] == "0.12 / 0.12" and shown.iloc[1]["en-ja"] == "11.12 / 11.12"
    write_table(shown, tmp_path / "t.tsv", tmp_path / "t.md", tmp_path / "t.tex",
                caption="Collab-MT, " + display_caption(METRICS))
    back = pd.read_csv(tmp_path / "t.tsv", sep="\t", keep_default_na=False, dtype=str, index_col="size")
    pd.testing.assert_frame_equal(back, shown)
    assert "L_M + (S_MT − S_M)" in (tmp_path / "t.md").read_text()
    latex = (tmp_path / "t.tex").read_text()
    assert "L\\_M" in latex and "BLEU / BERTScore F1" in latex
    assert "−" not in latex and "·" not in latex and "(S\\_MT $-$ S\\_M)" in latex  # pdfLaTeX-safe
    # Compiles-looking: "$" balanced, and no "_" outside math that is not escaped.
    dollars = re.sub(r"\\\$", "", latex)
    assert dollars.count("$") % 2 == 0
    assert not re.search(r"(?<!\\)_", re.sub(r"\$[^$]*\$", "", dollars))


def test_caption_names_the_metrics_in_cell_order():
    assert display_caption(["bleu", "bertscore"]) == "cells: BLEU / BERTScore F1 (0–100)"
    assert display_caption(["xcomet", "mystery"]).startswith("cells: XCOMET / mystery")
