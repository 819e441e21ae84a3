"""Stand-in COMET models: graded examples, encoder, training, relocatable output.

A tiny synthetic language pair is made here: random word sequences "translated"
word for word through a fixed substitution table. The models are far smaller
than the demo's (hidden 32, one layer, a few hundred steps) so the whole file
runs in well under a minute and a half on one thread.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import pandas as pd
import pytest
import torch
from scipy.stats import pearsonr

from conftest import substitution_pairs, tiny_comet_encoder

from algharb.demo.comet_encoder import build_encoder
from algharb.demo.comet_standin import split_heldout, train_standin
from algharb.demo.graded_examples import (
    DEFAULT_CORRUPTION_WEIGHTS,
    SEVERITIES,
    graded_label,
    make_graded_examples,
    word_f1,
)

torch.set_num_threads(1)

TINY_MODEL = {"batch_size": 16, "hidden_sizes": (64,), "threads": 1}


@pytest.fixture(scope="module")
def pairs():
    return substitution_pairs(400)


@pytest.fixture(scope="module")
def examples(pairs):
    return make_graded_examples(pairs, seed=3, n_examples=3000)


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory, pairs):
    return tiny_comet_encoder(pairs, tmp_path_factory.mktemp("enc"), seed=0)


@pytest.fixture(scope="module")
def qe_model(tmp_path_factory, examples, encoder_dir):
    out = tmp_path_factory.mktemp("qe") / "qe-model"
    summary = train_standin("qe", examples, encoder_dir, out, seed=0, max_steps=500, **TINY_MODEL)
    return out, summary


# ---------------------------------------------------------------- examples


def test_examples_have_the_documented_columns_and_range(examples):
    assert list(examples.columns) == ["src", "mt", "ref", "score", "corruption", "annotations"]
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


def test_annotations_leave_the_other_columns_as_they_were(examples):
    """The columns the other stand-ins train on are those made before annotations existed.

    The digest is of ``make_graded_examples(substitution_pairs(400), seed=3, n_examples=3000)``
    as the implementation without annotations wrote it (scores rounded to 12 digits).
    """
    old_columns = examples.assign(score=examples["score"].round(12))[["src", "mt", "ref", "score", "corruption"]]
    digest = hashlib.sha256(old_columns.to_csv(index=False).encode()).hexdigest()
    assert digest == "4a548661515dc7e4c42f8ee9d0825a50bfd2d767388c06c6779b7308a909e4d0"


def _spans(row) -> list[dict]:
    return json.loads(row["annotations"])


def _marked_word_positions(text: str, spans: list[dict]) -> set[int]:
    """Indices of the words of ``text`` (split on spaces) that lie inside a span."""
    positions, start = set(), 0
    for index, word in enumerate(text.split(" ")):
        if any(span["start"] <= start and start + len(word) <= span["end"] for span in spans):
            positions.add(index)
        start += len(word) + 1
    return positions


def test_annotations_are_well_formed_spans_of_the_candidate(examples):
    for _, row in examples.iterrows():
        spans = _spans(row)
        for span in spans:
            assert 0 <= span["start"] < span["end"] <= len(row["mt"]), (row["mt"], span)
            assert span["severity"] in SEVERITIES
            # Spans start and end on word boundaries.
            assert span["start"] == 0 or row["mt"][span["start"] - 1] == " ", (row["mt"], span)
            assert span["end"] == len(row["mt"]) or row["mt"][span["end"]] == " ", (row["mt"], span)
        assert all(a["end"] < b["start"] for a, b in zip(spans, spans[1:])), spans


def test_annotations_mark_what_each_corruption_changed(examples):
    by_kind = {kind: group for kind, group in examples.groupby("corruption")}
    # Nothing to mark in the reference; an omission has no place in the candidate.
    for kind in ("reference", "omit_word", "omit_words", "truncate"):
        assert (by_kind[kind]["annotations"] == "[]").all(), kind
    # Copies, unrelated sentences and random words are wrong as a whole.
    for kind in ("copy", "unrelated", "random_words"):
        for _, row in by_kind[kind].iterrows():
            assert _spans(row) == [{"start": 0, "end": len(row["mt"]), "severity": "critical"}]
    # Substituted words and endings: the marked words are exactly the changed ones.
    for kind, severity in (("wrong_word", "major"), ("wrong_suffix", "minor")):
        for _, row in by_kind[kind].iterrows():
            mt_words, ref_words = row["mt"].split(" "), row["ref"].split(" ")
            changed = {i for i, (m, r) in enumerate(zip(mt_words, ref_words)) if m != r}
            assert changed and _marked_word_positions(row["mt"], _spans(row)) == changed, row.to_dict()
            assert {span["severity"] for span in _spans(row)} == {severity}
    # Insertions: cutting the marked text out gives the reference back.
    for kind in ("garbage", "repeat"):
        for _, row in by_kind[kind].iterrows():
            kept, position = [], 0
            for span in _spans(row):
                kept.append(row["mt"][position : span["start"]])
                position = span["end"]
            kept.append(row["mt"][position:])
            assert " ".join("".join(kept).split()) == row["ref"], row.to_dict()
    # A shuffle marks words that moved, as minor.
    for _, row in by_kind["shuffle"].iterrows():
        mt_words, ref_words = row["mt"].split(" "), row["ref"].split(" ")
        assert sorted(mt_words) == sorted(ref_words)
        moved = {i for i, (m, r) in enumerate(zip(mt_words, ref_words)) if m != r}
        assert _marked_word_positions(row["mt"], _spans(row)) == moved
        assert {span["severity"] for span in _spans(row)} <= {"minor"}
    # Chained edits mark something unless both only dropped words.
    combined = by_kind["combined"]
    assert (combined["annotations"] != "[]").mean() > 0.5


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
    with pytest.raises(ValueError, match="annotations for the word-level tags"):
        train_standin("unified", examples.drop(columns=["annotations"]), encoder_dir, tmp_path / "m")
    outside = examples.copy()
    too_long = [{"start": 0, "end": len(outside.loc[2, "mt"]) + 1, "severity": "major"}]
    outside.loc[2, "annotations"] = json.dumps(too_long)
    with pytest.raises(ValueError, match=r"examples row 2: bad span"):
        train_standin("unified", outside, encoder_dir, tmp_path / "m")
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
