import random

import pytest

from algharb.decode.align import (
    EflomalAligner,
    alignment_tokens,
    coverage,
    parse_links,
    symmetrize,
)


def test_tokens_split_cjk_into_characters_and_punctuation_off():
    assert alignment_tokens("我爱北京。") == ["我", "爱", "北", "京", "。"]
    assert alignment_tokens("日本語のテキスト") == list("日本語のテキスト")
    assert alignment_tokens("Hello, world!") == ["hello", ",", "world", "!"]
    assert alignment_tokens("Привет, мир") == ["привет", ",", "мир"]


def test_coverage_formula_ignores_punctuation():
    src = ["a", "b", "c", "d", "."]
    tgt = ["x", "y", "."]
    links = {(0, 0), (1, 1)}
    # (2/4 + 2/2) / 2
    assert coverage(links, src, tgt) == pytest.approx(0.75)
    assert coverage(set(), [], tgt) == 0.0


def test_symmetrize_and_parse():
    fwd, rev = parse_links("0-0 1-1 2-1"), parse_links("0-0 1-1")
    assert symmetrize(fwd, rev) == {(0, 0), (1, 1)}
    assert symmetrize(fwd, rev, "union") == {(0, 0), (1, 1), (2, 1)}
    with pytest.raises(ValueError):
        symmetrize(fwd, rev, "grow")


def toy_corpus(n, seed=0):
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(60)]
    src, tgt = [], []
    for _ in range(n):
        words = rng.sample(vocab, rng.randint(4, 9))
        src.append(" ".join(words))
        tgt.append(" ".join("t" + w[1:] for w in reversed(words)))
    return src, tgt


def test_eflomal_penalises_omissions():
    src, tgt = toy_corpus(1500)
    aligner = EflomalAligner(src[:1400], tgt[:1400], seed=1)
    full, omitted, unrelated = [], [], []
    for s, t in zip(src[1400:1420], tgt[1400:1420]):
        words = t.split()
        full.append((s, t))
        omitted.append((s, " ".join(words[: len(words) // 2])))
        unrelated.append((s, tgt[0]))
    scores = {name: aligner.score([s for s, _ in rows], [h for _, h in rows])
              for name, rows in [("full", full), ("omitted", omitted), ("unrelated", unrelated)]}
    mean = {k: sum(v) / len(v) for k, v in scores.items()}
    assert mean["full"] > 0.9
    assert mean["omitted"] < mean["full"] - 0.15
    assert mean["unrelated"] < mean["omitted"]


def test_empty_hypothesis_scores_zero_and_lengths_checked():
    src, tgt = toy_corpus(200)
    aligner = EflomalAligner(src, tgt)
    assert aligner.score([src[0], src[1]], ["", tgt[1]])[0] == 0.0
    with pytest.raises(ValueError, match="2 sources but 1"):
        aligner.score(src[:2], tgt[:1])
    with pytest.raises(ValueError, match="reference corpus"):
        EflomalAligner(src[:3], tgt[:2])
