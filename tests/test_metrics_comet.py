"""The COMET backend: model resolution, input checks, offline loading, scoring.

Two tiny stand-in models (QE and reference-based) are trained here on a
synthetic word-substitution language pair, so everything runs offline in
seconds on one thread.
"""

from __future__ import annotations

import shutil

import pytest
import torch
from scipy.stats import pearsonr

from conftest import substitution_pairs, tiny_comet_encoder

from algharb.demo.comet_standin import train_standin
from algharb.demo.graded_examples import make_graded_examples
from algharb.metrics.comet import CometModelError, CometScorer, hub_offline, resolve_checkpoint

torch.set_num_threads(1)



@pytest.fixture(scope="module")
def examples():
    return make_graded_examples(substitution_pairs(300), seed=5, n_examples=2500)


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    return tiny_comet_encoder(substitution_pairs(300), tmp_path_factory.mktemp("enc"), seed=1)


def _train(tmp_path_factory, kind, examples, encoder_dir):
    out = tmp_path_factory.mktemp(kind) / f"{kind}-model"
    train_standin(kind, examples, encoder_dir, out, seed=0, max_steps=200, batch_size=16, hidden_sizes=(64,))
    return out


@pytest.fixture(scope="module")
def ref_model(tmp_path_factory, examples, encoder_dir):
    return _train(tmp_path_factory, "ref", examples, encoder_dir)


@pytest.fixture(scope="module")
def qe_model(tmp_path_factory, examples, encoder_dir):
    return _train(tmp_path_factory, "qe", examples, encoder_dir)


@pytest.fixture(scope="module")
def heldout(ref_model):
    import pandas as pd

    return pd.read_csv(ref_model / "data" / "heldout.csv")


# ------------------------------------------------------------- resolution


def test_missing_local_paths_raise_naming_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="does-not-exist"):
        CometScorer(str(tmp_path / "does-not-exist")).score(["a"], ["b"])
    (tmp_path / "empty-model").mkdir()
    with pytest.raises(FileNotFoundError, match="empty-model.*checkpoints/model.ckpt"):
        resolve_checkpoint(str(tmp_path / "empty-model"))
    lone = tmp_path / "lone.ckpt"
    lone.write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="hparams.yaml"):
        resolve_checkpoint(str(lone))


def test_unavailable_hub_model_gives_a_clear_error_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert hub_offline()
    with pytest.raises(CometModelError, match=r"'Unbabel/wmt22-comet-da'.*HF_HUB_OFFLINE"):
        resolve_checkpoint("Unbabel/wmt22-comet-da")


def test_model_directory_and_ckpt_file_resolve_to_the_same_checkpoint(ref_model):
    checkpoint = ref_model / "checkpoints" / "model.ckpt"
    assert resolve_checkpoint(str(ref_model)) == checkpoint
    assert resolve_checkpoint(str(checkpoint)) == checkpoint


def test_constructor_rejects_bad_settings():
    with pytest.raises(ValueError, match="model"):
        CometScorer("")
    with pytest.raises(ValueError, match="batch_size"):
        CometScorer("x", batch_size=0)


# ---------------------------------------------------------------- inputs


def test_reference_based_model_requires_references(ref_model):
    scorer = CometScorer(str(ref_model), progress=False)
    assert scorer.needs_reference
    with pytest.raises(ValueError, match="references is None.*reference-based"):
        scorer.score(["src one"], ["hyp one"])


def test_length_mismatches_name_the_argument_and_lengths(ref_model):
    scorer = CometScorer(str(ref_model), progress=False)
    with pytest.raises(ValueError, match=r"sources and hypotheses.*2 and 1"):
        scorer.score(["a", "b"], ["x"], ["r", "s"])
    with pytest.raises(ValueError, match=r"references.*1 references for 2 hypotheses"):
        scorer.score(["a", "b"], ["x", "y"], ["r"])
    with pytest.raises(ValueError, match=r"hypotheses\[1\]"):
        scorer.score(["a", "b"], ["x", None], ["r", "s"])
    with pytest.raises(ValueError, match="sources must be a list"):
        scorer.score("a", "x", "r")


def test_empty_input_returns_empty_without_loading(tmp_path):
    scorer = CometScorer(str(tmp_path / "never-loaded"))
    assert scorer.score([], [], []) == []
    assert scorer.score([], []) == []
    assert scorer._model is None


# --------------------------------------------------------------- scoring


def test_reference_scores_track_labels_and_are_deterministic(ref_model, heldout):
    scorer = CometScorer(str(ref_model), batch_size=32, progress=False)
    args = (heldout["src"].tolist(), heldout["mt"].tolist(), heldout["ref"].tolist())
    scores = scorer.score(*args)
    assert len(scores) == len(heldout)
    assert pearsonr(scores, heldout["score"])[0] > 0.6
    assert scorer.score(*args) == scores


def test_scores_follow_input_order(ref_model, heldout):
    scorer = CometScorer(str(ref_model), batch_size=4, progress=False)
    rows = heldout.head(12)
    forward = scorer.score(rows["src"].tolist(), rows["mt"].tolist(), rows["ref"].tolist())
    backward = scorer.score(rows["src"].tolist()[::-1], rows["mt"].tolist()[::-1], rows["ref"].tolist()[::-1])
    assert backward == pytest.approx(forward[::-1], abs=1e-5)


def test_reference_itself_outscores_a_copy_of_the_source(ref_model, heldout):
    scorer = CometScorer(str(ref_model), progress=False)
    rows = heldout.drop_duplicates("ref").head(20)
    sources, references = rows["src"].tolist(), rows["ref"].tolist()
    perfect = scorer.score(sources, references, references)
    copies = scorer.score(sources, sources, references)
    assert sum(p > c for p, c in zip(perfect, copies)) >= 18


def test_qe_model_ignores_references_and_clip_bounds_scores(qe_model, heldout):
    scorer = CometScorer(str(qe_model), progress=False, clip=True)
    assert not scorer.needs_reference and not scorer.uses_reference
    rows = heldout.head(30)
    without = scorer.score(rows["src"].tolist(), rows["mt"].tolist())
    with_refs = scorer.score(rows["src"].tolist(), rows["mt"].tolist(), rows["ref"].tolist())
    assert without == with_refs
    assert all(0.0 <= s <= 1.0 for s in without)


def test_copied_model_loads_offline_from_its_new_place(ref_model, heldout, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    copy = tmp_path / "clone" / "ref-model"
    shutil.copytree(ref_model, copy)
    rows = heldout.head(10)
    args = (rows["src"].tolist(), rows["mt"].tolist(), rows["ref"].tolist())
    expected = CometScorer(str(ref_model), progress=False).score(*args)
    hidden = ref_model.with_name("ref-model.hidden")
    ref_model.rename(hidden)  # the original location must not be needed
    try:
        scorer = CometScorer(str(copy / "checkpoints" / "model.ckpt"), progress=False)
        assert scorer.score(*args) == pytest.approx(expected, abs=1e-6)
    finally:
        hidden.rename(ref_model)
