"""Preference pairs: ALMA-R's triplet rule with provenance and every score, and the noised-rejected variant."""

import pytest

from algharb.train.preference_data import build_preference_pairs, noised_pairs


def pool_row(*candidates, row_id="s1"):
    """A pool row from (text, origin, qe) triples."""
    return {
        "id": row_id,
        "src": "alpha beta",
        "src_lang": "qaa",
        "tgt_lang": "qab",
        "candidates": [{"text": t, "origin": o, "qe": q} for t, o, q in candidates],
    }


def test_chosen_is_highest_qe_rejected_lowest_with_provenance():
    pairs, stats = build_preference_pairs(
        [pool_row(("b", "self", 0.5), ("a", "teacher", 0.9), ("c", "self", 0.2))], 0.1
    )
    assert pairs == [
        {
            "id": "s1",
            "src": "alpha beta",
            "src_lang": "qaa",
            "tgt_lang": "qab",
            "chosen": "a",
            "rejected": "c",
            "chosen_origin": "teacher",
            "rejected_origin": "self",
            "chosen_qe": 0.9,
            "rejected_qe": 0.2,
            "margin": pytest.approx(0.7),
            "chosen_scores": {"qe": 0.9},
            "rejected_scores": {"qe": 0.2},
        }
    ]
    assert stats["chosen_origin"] == {"teacher": 1} and stats["rejected_origin"] == {"self": 1}


def test_margin_is_inclusive_and_a_smaller_gap_is_skipped():
    kept, _ = build_preference_pairs([pool_row(("a", "self", 0.75), ("b", "self", 0.5))], 0.25)
    skipped, stats = build_preference_pairs([pool_row(("a", "self", 0.7), ("b", "self", 0.5))], 0.25)
    assert len(kept) == 1 and skipped == []
    assert stats["skipped"] == {"no_margin": 1, "fewer_than_two_distinct": 0}


def test_ties_go_to_the_earlier_candidate():
    pairs, _ = build_preference_pairs(
        [pool_row(("low1", "self", 0.1), ("top1", "self", 0.9), ("top2", "teacher", 0.9), ("low2", "teacher", 0.1))],
        0.0,
    )
    assert (pairs[0]["chosen"], pairs[0]["rejected"]) == ("top1", "low1")


def test_identical_texts_are_never_paired():
    # The chosen text also appears with a lower (noisy) score: the rejected must be another text.
    pairs, _ = build_preference_pairs([pool_row(("a", "teacher", 0.9), ("b", "self", 0.5), ("a", "self", 0.2))], 0.0)
    assert (pairs[0]["chosen"], pairs[0]["rejected"]) == ("a", "b")
    none, stats = build_preference_pairs(
        [pool_row(("a", "self", 0.9), ("a", "teacher", 0.1)), pool_row(("a", "self", 0.9))], 0.0
    )
    assert none == []
    assert stats == {
        "sources": 2,
        "pairs": 0,
        "skipped": {"no_margin": 0, "fewer_than_two_distinct": 2},
        "chosen_origin": {},
        "rejected_origin": {},
    }


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="margin"):
        build_preference_pairs([], -0.1)
    with pytest.raises(ValueError, match="lacks \\['candidates'\\]"):
        build_preference_pairs([{"id": 1, "src": "a", "src_lang": "qaa", "tgt_lang": "qab"}], 0.0)
    with pytest.raises(ValueError, match="'s1' candidate 0 qe must be a finite number"):
        build_preference_pairs([pool_row(("a", "self", float("nan")), ("b", "self", 0.1))], 0.0)


def test_every_score_is_kept_beside_the_pair():
    row = pool_row(("a", "teacher", 0.8), ("b", "reference", 0.6), ("c", "self", 0.3))
    row["candidates"][0].update(scores={"kiwi": 0.7, "xcomet": 0.9}, align=0.95)
    row["candidates"][2].update(scores={"kiwi": 0.2, "xcomet": 0.4}, align=0.5)
    (pair,), stats = build_preference_pairs([row], 0.0)
    assert pair["chosen_scores"] == {"kiwi": 0.7, "xcomet": 0.9, "qe": 0.8, "align": 0.95}
    assert pair["rejected_scores"] == {"kiwi": 0.2, "xcomet": 0.4, "qe": 0.3, "align": 0.5}
    assert stats["chosen_origin"] == {"teacher": 1}


def test_triplet_rule_with_reference_teacher_and_own_output_ties_included():
    # ALMA-R's triplet: reference, strong system, own output; a tie at the top keeps the earlier one.
    row = pool_row(("ref", "reference", 0.8), ("gpt", "teacher", 0.8), ("own", "self", 0.8))
    assert build_preference_pairs([row], 0.0)[0][0]["chosen"] == "ref"
    assert build_preference_pairs([row], 0.0)[0][0]["rejected"] == "gpt"  # lowest among the others: first tie
    row = pool_row(("ref", "reference", 0.7), ("gpt", "teacher", 0.9), ("own", "self", 0.7))
    (pair,), _ = build_preference_pairs([row], 0.0)
    assert (pair["chosen"], pair["rejected"]) == ("gpt", "ref")


def test_noised_pairs_keep_the_chosen_and_noise_it_per_source():
    pairs, _ = build_preference_pairs(
        [pool_row(("w1 w2 w3 w4 w5 w6", "teacher", 0.9), ("x", "self", 0.1), row_id=f"s{i}") for i in range(20)]
        + [pool_row(("single", "teacher", 0.9), ("x", "self", 0.1), row_id="one")],
        0.0,
    )
    noised, stats = noised_pairs(pairs, seed=7)
    again, _ = noised_pairs(list(reversed(pairs)), seed=7)
    other, _ = noised_pairs(pairs, seed=8)
    assert {p["id"]: p["rejected"] for p in noised} == {p["id"]: p["rejected"] for p in again}
    assert [p["rejected"] for p in noised] != [p["rejected"] for p in other]
    assert all(p["rejected"] != p["chosen"] == "w1 w2 w3 w4 w5 w6" for p in noised)
    assert all(p["rejected_origin"] == "noised" and p["rejected_scores"] == {} for p in noised)
    assert all(set(p["rejected"].split()) <= set(p["chosen"].split()) for p in noised)
    assert "one" not in {p["id"] for p in noised}  # one word cannot be noised into anything else
    assert stats["sources"] == 21 and stats["pairs"] + stats["skipped"]["unchanged"] == 21
    assert stats["rejected_origin"] == {"noised": stats["pairs"]}
