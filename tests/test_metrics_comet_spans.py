"""Error spans through the COMET backend: a word-level UnifiedMetric stand-in returns them, a regression one none.

The stand-ins are tiny (hidden 32, one layer) and trained on a synthetic
word-substitution language pair, so the file runs offline in about a minute
on one thread.
"""

from __future__ import annotations

import json

import pytest
import torch

from conftest import substitution_pairs, tiny_comet_encoder

from algharb.demo.comet_standin import span_agreement, train_standin
from algharb.demo.graded_examples import SEVERITIES, make_graded_examples
from algharb.metrics.comet import ERROR_SPAN_KEYS, CometScorer

torch.set_num_threads(1)

TINY_MODEL = {"batch_size": 16, "hidden_sizes": (64,), "threads": 1}



@pytest.fixture(scope="module")
def examples():
    return make_graded_examples(substitution_pairs(300), seed=7, n_examples=2500)


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    return tiny_comet_encoder(substitution_pairs(300), tmp_path_factory.mktemp("enc"), seed=2)


@pytest.fixture(scope="module")
def unified_model(tmp_path_factory, examples, encoder_dir):
    """A word-level unified stand-in trained just enough to tag some spans."""
    out = tmp_path_factory.mktemp("unified") / "unified-model"
    summary = train_standin("unified", examples, encoder_dir, out, seed=0, max_steps=300, **TINY_MODEL)
    return out, summary


@pytest.fixture(scope="module")
def ref_model(tmp_path_factory, examples, encoder_dir):
    out = tmp_path_factory.mktemp("ref") / "ref-model"
    train_standin("ref", examples, encoder_dir, out, seed=0, max_steps=10, **TINY_MODEL)
    return out


@pytest.fixture(scope="module")
def heldout(unified_model):
    import pandas as pd

    return pd.read_csv(unified_model[0] / "data" / "heldout.csv")


@pytest.fixture(scope="module")
def mixed_rows(heldout):
    """Held-out rows of different source lengths, every third hypothesis a copy of its source.

    The copies make sure segments get spans, and spans of different lengths,
    so a wrong order would show.
    """
    rows = heldout.drop_duplicates("src").head(15).reset_index(drop=True)
    is_copy = rows.index % 3 == 1
    rows.loc[is_copy, "mt"] = rows.loc[is_copy, "src"]
    return rows


def _columns(rows) -> tuple[list[str], list[str], list[str]]:
    return rows["src"].tolist(), rows["mt"].tolist(), rows["ref"].tolist()


# ------------------------------------------------------------------ spans


def test_unified_stand_in_returns_one_span_list_per_segment(unified_model, mixed_rows):
    out, _ = unified_model
    scorer = CometScorer(str(out), batch_size=8, progress=False)
    assert scorer.produces_error_spans and scorer.model_class == "unified_metric"
    rows = mixed_rows
    scores, spans = scorer.score_with_spans(*_columns(rows))
    assert scores == pytest.approx(scorer.score(*_columns(rows)), abs=1e-6)
    assert isinstance(spans, list) and len(spans) == len(rows)
    assert any(spans), "an undertrained tagger that never tags would make the other checks vacuous"
    for hypothesis, segment in zip(rows["mt"], spans):
        for span in segment:
            assert tuple(span) == ERROR_SPAN_KEYS
            assert 0 <= span["start"] < span["end"] <= len(hypothesis)
            assert span["severity"] in SEVERITIES and 0.0 < span["confidence"] <= 1.0
    json.dumps(spans)  # plain values, ready for a JSONL file


