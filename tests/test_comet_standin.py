"""Stand-in COMET models: graded examples, encoder, training, relocatable output.

A tiny synthetic language pair is made here: random word sequences "translated"
word for word through a fixed substitution table. The models are far smaller
than the demo's (hidden 32, one layer, a few hundred steps) so the whole file
runs in well under a minute and a half on one thread.
"""

from __future__ import annotations

import json
import random
import shutil

import pandas as pd
import pytest
import torch
from scipy.stats import pearsonr

from algharb.demo.comet_encoder import build_encoder
from algharb.demo.comet_standin import split_heldout, train_standin
from algharb.demo.graded_examples import DEFAULT_CORRUPTION_WEIGHTS, graded_label, make_graded_examples, word_f1

torch.set_num_threads(1)

TINY_MODEL = {"batch_size": 16, "hidden_sizes": (64,), "threads": 1}


def synthetic_pairs(n: int, seed: int = 0, vocab: int = 150) -> list[tuple[str, str]]:
    """Random source sentences and their word-for-word substitution "translations"."""
    rng = random.Random(seed)

    def word(letters: str) -> str:
        return "".join(rng.choice(letters) for _ in range(rng.randint(3, 7)))

    source_words = sorted({word("abcdefghiklmnop") for _ in range(vocab)})
    table = {w: word("qrstuvwxyzšđ") for w in source_words}
    pairs = []
    for _ in range(n):
        sentence = rng.choices(source_words, k=rng.randint(4, 12))
        pairs.append((" ".join(sentence), " ".join(table[w] for w in sentence)))
    return pairs


@pytest.fixture(scope="module")
def pairs():
    return synthetic_pairs(400)


@pytest.fixture(scope="module")
def examples(pairs):
    return make_graded_examples(pairs, seed=3, n_examples=3000)


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory, pairs):
    texts = [text for pair in pairs for text in pair]
    return build_encoder(
        texts, tmp_path_factory.mktemp("enc") / "encoder", vocab_size=400, hidden_size=32, num_layers=1, seed=0
    )


@pytest.fixture(scope="module")
def qe_model(tmp_path_factory, examples, encoder_dir):
    out = tmp_path_factory.mktemp("qe") / "qe-model"
    summary = train_standin("qe", examples, encoder_dir, out, seed=0, max_steps=500, **TINY_MODEL)
    return out, summary


# ---------------------------------------------------------------- examples


def test_examples_have_the_documented_columns_and_range(examples):
    assert list(examples.columns) == ["src", "mt", "ref", "score", "corruption"]
    assert len(examples) == 3000
    assert examples["score"].between(0.0, 1.0).all()
    assert (examples["mt"].str.strip() != "").all()
    assert set(examples["corruption"]) <= set(DEFAULT_CORRUPTION_WEIGHTS)


def test_reference_scores_one_and_every_corruption_changes_the_text(examples):
    is_reference = examples["corruption"] == "reference"
    assert is_reference.any()
    assert (examples.loc[is_reference, "score"] == 1.0).all()
    assert (examples.loc[is_reference, "mt"] == examples.loc[is_reference, "ref"]).all()
    corrupted = examples[~is_reference & (examples["corruption"] != "copy")]
    assert (corrupted["mt"] != corrupted["ref"]).all()
    assert (corrupted["score"] < 1.0).all()


def test_omissions_score_below_the_reference_and_above_gross_failures(examples):
    mean = examples.groupby("corruption")["score"].mean()
    assert mean["omit_word"] > mean["omit_words"] > mean["unrelated"]
    gross = examples[examples["corruption"].isin(["copy", "unrelated", "random_words"])]
    mild = examples[~examples["corruption"].isin(["copy", "unrelated", "random_words"])]
    assert mean[["copy", "unrelated"]].max() < mean.drop(["copy", "unrelated", "random_words"]).min()
    assert gross["score"].quantile(0.95) < mild["score"].quantile(0.05)


def test_examples_are_deterministic_per_seed(pairs):
    first = make_graded_examples(pairs, seed=11, n_examples=200)
    again = make_graded_examples(pairs, seed=11, n_examples=200)
    other = make_graded_examples(pairs, seed=12, n_examples=200)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


def test_label_mixes_chrf_and_word_f1():
    reference = "the cat sat on the mat"
    assert graded_label(reference, reference) == pytest.approx(1.0)
    assert word_f1("the cat sat", reference) == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    # Hallucinated additions cost like omissions (standard chrF, beta=2, barely charges them).
    reference = "the committee approved the new budget on monday after a long debate"
    padded = reference + " xq zzv banana"
    omission = reference.replace(" long", "")
    assert graded_label(padded, reference) < graded_label(omission, reference)
    assert graded_label(padded, reference, chrf_weight=1.0, chrf_beta=2.0) > graded_label(
        omission, reference, chrf_weight=1.0, chrf_beta=2.0
    )
    # Unspaced scripts are compared per character.
    assert word_f1("猫坐在垫子", "猫坐在垫子上") > 0.8


