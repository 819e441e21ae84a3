"""chrf_matrix against sacrebleu itself, and MBR with it against the sacrebleu N×N loop."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sacrebleu.metrics import CHRF

from algharb.decode.mbr import argmax_earliest, mbr_scores
from algharb.decode.utility import pairwise_matrices
from algharb.decode.utility.chrf import chrf_matrix
from algharb.metrics.sacre import sentence_scores

MEAN = {"include_self": False, "aggregate": "mean"}

# Scripts, emoji (incl. a ZWJ sequence's parts), combining marks, and the
# whitespace str.split() removes (NBSP, ideographic space, \x1c, \x85, ...).
ALPHABET = (
    list("abcdeABCDE.,!?'-") + list("абвгдёЖ") + list("中文字日本語") + list("مرحبا")
    + ["😀", "👍", "\u200d", "\u0301", "é"] + [" ", " ", "\t", "\n", "\u00a0", "\u3000", "\x1c", "\x85", "\u2009"]
)
SPECIAL = ["", " ", "\t \n", "a", "中", "😀", "abababababab", "aaaaaaaaaaaaaaaaaaaa", "a a a a", "ab" * 40,
           "Привет, мир!", "مرحبا بالعالم", "日本語のテキスト", "\ud800x"]


def random_text(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return rng.choice(SPECIAL)
    length = rng.choice([0, 1, 2, 3, 5, 8, 13, 30])
    if rng.random() < 0.3:  # repeated n-grams
        unit = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 3)))
        return (unit * length)[:length]
    return "".join(rng.choice(ALPHABET) for _ in range(length))


def sacrebleu_matrix(hyps, refs, **options) -> np.ndarray:
    metric = CHRF(**options)
    return np.array([[metric.sentence_score(h, [r]).score / 100 for r in refs] for h in hyps],
                    dtype=np.float64).reshape(len(hyps), len(refs))


def random_set(rng: random.Random, low: int = 1, high: int = 9) -> list[str]:
    texts = [random_text(rng) for _ in range(rng.randint(low, high))]
    if texts and rng.random() < 0.5:  # duplicates, as sampling produces them
        texts += rng.choices(texts, k=rng.randint(1, 3))
        rng.shuffle(texts)
    return texts


@pytest.mark.parametrize("seed", range(12))
def test_equals_sacrebleu_sentence_chrf(seed):
    rng = random.Random(seed)
    texts = random_set(rng, 1, 14)
    expected = sacrebleu_matrix(texts, texts)
    got = chrf_matrix(texts)
    assert got.shape == expected.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    # same operations in the same order: not just close, the same floats
    assert np.array_equal(got, expected)


OPTIONS = [
    {"eps_smoothing": True},
    {"word_order": 2},  # chrF++
    {"word_order": 2, "eps_smoothing": True},
    {"whitespace": True},
    {"lowercase": True},
    {"char_order": 3, "beta": 1},
    {"char_order": 0, "word_order": 2},
    {"char_order": 8, "beta": 3, "whitespace": True, "word_order": 1},
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_equals_sacrebleu_with_options(options):
    rng = random.Random(str(options))
    for _ in range(4):
        texts = random_set(rng, 1, 10)
        np.testing.assert_allclose(chrf_matrix(texts, **options), sacrebleu_matrix(texts, texts, **options),
                                   rtol=0, atol=1e-12)


def test_fallback_paths(monkeypatch):
    """Stable argsort, compacted rank columns and float64 products give the same scores."""
    import algharb.decode.utility.chrf as module

    rng = random.Random(5)
    sets = [random_set(rng, 2, 10) + ["abababababab", "aaaaaaaaaaaaaaaaaaaa"] for _ in range(3)]
    expected = [chrf_matrix(texts) for texts in sets]
    monkeypatch.setattr(module, "_PACK_BITS", 0)
    monkeypatch.setattr(module, "_RANK_SLACK", -10**9)
    monkeypatch.setattr(module, "_FLOAT32_EXACT", 0)
    for texts, before in zip(sets, expected):
        got = chrf_matrix(texts)
        np.testing.assert_array_equal(got, before)
        np.testing.assert_allclose(got, sacrebleu_matrix(texts, texts), rtol=0, atol=1e-12)
        np.testing.assert_array_equal(chrf_matrix(texts, texts[::-1]), sacrebleu_matrix(texts, texts[::-1]))


def test_against_other_references():
    rng = random.Random(7)
    for _ in range(6):
        hyps = random_set(rng, 0, 8)
        refs = random_set(rng, 0, 6) + hyps[:2]
        got = chrf_matrix(hyps, refs)
        assert got.shape == (len(hyps), len(refs))
        np.testing.assert_allclose(got, sacrebleu_matrix(hyps, refs), rtol=0, atol=1e-12)


def test_realistic_sentences():
    base = "Die Regierung hat heute einen neuen Bericht über die Lage der Wirtschaft veröffentlicht."
    words = base.split()
    rng = random.Random(3)
    candidates = [base]
    for _ in range(30):
        w = list(words)
        i = rng.randrange(len(w) - 1)
        w[i], w[i + 1] = w[i + 1], w[i]
        if rng.random() < 0.5:
            del w[rng.randrange(len(w))]
        candidates.append(" ".join(w))
    candidates += candidates[:5]
    np.testing.assert_array_equal(chrf_matrix(candidates), sacrebleu_matrix(candidates, candidates))


def test_edge_cases():
    assert chrf_matrix([]).shape == (0, 0)
    assert chrf_matrix(["abc"], []).shape == (1, 0)
    assert chrf_matrix([], ["abc"]).shape == (0, 1)
    assert chrf_matrix(["abc"]).tolist() == [[1.0]]
    assert chrf_matrix([""]).tolist() == [[0.0]]  # sacrebleu: no effective order, score 0
    assert chrf_matrix(["", " ", "\t"]).tolist() == [[0.0] * 3] * 3
    assert chrf_matrix(["a b", "ab"]).tolist() == [[1.0, 1.0], [1.0, 1.0]]  # whitespace is removed
    with pytest.raises(TypeError, match="strings"):
        chrf_matrix(["a", None])
    with pytest.raises(ValueError):
        chrf_matrix(["a"], char_order=0, word_order=0)


def exact_mbr_matrix(candidates: list[str]) -> np.ndarray:
    """The plain N×N loop over sacrebleu's sentence chrF, duplicates included."""
    return sacrebleu_matrix(candidates, candidates)


