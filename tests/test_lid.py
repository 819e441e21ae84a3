"""Tests for language ID (algharb.data.lid) and the demo's stand-in model (algharb.demo.lid) on three toy languages."""

import random

import fasttext
import numpy as np
import pytest

from algharb.config.sections import DemoLidConfig
from algharb.data.clean import apply_rule_filters
from algharb.data.ingest import ParallelCorpus
from algharb.data.lid import LANGUAGE_IDENTIFIERS, LanguageIdentifier, load_identifier
from algharb.demo.lid import _zero_filled_allocations, evaluate_lid, read_labelled, train_lid

# The demo's fastText settings (demo.lid in the config).
DEMO_LID = DemoLidConfig().to_dict()

VOCABULARY = {
    "en": "the house is big and we were going to see our friends today with some water when it rains".split(),
    "cs": "dům je velký a šli jsme dnes navštívit naše přátele s trochou vody když prší venku".split(),
    "ru": "дом большой и мы шли сегодня навестить наших друзей с небольшим количеством воды когда идёт дождь".split(),
}


def labelled_lines(per_language: int, seed: int) -> list[str]:
    """Random word salads per language, shuffled: perfectly separable toy data."""
    rng = random.Random(seed)
    lines = [
        f"__label__{lang} " + " ".join(rng.choice(words) for _ in range(rng.randint(3, 9)))
        for lang, words in VOCABULARY.items()
        for _ in range(per_language)
    ]
    rng.shuffle(lines)
    return lines


@pytest.fixture(scope="module")
def lid_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lid")
    (folder / "train.txt").write_text("\n".join(labelled_lines(200, seed=1)) + "\n", encoding="utf-8")
    (folder / "valid.txt").write_text("\n".join(labelled_lines(40, seed=2)) + "\n", encoding="utf-8")
    model = train_lid(folder / "train.txt", folder / "lid.bin", seed=3, bucket=20_000, **DEMO_LID)
    return folder, model


def test_trained_model_predicts_the_right_labels(lid_files):
    _, model = lid_files
    identifier = LanguageIdentifier(model)
    labels, probs = identifier.predict(["we were going to see the house", "šli jsme dnes venku", "мы шли домой"])
    assert labels == ["en", "cs", "ru"]
    assert probs.dtype == np.float32 and (probs <= 1).all()
    # Confident enough for a language_id filter's usual min_prob of 0.5.
    assert (probs > 0.8).all()


def test_evaluate_reports_accuracy_per_language(lid_files):
    folder, model = lid_files
    accuracy = evaluate_lid(model, folder / "valid.txt")
    assert set(accuracy) == {"en", "cs", "ru"}
    assert min(accuracy.values()) >= 0.95


def test_predict_strips_newlines_and_handles_empty_batches(lid_files):
    _, model = lid_files
    identifier = LanguageIdentifier(model)
    labels, _ = identifier.predict(["the house\nis big", "дом\r\nбольшой"])
    assert labels == ["en", "ru"]
    labels, probs = identifier.predict([])
    assert labels == [] and probs.size == 0


def test_same_seed_gives_the_same_model_every_time(lid_files, tmp_path):
    # Regression: fastText's unzeroed matrices made repeated in-process
    # training fail with NaN or differ between runs (see algharb.demo.lid).
    folder, model = lid_files
    for attempt in range(3):
        again = train_lid(folder / "train.txt", tmp_path / f"again{attempt}.bin", seed=3, bucket=20_000, **DEMO_LID)
        assert again.read_bytes() == model.read_bytes()


def test_default_fasttext_learning_rate_trains_without_nan(lid_files, tmp_path):
    folder, _ = lid_files
    model = train_lid(folder / "train.txt", tmp_path / "fast.bin", seed=0, **{**DEMO_LID, "epoch": 50, "lr": 0.1},
                      bucket=20_000)
    assert min(evaluate_lid(model, folder / "valid.txt").values()) >= 0.95


def test_missing_model_is_an_error_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.bin"):
        LanguageIdentifier(tmp_path / "missing.bin")


