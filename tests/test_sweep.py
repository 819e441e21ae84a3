"""λ sweep of hybrid MBR from saved scores."""

import pytest

from algharb.decode.config import MBRConfig
from algharb.decode.sweep import sweep, sweep_pair

MBR = MBRConfig()


def scored_row(src, candidates, utility, align):
    return {"src": src, "candidates": candidates, "utility": utility, "align": align}


# Candidate 0 is the MBR favourite but drops "cat"; candidate 1 covers the source.
ROWS = [
    scored_row("the dog sees the cat", ["le chien voit", "le chien voit le chat"],
               [[1.0, 0.9], [0.6, 1.0]], [0.2, 1.0]),
    scored_row("a bird", ["un oiseau", "oiseau un"], [[1.0, 0.8], [0.7, 1.0]], [1.0, 1.0]),
]
REFS = ["le chien voit le chat", "un oiseau"]


def omission_share(rows, hyps, tgt_lang):
    assert tgt_lang == "fr"
    return sum("cat" in row["src"] and "chat" not in hyp for row, hyp in zip(rows, hyps)) / len(rows)


def test_alignment_weight_changes_the_choice_and_the_omissions():
    table = sweep_pair(ROWS, REFS, "fr", [0, 0.5], MBR, {"omission_share": omission_share}).set_index("lambda")
    # λ = 0: MBR 0.9 vs 0.6 → candidate 0 (omission); λ = 0.5: 0.9 + 0.1 < 0.6 + 0.5 → candidate 1.
    assert table.loc[0.0, "omission_share"] == 0.5 and table.loc[0.5, "omission_share"] == 0.0
    assert table.loc[0.0, "changed_vs_lambda0"] == 0.0 and table.loc[0.5, "changed_vs_lambda0"] == 0.5
    assert table.loc[0.5, "chrf"] == pytest.approx(100.0) and table.loc[0.0, "chrf"] < 100
    assert table.loc[0.5, "align"] == pytest.approx(1.0) and table.loc[0.0, "mbr"] == pytest.approx(0.85)


def test_without_alignment_scores_every_lambda_selects_the_same():
    rows = [{**row, "align": None} for row in ROWS]
    table = sweep_pair(rows, REFS, "fr", [0, 1, 2], MBR)
    assert table["changed_vs_lambda0"].tolist() == [0.0, 0.0, 0.0]
    assert table["align"].isna().all() and "omission_share" not in table


def test_sweep_adds_an_average_block_and_checks_lengths():
    table = sweep(["en-fr", "en-de"], {"en-fr": ROWS, "en-de": ROWS}, {"en-fr": REFS, "en-de": REFS}, [0, 0.5], MBR)
    assert table["pair"].tolist() == ["en-fr", "en-fr", "en-de", "en-de", "AVG", "AVG"]
    average = table[table["pair"] == "AVG"].set_index("lambda")
    assert average.loc[0.5, "chrf"] == pytest.approx(table.loc[1, "chrf"])
    with pytest.raises(ValueError, match="2 scored sources but 1 references"):
        sweep_pair(ROWS, REFS[:1], "fr", [0], MBR)


def test_a_source_without_candidates_gets_an_empty_output_in_the_sweep_too():
    rows = [*ROWS, {"src": "nothing", "candidates": [], "utility": [], "align": []}]
    table = sweep_pair(rows, [*REFS, "rien"], "fr", [0, 0.5], MBR).set_index("lambda")
    assert table.loc[0.5, "changed_vs_lambda0"] == pytest.approx(1 / 3)
    assert table.loc[0.5, "align"] == pytest.approx(1.0)  # over the sources that had candidates


def test_extra_columns_follow_the_fixed_ones_and_get_an_average():
    def empty_share(rows, hyps, tgt_lang):
        return sum(not hyp for hyp in hyps) / len(hyps)

    rows = [*ROWS, {"src": "nothing", "candidates": [], "utility": [], "align": []}]
    refs = [*REFS, "rien"]
    table = sweep(["en-fr", "en-de"], {"en-fr": rows, "en-de": ROWS}, {"en-fr": refs, "en-de": REFS}, [0, 0.5], MBR,
                  {"empty_share": empty_share})
    assert list(table.columns) == ["pair", "lambda", "chrf", "bleu", "mbr", "align", "changed_vs_lambda0",
                                   "empty_share"]
    assert table["empty_share"].tolist() == pytest.approx([1 / 3, 1 / 3, 0, 0, 1 / 6, 1 / 6])


def test_the_demo_adds_the_oracles_omission_share():
    from algharb.demo.omission import omission_share_columns
    from algharb.demo.world import load_world

    world = {"seed": 1, "pairs": ["en-qaa"]}
    oracle = load_world(world)
    sources = oracle.sample_sentences(2, 0)
    references = [oracle.oracle_translate(s, "qaa") for s in sources]
    # Candidate 0 drops the second half of the reference; the MBR utility prefers it, the alignment does not.
    rows = [scored_row(s, [" ".join(r.split()[: len(r.split()) // 2]), r], [[1.0, 0.9], [0.6, 1.0]], [0.2, 1.0])
            for s, r in zip(sources, references)]
    table = sweep(["en-qaa"], {"en-qaa": rows}, {"en-qaa": references}, [0, 0.5], MBR,
                  omission_share_columns(world)).set_index(["pair", "lambda"])
    assert table.loc[("en-qaa", 0.0), "omission_share"] == 1.0
    assert table.loc[("en-qaa", 0.5), "omission_share"] == 0.0
    assert table.loc[("AVG", 0.5), "omission_share"] == 0.0
