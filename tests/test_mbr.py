import numpy as np
import pytest

from algharb.decode.mbr import (
    hybrid_scores,
    hybrid_select,
    mbr_scores,
    select,
    unique_candidates,
    utility_matrices,
)
from algharb.metrics import triple_utility


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
    assert mbr_scores(utility) == pytest.approx([0.3, 0.4, 0.5])
    assert mbr_scores(utility, include_self=True) == pytest.approx([1.6 / 3, 1.8 / 3, 2.0 / 3])
    assert mbr_scores(utility, aggregate="sum") == pytest.approx([0.6, 0.8, 1.0])


def test_hybrid_adds_lambda_times_alignment():
    mbr = np.array([0.5, 0.45])
    align = np.array([0.6, 0.9])
    assert hybrid_scores(mbr, align, 0.5) == pytest.approx([0.8, 0.9])
    assert hybrid_scores(mbr, None, 0.5) == pytest.approx(mbr)
    choice = hybrid_select(np.array([[1, 0.5], [0.45, 1]]), align, 0.5)
    assert choice.index == 1
    assert hybrid_select(np.array([[1, 0.5], [0.45, 1]]), align, 0.0).index == 0


def test_ties_go_to_the_earliest_candidate():
    assert select(np.array([0.2, 0.7, 0.7])) == 1
    assert select(np.array([0.2, 0.7 - 1e-15, 0.7])) == 1  # float noise is a tie


def test_single_candidate_and_empty():
    assert mbr_scores(np.ones((1, 1))) == pytest.approx([0.0])
    assert hybrid_select(np.ones((1, 1)), None, 0.5).index == 0
    assert mbr_scores(np.zeros((0, 0))).size == 0
    with pytest.raises(ValueError, match="empty"):
        select(np.array([]))


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="square"):
        mbr_scores(np.ones((2, 3)))
    with pytest.raises(ValueError, match="aggregate"):
        mbr_scores(np.ones((2, 2)), aggregate="median")
    with pytest.raises(ValueError, match="do not match"):
        hybrid_scores(np.ones(2), np.ones(3), 0.5)


def test_unique_candidates_maps_back():
    distinct, inverse = unique_candidates(["a", "b", "a", "c", "b"])
    assert distinct == ["a", "b", "c"]
    assert inverse.tolist() == [0, 1, 0, 2, 1]


@pytest.mark.parametrize("seed", range(20))
def test_dedup_matrices_select_what_exact_pairwise_mbr_selects(seed):
    rng = np.random.default_rng(seed)
    vocab = ["a", "b", "c", "d", "e", "f"]
    candidates = [" ".join(rng.choice(vocab, size=rng.integers(1, 5))) for _ in range(12)]
    calls = []

    def utility(srcs, hyps, refs):
        calls.append(len(hyps))
        return [overlap(h, r) for h, r in zip(hyps, refs)]

    (matrix,) = utility_matrices(["src"], [candidates], utility)
    exact = exact_pairwise_mbr(candidates, overlap)
    assert mbr_scores(matrix) == pytest.approx(exact)
    best = max(exact)
    assert select(mbr_scores(matrix)) == next(i for i, v in enumerate(exact) if v >= best - 1e-12)
    assert calls == [len(set(candidates)) ** 2]  # each distinct pair scored once


def test_batched_matrices_across_sentences():
    utility = triple_utility("chrf")
    pools = [["the cat", "the cat", "a dog"], ["x y z"]]
    matrices = utility_matrices(["s1", "s2"], pools, utility)
    assert [m.shape for m in matrices] == [(3, 3), (1, 1)]
    assert matrices[0][0, 1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="2 sources but 1"):
        utility_matrices(["s1", "s2"], pools[:1], utility)