def test_unlabelled_training_line_names_file_and_line(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("__label__en hello\nno label here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"train\.txt:2"):
        train_lid(path, tmp_path / "m.bin", seed=0, **DEMO_LID)
    assert not (tmp_path / "m.bin").exists()


def test_read_labelled_rejects_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(ValueError, match="empty.txt"):
        read_labelled(path)


def test_language_id_filter_with_a_real_model_path(lid_files):
    _, model = lid_files
    corpus = ParallelCorpus.from_pairs(
        [
            ("the house is big", "dům je velký"),
            ("дом большой", "dům je velký"),
            ("we were going to see friends", "the house is big"),
        ]
    )
    config = {"filters": [{"language_id": {"model": str(model), "min_prob": 0.5}}]}
    decisions = apply_rule_filters(corpus, "en", "cs", config)
    assert decisions["reason"].tolist() == ["", "language_id:src", "language_id:tgt"]
    # The workflow's LID model entry (models.lid) takes precedence over the filter's own model path.
    config = {"filters": [{"language_id": {"model": "missing.bin", "min_prob": 0.5}}]}
    again = apply_rule_filters(corpus, "en", "cs", config, lid_model={"path": str(model)})
    assert again["reason"].tolist() == decisions["reason"].tolist()


# --- the registry: the one way an identifier is built ------------------------------------------


def test_identifiers_are_built_by_registry_name(lid_files):
    _, model = lid_files
    assert LANGUAGE_IDENTIFIERS.names() == ["fasttext"]
    assert isinstance(load_identifier("fasttext", {"path": str(model)}), LanguageIdentifier)
    with pytest.raises(ValueError, match=r"language_id\.identifier: unknown language identifier 'glotlid'; "
                                         "registered: fasttext"):
        load_identifier("glotlid", {"path": str(model)})
    with pytest.raises(FileNotFoundError, match="nowhere.bin"):
        load_identifier("fasttext", {"path": "nowhere.bin"})


def test_the_language_id_filter_builds_its_identifier_through_the_registry(monkeypatch, tmp_path):
    class Shouting:
        """A toy identifier: upper-case text is English."""

        HUB_FILENAME = "shouting.bin"

        def __init__(self, model_path):
            self.model_path = model_path

        def predict(self, texts):
            return ["en" if text.isupper() else "xx" for text in texts], np.ones(len(texts))

    monkeypatch.setitem(LANGUAGE_IDENTIFIERS._entries, "shouting", Shouting)
    (tmp_path / "shouting.bin").write_text("")
    corpus = ParallelCorpus.from_pairs([("HELLO", "HI"), ("hello", "HI")])
    config = {"filters": {"language_id": {"identifier": "shouting", "tgt_label": "en"}}}
    decisions = apply_rule_filters(corpus, "en", "cs", config, lid_model={"path": str(tmp_path / "shouting.bin")})
    assert decisions["reason"].tolist() == ["", "language_id:src"]
    with pytest.raises(ValueError, match="unknown language identifier 'unknown'"):
        apply_rule_filters(corpus, "en", "cs", {"filters": {"language_id": {"identifier": "unknown"}}},
                           lid_model={"path": str(tmp_path / "shouting.bin")})


# --- the batched computation against fastText's own predict -----------------------------

ODD_LINES = [
    "",
    " ",
    "  the house  ",
    "the\thouse\vis\fbig\rtoday",
    "the\nhouse",  # a newline inside a text is a space
    "a\x00b",  # fastText splits at NUL, Python's split does not
    "дом\u3000big\xa0x\x1cy",  # and these the other way round
    "__label__en the house",  # a label token is skipped
    "the house </s> дом большой",  # a literal </s> ends fastText's line
    "😀 Ünïcödé straße 日本語",
    "x" * 3000,
]


def random_lines(count, seed):
    rng = random.Random(seed)
    words = [word for vocabulary in VOCABULARY.values() for word in vocabulary] + ["zzqx", "2019", "Ölçü", "日本"]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(0, 12))) for _ in range(count)]


