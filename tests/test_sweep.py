"""λ sweep of hybrid MBR from saved scores."""

import pytest

from algharb.decode.sweep import sweep, sweep_pair


def scored_row(src, candidates, utility, align):
    return {"src": src, "candidates": candidates, "utility": utility, "align": align}


# Candidate 0 is the MBR favourite but drops "cat"; candidate 1 covers the source.
ROWS = [
    scored_row("the dog sees the cat", ["le chien voit", "le chien voit le chat"],
               [[1.0, 0.9], [0.6, 1.0]], [0.2, 1.0]),
    scored_row("a bird", ["un oiseau", "oiseau un"], [[1.0, 0.8], [0.7, 1.0]], [1.0, 1.0]),
]
REFS = ["le chien voit le chat", "un oiseau"]


def omits(src, hyp):
    return "cat" in src and "chat" not in hyp


def test_alignment_weight_changes_the_choice_and_the_omissions():
    table = sweep_pair(ROWS, REFS, "fr", lambdas=[0, 0.5], omits=omits).set_index("lambda")
    # λ = 0: MBR 0.9 vs 0.6 → candidate 0 (omission); λ = 0.5: 0.9 + 0.1 < 0.6 + 0.5 → candidate 1.
    assert table.loc[0.0, "omission_share"] == 0.5 and table.loc[0.5, "omission_share"] == 0.0
    assert table.loc[0.0, "changed_vs_lambda0"] == 0.0 and table.loc[0.5, "changed_vs_lambda0"] == 0.5
    assert table.loc[0.5, "chrf"] == pytest.approx(100.0) and table.loc[0.0, "chrf"] < 100
    assert table.loc[0.5, "align"] == pytest.approx(1.0) and table.loc[0.0, "mbr"] == pytest.approx(0.85)


def test_without_alignment_scores_every_lambda_selects_the_same():
    rows = [{**row, "align": None} for row in ROWS]
    table = sweep_pair(rows, REFS, "fr", lambdas=[0, 1, 2])
    assert table["changed_vs_lambda0"].tolist() == [0.0, 0.0, 0.0]
    assert table["align"].isna().all() and "omission_share" not in table


def test_sweep_adds_an_average_block_and_checks_lengths():
    table = sweep(["en-fr", "en-de"], {"en-fr": ROWS, "en-de": ROWS}, {"en-fr": REFS, "en-de": REFS}, [0, 0.5])
    assert table["pair"].tolist() == ["en-fr", "en-fr", "en-de", "en-de", "AVG", "AVG"]
    average = table[table["pair"] == "AVG"].set_index("lambda")
    assert average.loc[0.5, "chrf"] == pytest.approx(table.loc[1, "chrf"])
    with pytest.raises(ValueError, match="2 scored sources but 1 references"):
        sweep_pair(ROWS, REFS[:1], "fr")


def test_a_source_without_candidates_gets_an_empty_output_in_the_sweep_too():
    rows = [*ROWS, {"src": "nothing", "candidates": [], "utility": [], "align": []}]
    table = sweep_pair(rows, [*REFS, "rien"], "fr", lambdas=[0, 0.5]).set_index("lambda")
    assert table.loc[0.5, "changed_vs_lambda0"] == pytest.approx(1 / 3)
    assert table.loc[0.5, "align"] == pytest.approx(1.0)  # over the sources that had candidates
