"""Tests for algharb.demo.lid on a tiny synthetic three-language set."""

import random

import numpy as np
import pytest

from algharb.data.clean import apply_rule_filters
from algharb.data.ingest import ParallelCorpus
from algharb.demo.lid import LanguageIdentifier, evaluate_lid, read_labelled, train_lid

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
    model = train_lid(folder / "train.txt", folder / "lid.bin", seed=3, bucket=20_000)
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
        again = train_lid(folder / "train.txt", tmp_path / f"again{attempt}.bin", seed=3, bucket=20_000)
        assert again.read_bytes() == model.read_bytes()


def test_default_fasttext_learning_rate_trains_without_nan(lid_files, tmp_path):
    folder, _ = lid_files
    model = train_lid(folder / "train.txt", tmp_path / "fast.bin", seed=0, epoch=50, lr=0.1, bucket=20_000)
    assert min(evaluate_lid(model, folder / "valid.txt").values()) >= 0.95


def test_missing_model_is_an_error_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.bin"):
        LanguageIdentifier(tmp_path / "missing.bin")


def test_unlabelled_training_line_names_file_and_line(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("__label__en hello\nno label here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"train\.txt:2"):
        train_lid(path, tmp_path / "m.bin", seed=0)
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
