"""The preference comparison table on hand-made segment tables: rows, columns and marks against SFT."""

import random

import pandas as pd
import pytest

from algharb.steps.preference import PAIR_SCORE, SFT_ROW, comparison_legend, comparison_tables, reward_ranking
from algharb.steps.preference import reward_ranking_file

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()
SETTINGS = {"resamples": 200, "confidence": 0.95, "alpha": 0.05}


def segment_table(path, sources, hypotheses, references):
    pd.DataFrame({"id": range(1, len(sources) + 1), "source": sources, "hypothesis": hypotheses,
                  "reference": references, "chrf": 0.0, "bleu": 0.0}).to_csv(path, sep="\t", index=False)
    return str(path)


@pytest.fixture()
def cells(tmp_path):
    rng = random.Random(0)
    references = [" ".join(rng.choice(WORDS) for _ in range(8)) for _ in range(60)]
    sources = [f"source {i}" for i in range(60)]
    (tmp_path / "test.src").write_text("\n".join(sources) + "\n")
    worse = [" ".join(ref.split()[:3]) for ref in references]  # an omission-heavy system
    outputs = {SFT_ROW: [" ".join(ref.split()[:6]) for ref in references], "rl_good": references,
               "rl_bad": worse}
    segment_files = {(system, "en-qaa"): segment_table(tmp_path / f"{system}.tsv", sources, hyps, references)
                     for system, hyps in outputs.items()}
    qe = pd.DataFrame({"system": [s for s in outputs for _ in sources], "line": list(range(1, 61)) * 3,
                       "qe": [0.5] * 60 + [0.9] * 60 + [0.7] * 60})
    qe.to_csv(tmp_path / "qe.tsv", sep="\t", index=False)
    return segment_files, {"en-qaa": str(tmp_path / "qe.tsv")}, {"en-qaa": str(tmp_path / "test.src")}


def omission_share(rows, hypotheses, tgt_lang):
    return sum(len(h.split()) < 5 for h in hypotheses) / len(hypotheses)


def test_rows_columns_and_marks_follow_the_bootstrap(cells):
    segment_files, qe_files, sources = cells
    rows = {SFT_ROW: "SFT", "rl_good": "CPO", "rl_bad": "M2PO"}
    long, wide = comparison_tables(segment_files, qe_files, sources, rows, ["en-qaa"], {"en-qaa": "qaa"},
                                   primary="chrf", metrics=["chrf", "bleu"], settings=SETTINGS, seed=1,
                                   omission_share=omission_share)
    assert list(wide.index) == ["SFT", "CPO", "M2PO"]
    assert list(wide.columns) == ["en-qaa chrF", "en-qaa QE", "en-qaa BLEU", "en-qaa omission %"]
    assert wide.loc["CPO", "en-qaa chrF"] == "100.00†" and wide.loc["CPO", "en-qaa BLEU"] == "100.00†"
    assert wide.loc["M2PO", "en-qaa chrF"].endswith("§")
    assert "†" not in wide.loc["SFT", "en-qaa chrF"] and "§" not in wide.loc["SFT", "en-qaa chrF"]
    assert wide.loc["CPO", "en-qaa QE"] == "90.00" and wide.loc["SFT", "en-qaa QE"] == "50.00"
    assert wide.loc["M2PO", "en-qaa omission %"] == "100.00" and wide.loc["CPO", "en-qaa omission %"] == "0.00"
    tested = long[long["p_sft"].notna()]
    assert set(tested["system"]) == {"rl_good", "rl_bad"} and set(tested["column"]) == {"chrf", "bleu"}
    assert (tested["delta_sft_low"] <= tested["delta_sft"]).all()


def test_the_sft_row_is_required(cells):
    segment_files, qe_files, sources = cells
    with pytest.raises(ValueError, match="needs the SFT row 'two_step_sft'"):
        comparison_tables(segment_files, qe_files, sources, {"rl_good": "CPO"}, ["en-qaa"], {"en-qaa": "qaa"},
                          primary="chrf", metrics=["chrf"], settings=SETTINGS, seed=1)


def test_legend_names_the_scorers_and_the_marks():
    legend = comparison_legend(0.05, 1000, {"qe": 0.5, "evaluation": 0.5})
    assert "0.5·qe + 0.5·evaluation" in legend and "† significantly better" in legend


# --- how well the reward ranks the pools ---------------------------------------------------------


def candidate(text, origin, kiwi, xcomet):
    return {"text": text, "origin": origin, "scores": {"kiwi": kiwi, "xcomet": xcomet}, "qe": (kiwi + xcomet) / 2}


REFERENCE = "the cat sat on the mat"
POOLS = {
    "en-qaa": [
        # kiwi ranks the reference first and orders the others as chrF does (τ = 1);
        # xcomet prefers the worst sample (reference not first, τ = -1); their mean keeps the reference first.
        {"src": "s1", "candidates": [candidate("the cat sat on the mat", "reference", 0.9, 0.5),
                                     candidate("the cat sat on a mat", "self", 0.8, 0.1),
                                     candidate("a dog ran", "self", 0.1, 0.9)]},
        # A pool without a reference counts nowhere.
        {"src": "s2", "candidates": [candidate("x", "self", 0.5, 0.5), candidate("y", "teacher", 0.4, 0.4)]},
        # Every score puts a sample above the reference; one other candidate: no τ.
        {"src": "s3", "candidates": [candidate(REFERENCE, "reference", 0.2, 0.2),
                                     candidate("the cat", "teacher", 0.3, 0.3)]},
    ]
}


def test_reward_ranking_counts_the_reference_first_and_tau_with_chrf():
    table = reward_ranking(POOLS)
    assert list(table.index.get_level_values("score")) == ["kiwi", "xcomet", PAIR_SCORE]
    kiwi, xcomet, pair = (table.loc[("en-qaa", name)] for name in ("kiwi", "xcomet", PAIR_SCORE))
    assert (kiwi["pools"], kiwi["reference first (%)"]) == (2, 50.0)
    assert xcomet["reference first (%)"] == 0.0
    assert pair["reference first (%)"] == 50.0  # 0.7 against 0.45 and 0.5 in s1; 0.2 < 0.3 in s3
    assert kiwi["Kendall τ with chrF"] == pytest.approx(1.0) and kiwi["pools for τ"] == 1
    assert xcomet["Kendall τ with chrF"] == pytest.approx(-1.0)


def test_reward_ranking_without_references_is_empty_and_written(tmp_path):
    pool = tmp_path / "pool.jsonl"
    pool.write_text('{"src": "s", "candidates": [{"text": "a", "origin": "self", "scores": {"k": 1}, "qe": 1}]}\n',
                    encoding="utf-8")
    table = reward_ranking_file([str(pool)], ["en-qaa"], tmp_path / "r.tsv", tmp_path / "r.md")
    assert table.empty and (tmp_path / "r.md").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="1 pool files for 2 directions"):
        reward_ranking_file([str(pool)], ["en-qaa", "en-qab"], tmp_path / "r.tsv", tmp_path / "r.md")
