"""MBR utility matrices from reused COMET sentence embeddings (algharb.decode.utility.comet).

A tiny reference-based stand-in (RegressionMetric on a 2-layer, hidden-32
XLM-R encoder, briefly trained so that scores spread) is built offline with
the demo helpers; every matrix entry must equal what ``CometScorer.score``
returns for the same (source, hypothesis, pseudo-reference) triple.
"""

from __future__ import annotations

import logging
import random

import numpy as np
import pytest
import torch

from algharb.decode.config import MBRConfig
from algharb.decode.mbr import select_candidate
from algharb.decode.utility import UtilityInputs, build_utility, pairwise_matrices
from algharb.decode.utility import comet as utility_comet
from algharb.decode.utility.comet import UnsupportedCometModel, sentence_embeddings
from algharb.demo.comet_encoder import build_encoder
from algharb.demo.comet_standin import train_standin
from algharb.demo.graded_examples import make_graded_examples
from algharb.metrics.comet import CometScorer, load_comet_model

torch.set_num_threads(1)

# fp32 CPU: the two paths differ only in summation order and padding width (~1e-7).
TOLERANCE = 1e-5
MBR = MBRConfig()


def comet_utility_matrices(model, sources, lists, **options):
    """The factorised matrices with ``decode.mbr``'s defaults unless ``options`` override them."""
    settings = {"batch_size": MBR.batch_size, "precision": MBR.precision, **options}
    return utility_comet.comet_utility_matrices(model, sources, lists, **settings)

# Target "languages" in different scripts, so the tokenizer sees more than Latin.
ALPHABETS = {
    "latin": "abcdeghiklmnoprstuvz",
    "cyrillic": "абвгдежзиклмнопрсту",
    "greek": "αβγδεζηθικλμνξοπρστ",
    "arabic": "ابتثجحخدذرزسشصضطظع",
    "cjk": "的一是不了人我在有他这中大来上国个到说们",
}


def multilingual_pairs(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """Latin "sources" and word-for-word "translations" into one of several scripts."""
    rng = random.Random(seed)

    def word(letters: str) -> str:
        return "".join(rng.choice(letters) for _ in range(rng.randint(2, 6)))

    lexicon = {word(ALPHABETS["latin"]): {lang: word(a) for lang, a in ALPHABETS.items()} for _ in range(120)}
    words = sorted(lexicon)
    pairs = []
    for index in range(n):
        lang = sorted(ALPHABETS)[index % len(ALPHABETS)]
        sentence = rng.choices(words, k=rng.randint(3, 10))
        joiner = "" if lang == "cjk" else " "
        pairs.append((" ".join(sentence), joiner.join(lexicon[w][lang] for w in sentence)))
    return pairs


@pytest.fixture(scope="module")
def pairs():
    return multilingual_pairs(250)


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory, pairs):
    texts = [text for pair in pairs for text in pair]
    return build_encoder(
        texts, tmp_path_factory.mktemp("enc") / "encoder", vocab_size=600, hidden_size=32, num_layers=2, seed=3
    )


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, pairs, encoder_dir):
    out = tmp_path_factory.mktemp("ref") / "ref-model"
    examples = make_graded_examples(pairs, seed=1, n_examples=400)
    train_standin("ref", examples, encoder_dir, out, seed=0, max_steps=30, batch_size=16, hidden_sizes=(64,))
    return out


@pytest.fixture(scope="module")
def model(model_dir):
    return load_comet_model(str(model_dir))


@pytest.fixture(scope="module")
def scorer(model_dir):
    return CometScorer(str(model_dir), batch_size=16, progress=False)


@pytest.fixture(scope="module")
def expected(scorer, pairs):
    """Pairwise matrices per seed of :func:`candidate_sets`, computed once (comet's predict is the slow part)."""
    cache: dict[int, list[np.ndarray]] = {}

    def matrices(seed: int) -> list[np.ndarray]:
        if seed not in cache:
            cache[seed] = every_triple_matrices(scorer, *candidate_sets(pairs, seed))
        return cache[seed]

    return matrices


