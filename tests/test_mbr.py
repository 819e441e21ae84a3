import numpy as np
import pytest

from algharb.decode.config import MBRConfig
from algharb.decode.mbr import argmax_earliest, hybrid_score, mbr_scores, select_candidate, select_scored_row
from algharb.decode.utility import (
    UTILITIES,
    UtilityInputs,
    build_utility,
    expand_matrices,
    pairwise_matrices,
    unique_candidates,
)
from algharb.metrics.sacre import sentence_scores

MBR = MBRConfig()
MEAN = {"include_self": False, "aggregate": "mean"}


def sentence_chrf(srcs, hyps, refs):
    return sentence_scores("chrf", hyps, refs)


def exact_pairwise_mbr(candidates, utility, include_self=False):
    """Reference implementation: a plain double loop over the candidates."""
    scores = []
    for i, hyp in enumerate(candidates):
        values = [utility(hyp, ref) for j, ref in enumerate(candidates) if include_self or i != j]
        scores.append(sum(values) / len(values) if values else 0.0)
    return scores


def overlap(hyp, ref):
    h, r = set(hyp.split()), set(ref.split())
    return len(h & r) / max(1, len(h | r))


def test_mean_excludes_self_by_default():
    utility = np.array([[1.0, 0.2, 0.4], [0.2, 1.0, 0.6], [0.4, 0.6, 1.0]])
    assert mbr_scores(utility, **MEAN) == pytest.approx([0.3, 0.4, 0.5])
    assert mbr_scores(utility, include_self=True, aggregate="mean") == pytest.approx([1.6 / 3, 1.8 / 3, 2.0 / 3])
    assert mbr_scores(utility, include_self=False, aggregate="sum") == pytest.approx([0.6, 0.8, 1.0])


def test_hybrid_adds_lambda_times_alignment():
    mbr = np.array([0.5, 0.45])
    align = np.array([0.6, 0.9])
    assert hybrid_score(mbr, align, 0.5) == pytest.approx([0.8, 0.9])
    assert hybrid_score(mbr, None, 0.5) == pytest.approx(mbr)
    choice = select_candidate(np.array([[1, 0.5], [0.45, 1]]), align, 0.5, MBR)
    assert choice.index == 1
    assert select_candidate(np.array([[1, 0.5], [0.45, 1]]), align, 0.0, MBR).index == 0


def test_a_saved_row_selects_as_its_arrays_do():
    row = {"candidates": ["a", "b"], "utility": [[1, 0.5], [0.45, 1]], "align": [0.6, 0.9]}
    assert select_scored_row(row, 0.5, MBR) == select_candidate(np.array(row["utility"]), np.array(row["align"]),
                                                                0.5, MBR)
    assert select_scored_row({**row, "align": None}, 0.5, MBR).index == 0
    assert select_scored_row({"candidates": [], "utility": [], "align": None}, 0.5, MBR) is None


def test_ties_go_to_the_earliest_candidate():
    assert argmax_earliest(np.array([0.2, 0.7, 0.7])) == 1
    assert argmax_earliest(np.array([0.2, 0.7 - 1e-15, 0.7])) == 1  # float noise is a tie


def test_single_candidate_and_empty():
    assert mbr_scores(np.ones((1, 1)), **MEAN) == pytest.approx([0.0])
    assert select_candidate(np.ones((1, 1)), None, 0.5, MBR).index == 0
    assert mbr_scores(np.zeros((0, 0)), **MEAN).size == 0
    with pytest.raises(ValueError, match="empty"):
        argmax_earliest(np.array([]))


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="square"):
        mbr_scores(np.ones((2, 3)), **MEAN)
    with pytest.raises(ValueError, match="aggregate"):
        mbr_scores(np.ones((2, 2)), include_self=False, aggregate="median")
    with pytest.raises(ValueError, match="do not match"):
        hybrid_score(np.ones(2), np.ones(3), 0.5)


def test_unique_candidates_maps_back():
    distinct, inverse = unique_candidates(["a", "b", "a", "c", "b"])
    assert distinct == ["a", "b", "c"]
    assert inverse.tolist() == [0, 1, 0, 2, 1]
    (matrix,) = expand_matrices(np.array([1.0, 2.0, 3.0, 4.0]), [(2, np.array([0, 1, 0]))])
    assert matrix.tolist() == [[1, 2, 1], [3, 4, 3], [1, 2, 1]]


@pytest.mark.parametrize("seed", range(20))
def test_dedup_matrices_select_what_exact_pairwise_mbr_selects(seed):
    rng = np.random.default_rng(seed)
    vocab = ["a", "b", "c", "d", "e", "f"]
    candidates = [" ".join(rng.choice(vocab, size=rng.integers(1, 5))) for _ in range(12)]
    calls = []

    def utility(srcs, hyps, refs):
        calls.append(len(hyps))
        return [overlap(h, r) for h, r in zip(hyps, refs)]

    (matrix,) = pairwise_matrices(["src"], [candidates], utility)
    exact = exact_pairwise_mbr(candidates, overlap)
    assert mbr_scores(matrix, **MEAN) == pytest.approx(exact)
    best = max(exact)
    assert argmax_earliest(mbr_scores(matrix, **MEAN)) == next(i for i, v in enumerate(exact) if v >= best - 1e-12)
    assert calls == [len(set(candidates)) ** 2]  # each distinct pair scored once


def test_batched_matrices_across_sentences():
    pools = [["the cat", "the cat", "a dog"], ["x y z"]]
    matrices = pairwise_matrices(["s1", "s2"], pools, sentence_chrf)
    assert [m.shape for m in matrices] == [(3, 3), (1, 1)]
    assert matrices[0][0, 1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="2 sources but 1"):
        pairwise_matrices(["s1", "s2"], pools[:1], sentence_chrf)


def test_the_registry_builds_every_configured_utility():
    assert set(UTILITIES.names()) >= {"comet", "chrf", "bleu"}
    pools = [["the cat sat", "the cat sat", "a dog ran"], ["我爱你", "我爱她"], []]
    inputs = UtilityInputs(tgt_lang="zh", model=None, threads=1)
    chrf = build_utility(MBRConfig(utility="chrf"), inputs).matrices(["s1", "s2", "s3"], pools)
    for got, want in zip(chrf, pairwise_matrices(["s1", "s2", "s3"], pools, sentence_chrf)):
        np.testing.assert_array_equal(got, want)
    bleu = build_utility(MBRConfig(utility="bleu"), inputs).matrices(["s1", "s2", "s3"], pools)
    expected = pairwise_matrices(["s1", "s2", "s3"], pools,
                                 lambda s, h, r: sentence_scores("bleu", h, r, "zh"))
    assert [m.tolist() for m in bleu] == [m.tolist() for m in expected]
    assert bleu[0][0, 1] == pytest.approx(1.0) and bleu[2].shape == (0, 0)


def test_an_unknown_or_incomplete_utility_names_the_config_key():
    inputs = UtilityInputs(tgt_lang="de", model=None, threads=1)
    with pytest.raises(ValueError, match=r"decode\.mbr\.utility: unknown MBR utility 'meteor'.*chrf"):
        build_utility(MBRConfig(utility="meteor"), inputs)
    with pytest.raises(ValueError, match="needs models.utility"):
        build_utility(MBRConfig(utility="comet"), inputs)