def sampled_candidates(rng: random.Random, n: int) -> list[str]:
    words = "der die das Haus Stadt und mit heute neuen Bericht дом город и с сегодня новый 家 城市".split()
    base = [rng.choice(words) for _ in range(rng.randint(2, 9))]
    pool = []
    for _ in range(max(1, n // 2)):
        w = list(base)
        for _ in range(rng.randint(0, 3)):
            op = rng.random()
            j = rng.randrange(len(w)) if w else 0
            if op < 0.4 and w:
                w[j] = rng.choice(words)
            elif op < 0.6 and len(w) > 1:
                del w[j]
            else:
                w.insert(j, rng.choice(words))
        pool.append(" ".join(w))
    pool += ["", base[0]]
    return [rng.choice(pool) for _ in range(n)]


@pytest.mark.parametrize("seed", range(15))
@pytest.mark.parametrize("include_self", [False, True])
def test_mbr_selects_what_the_sacrebleu_loop_selects(seed, include_self):
    rng = random.Random(seed)
    candidates = sampled_candidates(rng, rng.choice([1, 2, 3, 8, 20, 40]))
    fast = mbr_scores(chrf_matrix(candidates), include_self=include_self, aggregate="mean")
    exact = mbr_scores(exact_mbr_matrix(candidates), include_self=include_self, aggregate="mean")
    np.testing.assert_allclose(fast, exact, rtol=0, atol=1e-12)
    assert argmax_earliest(fast) == argmax_earliest(exact)
    for aggregate in ("mean", "sum"):
        assert argmax_earliest(mbr_scores(chrf_matrix(candidates), include_self, aggregate)) == \
            argmax_earliest(mbr_scores(exact_mbr_matrix(candidates), include_self, aggregate))


def test_agrees_with_the_pipeline_utility_matrices():
    rng = random.Random(11)
    lists = [sampled_candidates(rng, n) for n in (1, 5, 17, 30)]
    matrices = pairwise_matrices(["s"] * len(lists), lists, lambda s, h, r: sentence_scores("chrf", h, r))
    for candidates, matrix in zip(lists, matrices):
        np.testing.assert_array_equal(chrf_matrix(candidates), matrix)


def test_duplicates_tie_and_the_earliest_wins():
    candidates = ["völlig anders", "the cat sat", "the cat sat", "a cat sat", "the cat sat"]
    matrix = chrf_matrix(candidates)
    assert np.array_equal(matrix[1], matrix[2]) and np.array_equal(matrix[:, 1], matrix[:, 4])
    scores = mbr_scores(matrix, **MEAN)
    assert scores[1] == scores[2] == scores[4]
    assert argmax_earliest(scores) == 1
    assert argmax_earliest(mbr_scores(chrf_matrix(candidates), **MEAN)) == 1  # deterministic across calls


def test_one_and_zero_candidates():
    assert mbr_scores(chrf_matrix([]), **MEAN).size == 0
    assert argmax_earliest(mbr_scores(chrf_matrix(["only"]), **MEAN)) == 0
    assert argmax_earliest(mbr_scores(chrf_matrix([""]), **MEAN)) == 0
    assert argmax_earliest(mbr_scores(chrf_matrix(["", ""]), **MEAN)) == 0
    assert argmax_earliest(mbr_scores(chrf_matrix(["", "a b c", ""]), **MEAN)) == 0  # all zero: a tie, the earliest
    assert argmax_earliest(mbr_scores(chrf_matrix(["", "a b c", "a b c"]), **MEAN)) == 1
