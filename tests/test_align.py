import random

import pytest

from algharb.decode.align import ALIGNERS, AlignerInputs, build_aligner
from algharb.decode.align.base import NoAligner, alignment_tokens, coverage
from algharb.decode.align.eflomal import EflomalAligner, parse_links, symmetrize
from algharb.decode.config import AlignConfig
from algharb.io import write_jsonl


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
    assert symmetrize(fwd, rev, "intersection") == {(0, 0), (1, 1)}
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
    aligner = EflomalAligner(AlignConfig(), src[:1400], tgt[:1400])
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


def noisy_candidates(src, tgt, seed=1):
    """Half-scrambled hypotheses: ambiguous enough that an unseeded sampler varies between runs."""
    rng = random.Random(seed)
    hyps = []
    for t in tgt:
        words = t.split()
        rng.shuffle(words)
        hyps.append(" ".join(words[: rng.randint(1, len(words))]))
    return src, hyps


def test_eflomal_with_a_seed_is_reproducible_and_seed_dependent():
    src, tgt = toy_corpus(400)
    cand_src, cand_hyp = noisy_candidates(src[300:], tgt[300:])
    runs = [EflomalAligner(AlignConfig(seed=seed), src[:300], tgt[:300]).score(cand_src, cand_hyp)
            for seed in (7, 7, 8)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_eflomal_seed_leaves_the_environment_as_it_was(monkeypatch, tmp_path):
    import os

    from algharb.decode.align.eflomal import seeded_eflomal

    monkeypatch.setenv("LD_PRELOAD", "")
    monkeypatch.delenv("ALGHARB_SEED_BYTES", raising=False)
    before = dict(os.environ)
    with seeded_eflomal(3, tmp_path):
        assert os.environ["OMP_NUM_THREADS"] == "1" and "eflomal_seed" in os.environ["LD_PRELOAD"]
    assert dict(os.environ) == before


def test_empty_hypothesis_scores_zero_and_lengths_checked():
    src, tgt = toy_corpus(200)
    aligner = EflomalAligner(AlignConfig(), src, tgt)
    assert aligner.score([src[0], src[1]], ["", tgt[1]])[0] == 0.0
    with pytest.raises(ValueError, match="2 sources but 1"):
        aligner.score(src[:2], tgt[:1])
    with pytest.raises(ValueError, match="reference corpus"):
        EflomalAligner(AlignConfig(), src[:3], tgt[:2])


def test_wspalign_word_spans_and_marked_queries():
    from algharb.decode.align.wspalign import marked_queries, word_spans

    text = "I like 猫。"
    spans = word_spans(text)
    assert [text[a:b] for a, b in spans] == ["I", "like", "猫", "。"]
    assert marked_queries(text, spans)[1] == "I  ¶ like ¶  猫。"


def test_wspalign_bidirectional_rule():
    from algharb.decode.align.wspalign import merge_directions

    src_spans = [(0, 1), (2, 6)]          # "I like"
    tgt_spans = [(0, 1), (1, 2), (2, 3)]  # three characters
    forward = [{"start": 0, "end": 1, "score": 0.9},   # I -> t0
               {"start": 1, "end": 3, "score": 0.3}]   # like -> t1, t2 (0.15 each)
    backward = [{"start": 0, "end": 1, "score": 0.8},  # t0 -> I (adds)
                {"start": 2, "end": 6, "score": 0.02},  # t1 -> like (0.15 + 0.02)
                {"start": 0, "end": 1, "score": 0.9}]  # t2 -> I: not proposed forward, ignored
    links = merge_directions(forward, backward, src_spans, tgt_spans, threshold=0.16)
    assert links == {(0, 0), (1, 1)}


def test_wspalign_runs_a_question_answering_checkpoint(tmp_path):
    """The mechanics with a tiny random QA model (alignments are meaningless, scores well-formed)."""
    from transformers import AutoConfig, AutoModelForQuestionAnswering

    from algharb.decode.align.wspalign import WSPAlignAligner
    from algharb.demo.comet_encoder import build_encoder

    src, tgt = toy_corpus(200)
    model_dir = build_encoder(src + tgt, tmp_path / "qa", vocab_size=300, hidden_size=32, num_layers=1, seed=0)
    AutoModelForQuestionAnswering.from_config(AutoConfig.from_pretrained(model_dir)).save_pretrained(model_dir)
    aligner = WSPAlignAligner(str(model_dir), AlignConfig(batch_size=8), device=-1)
    scores = aligner.score(src[:3] + [src[3]], tgt[:3] + [""])
    assert len(scores) == 4 and all(0.0 <= s <= 1.0 for s in scores) and scores[3] == 0.0


def test_the_registry_builds_each_backend_from_its_section(tmp_path):
    assert ALIGNERS.names() == ["none", "eflomal", "wspalign"]
    src, tgt = toy_corpus(300)
    write_jsonl(tmp_path / "clean.jsonl", [{"src": s, "tgt": t} for s, t in zip(src, tgt)])
    inputs = AlignerInputs(tgt_lang="qaa", reference_path=str(tmp_path / "clean.jsonl"))
    assert isinstance(build_aligner(AlignConfig(), inputs), NoAligner)
    assert build_aligner(AlignConfig(), inputs).score(["a"], ["b"]) is None
    aligner = build_aligner(AlignConfig(backend="eflomal", symmetrize="union", reference_pairs=120, seed=5), inputs)
    assert isinstance(aligner, EflomalAligner)
    assert len(aligner.reference) == 120 and aligner.symmetrize_mode == "union" and aligner.seed == 5
    direct = EflomalAligner(AlignConfig(symmetrize="union", seed=5), src[:120], tgt[:120])
    assert aligner.score(src[200:210], tgt[200:210]) == direct.score(src[200:210], tgt[200:210])
    assert build_aligner(AlignConfig(backend="eflomal"), AlignerInputs("qaa", None)).reference == []
    with pytest.raises(ValueError, match="decode.align.model is required"):
        build_aligner(AlignConfig(backend="wspalign"), inputs)
    with pytest.raises(ValueError, match=r"decode\.align\.backend: unknown aligner 'giza'; "
                                         r"registered: none, eflomal, wspalign"):
        build_aligner(AlignConfig(backend="giza"), inputs)
