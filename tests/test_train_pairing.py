"""ALMA-R's and M2PO's pairing rules on hand-computed inputs."""

from __future__ import annotations

import math
import random

import pytest

from algharb.train.pairing import (
    fused_scores,
    head_to_tail_pairs,
    linear_schedule,
    noise_translation,
    weighted_score,
    zscores,
)


class Draws(random.Random):
    """A Random whose ``random()`` returns the given values in order (and fails when they run out)."""

    def __init__(self, values):
        super().__init__(0)
        self.values = list(values)

    def random(self):
        return self.values.pop(0)


def test_weighted_score_is_the_weighted_mean_of_the_named_metrics():
    assert weighted_score({"kiwi": 0.8, "xcomet": 0.6, "chrf": 10}, {"kiwi": 1, "xcomet": 1}) == pytest.approx(0.7)
    assert weighted_score({"kiwi": 0.8, "xcomet": 0.5}, {"kiwi": 3, "xcomet": 1}) == pytest.approx(0.725)
    with pytest.raises(KeyError, match="xcomet"):
        weighted_score({"kiwi": 0.8}, {"kiwi": 1, "xcomet": 1})


def test_noising_deletes_then_swaps_adjacent_words_with_one_draw_each():
    # Deletion draws for a b c d e: c (0.1 < 0.15) is deleted. Then pairs of "a b d e":
    # (a,b) 0.2 < 0.3 swap and skip b; (d,e) 0.9 stays.
    rng = Draws([0.5, 0.9, 0.1, 0.4, 0.3, 0.2, 0.9])
    assert noise_translation("a b c d e", rng) == "b a d e"
    assert rng.values == []
    # Every word drawn for deletion: the first word is kept, and one word has no pair to swap.
    assert noise_translation("x y", Draws([0.0, 0.0])) == "x"
    assert noise_translation("", Draws([])) == ""


def test_noising_rates_match_the_probabilities_on_a_seeded_rng():
    rng = random.Random(11)
    words = [f"w{i}" for i in range(40)]
    kept = swapped = pairs = 0
    for _ in range(500):
        out = noise_translation(" ".join(words), rng).split()
        kept += len(out)
        order = [int(w[1:]) for w in out]
        swapped += sum(1 for a, b in zip(order, order[1:]) if a > b)
        pairs += len(out) - 1
    assert kept / (500 * 40) == pytest.approx(0.85, abs=0.01)
    # A swap happens at a pair with p 0.3, but a swapped pair blocks the next: 0.3 / 1.3 of pairs end swapped.
    assert swapped / pairs == pytest.approx(0.3 / 1.3, abs=0.01)
    assert noise_translation("a b c", random.Random(5)) == noise_translation("a b c", random.Random(5))


def test_zscores_and_fusion_on_hand_computed_values():
    assert zscores([1.0, 2.0, 3.0]) == pytest.approx([-math.sqrt(1.5), 0.0, math.sqrt(1.5)])
    assert zscores([4.0, 4.0]) == [0.0, 0.0]
    static, dynamic = [1.0, 2.0, 3.0], [-3.0, -1.0, -2.0]
    z = math.sqrt(1.5)
    assert fused_scores(static, dynamic, 0.0) == pytest.approx([-z, 0.0, z])
    assert fused_scores(static, dynamic, 1.0) == pytest.approx([-z, z, 0.0])
    assert fused_scores(static, dynamic, 0.25) == pytest.approx([-z, 0.25 * z, 0.75 * z])
    with pytest.raises(ValueError, match="alpha"):
        fused_scores(static, dynamic, 1.5)


def test_alpha_rises_linearly_over_training():
    assert [linear_schedule(t, 5, 0.1, 0.9) for t in range(5)] == pytest.approx([0.1, 0.3, 0.5, 0.7, 0.9])
    assert linear_schedule(9, 5, 0.1, 0.9) == pytest.approx(0.9) and linear_schedule(0, 1, 0.1, 0.9) == 0.9


def test_head_to_tail_pairs_best_with_worst_and_skips_ties():
    assert head_to_tail_pairs([0.5, 0.9, 0.1, 0.7, 0.3, 0.2]) == [(1, 2), (3, 5), (0, 4)]
    assert head_to_tail_pairs([0.5, 0.9, 0.1, 0.7, 0.3]) == [(1, 2), (3, 4)]  # the middle one is left alone
    # Ties rank the earlier candidate first; a pair of equal scores prefers nothing.
    assert head_to_tail_pairs([0.4, 0.4, 0.4, 0.1]) == [(0, 3)]
    assert head_to_tail_pairs([0.2]) == [] and head_to_tail_pairs([]) == []