def candidate_sets(pairs, seed: int) -> tuple[list[str], list[list[str]]]:
    """Sources with N = 0, 1, 2, 7 candidates: duplicates, 1 to ~40 words, one over the encoder's 510 tokens."""
    rng = random.Random(seed)
    targets = [tgt for _, tgt in pairs]

    def candidate() -> str:
        text = rng.choice(targets)
        return text if rng.random() < 0.7 else " ".join(rng.choices(targets, k=rng.randint(2, 4)))

    sources, lists = [], []
    for n in (0, 1, 2, 7, 7):
        sources.append(rng.choice(pairs)[0])
        cands = [candidate() for _ in range(n)]
        if n >= 2:
            cands[-1] = cands[0]  # duplicates are common among sampled candidates
        lists.append(cands)
    lists[3][2] = rng.choice(targets)[:1]  # a one-character candidate
    lists[4][3] = " ".join(rng.choices(targets, k=120))  # truncated at the encoder's maximum length
    sources.append(sources[3])  # the same source twice in one batch
    lists.append(list(reversed(lists[3])))
    return sources, lists


def every_triple_matrices(scorer, sources, lists) -> list[np.ndarray]:
    """Every (i, j) triple of every source through CometScorer.score (comet's predict), no dedup."""
    srcs, hyps, refs = [], [], []
    for source, cands in zip(sources, lists):
        for hyp in cands:
            for ref in cands:
                srcs.append(source)
                hyps.append(hyp)
                refs.append(ref)
    flat = np.asarray(scorer.score(srcs, hyps, refs), dtype=np.float64)
    matrices, offset = [], 0
    for cands in lists:
        n = len(cands)
        matrices.append(flat[offset : offset + n * n].reshape(n, n))
        offset += n * n
    return matrices


@pytest.mark.parametrize("factorised", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_matrices_equal_comets_own_scores_for_every_triple(model, expected, pairs, seed, factorised):
    sources, lists = candidate_sets(pairs, seed)
    ours = comet_utility_matrices(model, sources, lists, batch_size=4, pair_batch_size=10, factorised=factorised)
    assert [m.shape for m in ours] == [(len(c), len(c)) for c in lists]
    for got, want in zip(ours, expected(seed)):
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE)
    assert np.std(np.concatenate([m.ravel() for m in expected(seed)])) > 0.05  # the check is not vacuous


def test_long_candidate_is_truncated_as_comet_truncates(model, pairs):
    long_text = candidate_sets(pairs, 0)[1][4][3]
    assert len(model.encoder.tokenizer(long_text)["input_ids"]) > model.encoder.max_positions
    assert model.encoder.prepare_sample([long_text])["input_ids"].shape[1] == model.encoder.max_positions - 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mbr_selects_what_pairwise_scoring_selects(model, scorer, pairs, seed):
    sources, lists = candidate_sets(pairs, seed)
    ours = comet_utility_matrices(model, sources, lists)
    pairwise = pairwise_matrices(sources, lists, scorer.score)  # the exact path
    for got, want in zip(ours, pairwise):
        if len(got) == 0:
            continue
        mine, theirs = select_candidate(got, None, 0.0, MBR), select_candidate(want, None, 0.0, MBR)
        assert mine.index == theirs.index
        np.testing.assert_allclose(mine.mbr, theirs.mbr, atol=TOLERANCE)


def test_duplicates_get_identical_rows_and_columns(model, pairs):
    sources, lists = candidate_sets(pairs, 0)
    matrix = comet_utility_matrices(model, sources[3:4], lists[3:4])[0]
    assert lists[3][0] == lists[3][-1]
    np.testing.assert_array_equal(matrix[0], matrix[-1])
    np.testing.assert_array_equal(matrix[:, 0], matrix[:, -1])


def test_empty_inputs_need_no_encoding(model):
    assert comet_utility_matrices(model, [], []) == []
    (only,) = comet_utility_matrices(model, ["a source"], [[]])
    assert only.shape == (0, 0)
    assert sentence_embeddings(model, [], batch_size=8, precision=None).shape == (0, model.encoder.output_units)


def test_bf16_autocast_stays_close_to_fp32(model, pairs):
    sources, lists = candidate_sets(pairs, 0)
    fp32 = comet_utility_matrices(model, sources, lists, precision="fp32")
    bf16 = comet_utility_matrices(model, sources, lists, precision="bf16")
    for a, b in zip(fp32, bf16):
        np.testing.assert_allclose(a, b, atol=0.05)


def test_factorised_estimator_falls_back_when_it_disagrees(model, expected, pairs, monkeypatch, caplog):
    original = utility_comet._FactorisedEstimator.__call__
    monkeypatch.setattr(utility_comet._FactorisedEstimator, "__call__", lambda self, r, f: original(self, r, f) + 1.0)
    sources, lists = candidate_sets(pairs, 0)
    with caplog.at_level(logging.WARNING, logger=utility_comet.__name__):
        ours = comet_utility_matrices(model, sources, lists)
    assert "using model.estimate" in caplog.text
    for got, want in zip(ours, expected(0)):
        np.testing.assert_allclose(got, want, atol=TOLERANCE)