def test_batched_prediction_is_fasttexts(lid_files):
    _, model = lid_files
    identifier = LanguageIdentifier(model)
    assert identifier._batched is not None  # train_lid makes plain softmax models
    texts = random_lines(3000, seed=4) + ODD_LINES
    labels, probs = identifier.predict(texts)
    exact_labels, exact_probs = identifier._predict_fasttext(texts)
    assert labels == exact_labels
    # Only float rounding apart (EXACT_BAND leaves a margin of hundreds of times this).
    assert np.abs(probs.astype(float) - exact_probs.astype(float)).max() < 1e-6
    for label in ("en", "cs", "ru", "xx"):
        for min_prob in (0.0, 0.5, 0.9, 0.999):
            expected = np.array([found == label for found in exact_labels]) & (exact_probs.astype(float) >= min_prob)
            assert identifier.matches(texts, label, min_prob).tolist() == expected.tolist()


def test_decisions_near_the_threshold_are_fasttexts(lid_files):
    _, model = lid_files
    identifier = LanguageIdentifier(model)
    texts = random_lines(300, seed=5)
    _, exact_probs = identifier._predict_fasttext(texts)
    labels, _ = identifier._predict_fasttext(texts)
    # Thresholds exactly at fastText's probabilities: rounding would decide these.
    for i in range(0, 300, 30):
        at = float(exact_probs[i])
        assert identifier.matches(texts[i : i + 1], labels[i], at).tolist() == [True]
        assert identifier.matches(texts[i : i + 1], labels[i], np.nextafter(at, 2.0)).tolist() == [False]


def test_subword_ids_are_fasttexts(lid_files):
    _, model = lid_files
    identifier = LanguageIdentifier(model)
    rng = random.Random(6)
    tokens = ["house", "дом", "x", "日本語", "😀a", "Ünïcödé", "a-b.c", "velký"]
    tokens += ["".join(rng.choice("abcdеёжз日ßẞ😀-.") for _ in range(rng.randint(1, 12))) for _ in range(500)]
    codes = np.frombuffer("".join(tokens).encode("utf-32-le"), np.uint32).astype(np.intp)
    lengths = np.array([len(token) for token in tokens])
    starts = np.cumsum(lengths) - lengths
    owners, ids = identifier._batched._subword_ids(codes, starts, starts + lengths)
    for i, token in enumerate(tokens):
        own_id = [token in identifier._batched.word_ids]
        expected = identifier.model.f.getSubwords(token, "strict")[1][sum(own_id) :]  # without the word's own id
        assert sorted(ids[owners == i].tolist()) == sorted(expected), token


def test_full_token_cache_starts_over(lid_files, monkeypatch):
    _, model = lid_files
    monkeypatch.setattr("algharb.data.lid._MAX_CACHED_TOKENS", 200)
    identifier = LanguageIdentifier(model)
    rng = random.Random(7)
    # Every line brings new tokens: 400 lines, about 1,200 distinct tokens.
    texts = [line + " " + " ".join(f"w{rng.randrange(10**6)}" for _ in range(3)) for line in random_lines(400, seed=7)]
    for start in range(0, 400, 100):
        batch = texts[start : start + 100]
        assert identifier.predict(batch)[0] == identifier._predict_fasttext(batch)[0]
    assert identifier._batched.used <= 200 + 400  # the limit plus one batch's new tokens


def test_other_fasttext_models_run_through_fasttext(lid_files, tmp_path):
    folder, _ = lid_files
    with _zero_filled_allocations():
        hierarchical = fasttext.train_supervised(
            input=str(folder / "train.txt"), loss="hs", epoch=25, thread=1, seed=1, verbose=0
        )
    hierarchical.save_model(str(tmp_path / "hs.bin"))
    identifier = LanguageIdentifier(tmp_path / "hs.bin")
    assert identifier._batched is None
    labels, _ = identifier.predict(["we were going to see the house", "мы шли домой"])
    assert labels == ["en", "ru"]
    assert identifier.matches(["мы шли домой"], "ru", 0.5).tolist() == [True]