def test_spans_follow_input_order_when_lengths_differ(unified_model, mixed_rows):
    """COMET sorts segments by source length into batches; the spans must come back in input order."""
    scorer = CometScorer(str(unified_model[0]), batch_size=3, progress=False)
    rows = mixed_rows
    assert rows["src"].str.len().nunique() > 5  # lengths differ, so sorting reorders
    forward = scorer.score_with_spans(*_columns(rows))
    backward = scorer.score_with_spans(*(column[::-1] for column in _columns(rows)))
    one_by_one = [scorer.score_with_spans(*_columns(rows.iloc[[i]])) for i in range(len(rows))]
    assert len({json.dumps(segment) for segment in forward[1]}) > 2  # segments differ, so order shows
    assert [spans[0] for _, spans in one_by_one] == forward[1]
    assert backward[1][::-1] == forward[1]
    assert backward[0][::-1] == pytest.approx(forward[0], abs=1e-5)


def test_quality_estimation_mode_also_returns_spans(unified_model, heldout):
    scorer = CometScorer(str(unified_model[0]), progress=False)
    rows = heldout.head(5)
    scores, spans = scorer.score_with_spans(rows["src"].tolist(), rows["mt"].tolist())
    assert len(scores) == len(spans) == 5


def test_regression_model_returns_no_spans(ref_model, heldout):
    scorer = CometScorer(str(ref_model), progress=False)
    assert not scorer.produces_error_spans and scorer.model_class == "regression_metric"
    rows = heldout.head(6)
    scores, spans = scorer.score_with_spans(*_columns(rows))
    assert spans is None and scores == scorer.score(*_columns(rows))
    assert scorer.score_with_spans([], [], []) == ([], None)


def test_unified_model_without_word_level_tags_returns_no_spans(unified_model, heldout):
    scorer = CometScorer(str(unified_model[0]), progress=False)
    scorer.model.word_level = False  # as a UnifiedMetric trained on scores only
    assert not scorer.produces_error_spans
    rows = heldout.head(4)
    assert scorer.score_with_spans(*_columns(rows))[1] is None


def test_empty_input_gives_empty_spans_for_a_tagging_model(unified_model):
    assert CometScorer(str(unified_model[0]), progress=False).score_with_spans([], []) == ([], [])


# ---------------------------------------------------------- span quality


def test_validation_reports_heldout_span_quality(unified_model):
    out, summary = unified_model
    assert json.loads((out / "validation.json").read_text()) == summary
    spans = summary["spans"]
    assert set(spans) == {"char_precision", "char_recall", "char_f1", "share_annotated", "share_predicted"}
    assert 0.3 < spans["share_annotated"] < 0.9
    assert spans["char_f1"] > 0.3, spans


def test_trained_tagger_marks_copies_of_the_source_and_spares_references(unified_model, heldout):
    """Untranslated output (a copy of the source) is the grossest error; a reference has none.

    Fails for a tagger that tags nothing, and for one that tags everything.
    (This tiny tagger covers ~99% of a copy and ~6% of a reference.)
    """
    scorer = CometScorer(str(unified_model[0]), progress=False)
    rows = heldout.drop_duplicates("ref").head(30)
    sources, references = rows["src"].tolist(), rows["ref"].tolist()
    _, copy_spans = scorer.score_with_spans(sources, sources, references)
    _, reference_spans = scorer.score_with_spans(sources, references, references)

    def coverage(texts, spans):
        return [sum(span["end"] - span["start"] for span in segment) / len(text) for text, segment in zip(texts, spans)]

    copies, perfect = coverage(sources, copy_spans), coverage(references, reference_spans)
    assert sum(c > 0.5 for c in copies) >= 24, copies
    assert sum(perfect) / len(perfect) < 0.2 and sum(c > 0.5 for c in perfect) <= 3, perfect


def test_span_agreement_counts_characters_not_spaces():
    text = "abc def ghi"
    gold = [[{"start": 0, "end": 7, "severity": "major"}]]  # "abc def": 6 letters
    predicted = [[{"start": 4, "end": 11, "severity": "minor", "text": "def ghi", "confidence": 0.9}]]
    result = span_agreement([text], gold, predicted)
    assert result["char_precision"] == pytest.approx(0.5) and result["char_recall"] == pytest.approx(0.5)
    assert result["char_f1"] == pytest.approx(0.5)
    assert span_agreement([text, text], [[], []], [[], []])["char_f1"] == 0.0