def test_bad_arguments_are_rejected(model):
    with pytest.raises(ValueError, match="2 sources but 1 candidate lists"):
        comet_utility_matrices(model, ["a", "b"], [["x"]])
    with pytest.raises(ValueError, match="must hold strings"):
        comet_utility_matrices(model, ["a"], [["x", None]])
    with pytest.raises(ValueError, match="list of lists of strings"):
        comet_utility_matrices(model, ["a"], ["candidate"])
    with pytest.raises(ValueError, match="precision"):
        comet_utility_matrices(model, ["a"], [["x"]], precision="int8")
    with pytest.raises(ValueError, match="batch_size"):
        comet_utility_matrices(model, ["a"], [["x"]], batch_size=0)


def _unsupported_models(encoder_dir):
    from comet.models import RankingMetric, ReferencelessRegression, UnifiedMetric, XCOMETMetric

    common = {"pretrained_model": str(encoder_dir), "local_files_only": True}
    small = {"hidden_sizes": [16], "layer_transformation": "softmax"}
    return {
        "ReferencelessRegression": (ReferencelessRegression(**common, **small), "reference-free"),
        "UnifiedMetric": (UnifiedMetric(**common, **small, word_layer=1), "pairwise scoring"),
        "XCOMETMetric": (XCOMETMetric(**common, **small, encoder_model="XLM-RoBERTa", word_layer=1), "pairwise"),
        "RankingMetric": (RankingMetric(**common), "RegressionMetric"),
    }


def test_unsupported_model_classes_raise_a_clear_error(encoder_dir):
    for name, (unsupported, hint) in _unsupported_models(encoder_dir).items():
        with pytest.raises(UnsupportedCometModel, match=f"{name}.*{hint}"):
            comet_utility_matrices(unsupported, ["src"], [["a", "b"]])
        with pytest.raises(ValueError):  # callers may catch plain ValueError
            utility_comet.check_supported(unsupported)


def test_the_decoding_step_uses_the_factorised_utility(model_dir, scorer, pairs, tmp_path):
    from algharb.decode.config import AlignConfig
    from algharb.io import read_jsonl, write_jsonl
    from algharb.steps.decode import candidate_scores_file

    sources, lists = candidate_sets(pairs, seed=5)
    write_jsonl(tmp_path / "c.jsonl", [{"id": i, "src": s, "candidates": c} for i, (s, c) in
                                        enumerate(zip(sources, lists))])
    candidate_scores_file(tmp_path / "c.jsonl", tmp_path / "s.jsonl", "de", {"path": str(model_dir)},
                          MBRConfig(utility="comet"), AlignConfig(backend="none"))
    saved = [np.asarray(row["utility"], dtype=float).reshape(len(row["candidates"]), len(row["candidates"]))
             for row in read_jsonl(tmp_path / "s.jsonl")]
    for got, want in zip(saved, every_triple_matrices(scorer, sources, lists)):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_the_registered_utility_is_factorised_or_falls_back_to_pairwise(model_dir, encoder_dir, scorer, pairs,
                                                                        monkeypatch, caplog):
    sources, lists = candidate_sets(pairs, 0)
    utility = build_utility(MBR, UtilityInputs(tgt_lang="de", model={"path": str(model_dir)}, threads=1))
    monkeypatch.setattr(utility_comet.CometUtility, "sentences_per_batch", 2)  # several factorised calls
    factorised = utility.matrices(sources, lists)
    for got, want in zip(factorised, pairwise_matrices(sources, lists, scorer.score)):
        np.testing.assert_allclose(got, want, atol=TOLERANCE)
    unsupported, _ = _unsupported_models(encoder_dir)["UnifiedMetric"]
    monkeypatch.setattr(utility.scorer, "_model", unsupported)
    calls = []
    monkeypatch.setattr(utility.scorer, "score", lambda s, h, r: calls.append(len(h)) or [0.5] * len(h))
    with caplog.at_level(logging.WARNING, logger=utility_comet.__name__):
        fallback = utility.matrices(sources[:4], lists[:4])
    assert "scoring every candidate pair with the full model" in caplog.text
    assert calls == [sum(len(set(c)) ** 2 for c in lists[:4])] and fallback[3].shape == (7, 7)