def test_bad_example_arguments_name_the_argument(pairs):
    with pytest.raises(ValueError, match="pairs"):
        make_graded_examples([], seed=0, n_examples=10)
    with pytest.raises(ValueError, match=r"pairs\[1\]"):
        make_graded_examples([("a b", "c d"), ("only one",)], seed=0, n_examples=10)
    with pytest.raises(ValueError, match="n_examples"):
        make_graded_examples(pairs, seed=0, n_examples=0)
    with pytest.raises(ValueError, match="corruption_weights"):
        make_graded_examples(pairs, seed=0, n_examples=10, corruption_weights={"nonsense": 1.0})


def test_heldout_split_keeps_reference_groups_apart(examples):
    train, heldout = split_heldout(examples, 0.2, seed=0)
    assert len(train) + len(heldout) == len(examples)
    assert not set(train["ref"]) & set(heldout["ref"])


# ----------------------------------------------------------------- encoder


def test_encoder_folder_loads_offline_with_xlmr_special_ids(encoder_dir):
    from transformers import XLMRobertaConfig, XLMRobertaTokenizerFast

    tokenizer = XLMRobertaTokenizerFast.from_pretrained(encoder_dir, local_files_only=True)
    config = XLMRobertaConfig.from_pretrained(encoder_dir, local_files_only=True)
    assert (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (
        0,
        1,
        2,
        3,
    )
    assert config.vocab_size == len(tokenizer)
    assert (config.hidden_size, config.num_hidden_layers) == (32, 1)
    ids = tokenizer("abcd efgh")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2 and tokenizer.unk_token_id not in ids


def test_build_encoder_rejects_empty_texts(tmp_path):
    with pytest.raises(ValueError, match="texts"):
        build_encoder(["", "  "], tmp_path / "enc")
    assert not (tmp_path / "enc").exists()


# ----------------------------------------------------------------- training


def test_trained_qe_model_is_relocatable_and_correlates(qe_model, tmp_path, monkeypatch):
    from algharb.metrics.comet import CometScorer

    out, summary = qe_model
    assert json.loads((out / "validation.json").read_text()) == summary
    assert summary["kind"] == "qe" and summary["steps"] == 500
    assert summary["pearson"] > 0.45, summary

    # Copy the directory somewhere else and remove the original: the copy must
    # load offline with its own encoder folder.
    moved = tmp_path / "elsewhere" / "qe"
    shutil.copytree(out, moved)
    backup = out.with_name("qe-model.hidden")
    out.rename(backup)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    try:
        scorer = CometScorer(str(moved), batch_size=32, progress=False)
        heldout = pd.read_csv(moved / "data" / "heldout.csv")
        scores = scorer.score(heldout["src"].tolist(), heldout["mt"].tolist())
        assert scorer.model.hparams.pretrained_model == str((moved / "encoder").resolve())
    finally:
        backup.rename(out)
    assert not scorer.needs_reference
    assert len(scores) == len(heldout)
    assert pearsonr(scores, heldout["score"])[0] > 0.45


def test_comet_load_from_checkpoint_works_in_place(qe_model):
    from comet import load_from_checkpoint

    out, _ = qe_model
    model = load_from_checkpoint(str(out / "checkpoints" / "model.ckpt"), local_files_only=True)
    assert model.hparams.pretrained_model == str((out / "encoder").resolve())
    assert not model.requires_references()


def test_unified_model_trains_and_scores_with_and_without_references(tmp_path, examples, encoder_dir):
    from algharb.metrics.comet import CometScorer

    out = tmp_path / "unified"
    summary = train_standin("unified", examples, encoder_dir, out, seed=0, max_steps=20, **TINY_MODEL)
    assert summary["class_identifier"] == "unified_metric"
    scorer = CometScorer(str(out), progress=False)
    rows = examples.head(5)
    with_refs = scorer.score(rows["src"].tolist(), rows["mt"].tolist(), rows["ref"].tolist())
    without = scorer.score(rows["src"].tolist(), rows["mt"].tolist())
    assert not scorer.needs_reference and len(with_refs) == len(without) == 5
    assert with_refs != without


def test_train_standin_rejects_bad_arguments(tmp_path, examples, encoder_dir):
    with pytest.raises(ValueError, match="kind"):
        train_standin("kiwi", examples, encoder_dir, tmp_path / "m")
    with pytest.raises(FileNotFoundError, match="no-such-encoder"):
        train_standin("qe", examples, tmp_path / "no-such-encoder", tmp_path / "m")
    with pytest.raises(ValueError, match="score"):
        train_standin("qe", examples.drop(columns=["score"]), encoder_dir, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_training_is_reproducible_for_a_seed(tmp_path, examples, encoder_dir):
    runs = [
        train_standin("ref", examples, encoder_dir, tmp_path / name, seed=4, max_steps=30, **TINY_MODEL)
        for name in ("a", "b")
    ]
    assert {k: v for k, v in runs[0].items() if "second" not in k} == {
        k: v for k, v in runs[1].items() if "second" not in k
    }
    weights = [
        torch.load(tmp_path / name / "checkpoints" / "model.ckpt", weights_only=False)["state_dict"] for name in "ab"
    ]
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][key], weights[1][key]) for key in weights[0])
