"""Tests for algharb.data.wmt and its steps: WMT25 paragraphs, segment maps, submissions, external systems."""

import json
import logging

import pytest

from algharb.data.ingest import normalize_spec, read_corpus
from algharb.data.wmt import (
    ParagraphMismatch,
    external_hypotheses,
    list_systems,
    read_documents,
    read_segment_map,
    read_segmented,
    read_submission,
    split_paragraph_id,
    write_submission,
)
from algharb.io import read_jsonl, read_lines, write_lines
from algharb.steps.data import prepare_split_step
from algharb.steps.wmt import wmt_external_step, wmt_segments_step, wmt_submission_step

STORY = "en-de_DE_#_literary_#_story_1"
NEWS = "en-de_DE_#_news_#_item_2"

# Two documents of several paragraphs in the WMT25 layout (one JSON line per document, paragraphs
# separated by a blank line, tgt_text holding the reference and every system's output), and a
# document of another direction that the doc_id prefix leaves out.
RELEASE = [
    {
        "doc_id": STORY,
        "src_text": "Rink Rats\nChapter 1\n\nKyle looked at\nhimself in the mirror.\n\nThe  grey had   won.",
        "tgt_text": {
            "refA": "Eisratten\nKapitel 1\n\nKyle sah sich\nim Spiegel an.\n\nDas Grau hatte gesiegt.",
            "Gemini-2.5-Pro": "Eisratten, Kapitel 1\n\nKyle betrachtete sich im Spiegel.\n\nDas Grau hatte gewonnen.",
            "Chatty-MT": "Eisratten\n\nKapitel 1\n\nKyle im Spiegel.\n\nGrau.",  # one paragraph too many
            "Only-Story": "Nur hier.\n\nZwei.\n\nDrei.",
        },
    },
    {
        "doc_id": NEWS,
        "src_text": "One.\n\nTwo.\n\nThree.",
        # The reference merged two paragraphs: pairing by position would misalign the document.
        "tgt_text": {
            "refA": "Eins. Zwei.\n\nDrei.",
            "Gemini-2.5-Pro": "Eins.\n\nZwei.\n\nDrei.",
            "Chatty-MT": "Eins, zwei, drei.",
        },
    },
    {"doc_id": "en-cs_CZ_#_news_#_item_3", "src_text": "Elsewhere.", "tgt_text": {"refA": "Jinde."}},
]
SPEC = {"jsonl": None, "doc_prefix": "en-de_DE", "reference": "refA", "segment": "paragraph"}


def write_release(path, records=RELEASE):
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")
    return path


@pytest.fixture
def release(tmp_path):
    return write_release(tmp_path / "wmt25-genmt-humeval.jsonl")


@pytest.fixture
def test_set(tmp_path, release):
    """The test set as the workflow prepares it: .src/.tgt by prepare_split, the map and report beside them."""
    spec = {**SPEC, "jsonl": str(release)}
    out = tmp_path / "data"
    prepare_split_step(spec, out / "test.src", out / "test.tgt", where="data.test.en-de")
    wmt_segments_step(spec, out / "test.segments.tsv", out / "test.paragraph_mismatches.tsv", where="data.test.en-de")
    return out


# --------------------------------------------------------------------------
# Segmentation.


def test_paragraphs_become_lines_and_the_map_says_where_each_came_from(test_set):
    assert read_lines(test_set / "test.src") == [
        "Rink Rats Chapter 1",
        "Kyle looked at himself in the mirror.",
        "The grey had won.",
        "One. Two. Three.",  # kept whole: its reference has another paragraph count
    ]
    assert read_lines(test_set / "test.tgt") == [
        "Eisratten Kapitel 1",
        "Kyle sah sich im Spiegel an.",
        "Das Grau hatte gesiegt.",
        "Eins. Zwei. Drei.",
    ]
    assert read_lines(test_set / "test.segments.tsv") == [
        "doc_id\tparagraph\tn_paragraphs",
        f"{STORY}\t0\t3",
        f"{STORY}\t1\t3",
        f"{STORY}\t2\t3",
        f"{NEWS}\t0\t1",
    ]


def test_a_reference_with_another_paragraph_count_is_reported_per_document(release, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        wmt_segments_step({**SPEC, "jsonl": str(release)}, tmp_path / "s.tsv", tmp_path / "report.tsv")
    assert read_lines(tmp_path / "report.tsv") == ["doc_id\texpected\tfound", f"{NEWS}\t3\t2"]
    assert f"document {NEWS} has 3 source paragraphs but its reference 'refA' has 2" in caplog.text


def test_document_mode_is_the_default_and_unchanged(release, tmp_path):
    spec = {"jsonl": str(release), "doc_prefix": "en-de_DE", "reference": "refA"}
    assert normalize_spec(spec)["segment"] == "document"
    corpus = read_corpus(spec)
    assert corpus.src == ["Rink Rats Chapter 1 Kyle looked at himself in the mirror. The grey had won.",
                          "One. Two. Three."]
    assert corpus.line_numbers == [1, 2]
    wmt_segments_step(spec, tmp_path / "s.tsv", tmp_path / "r.tsv")
    assert [(row.doc_id, row.paragraph, row.n_paragraphs) for row in read_segment_map(tmp_path / "s.tsv")] == [
        (STORY, 0, 1), (NEWS, 0, 1)]


def test_paragraph_mode_numbers_segments_and_keeps_invalid_utf8_handling(tmp_path):
    records = [{"doc_id": "en-de_DE_#_a_#_1", "src_text": "A.\n\nB.", "tgt_text": {"refA": "A.\n\nB."}},
               {"doc_id": "en-de_DE_#_a_#_2", "src_text": "C.\n\nD.", "tgt_text": {"refA": "C.\n\nXX"}},
               {"doc_id": "en-de_DE_#_a_#_3", "src_text": "E.", "tgt_text": {"refA": "E."}}]
    path = tmp_path / "r.jsonl"
    path.write_bytes(write_release(path, records).read_bytes().replace(b"XX", b"\xe4\xba"))
    corpus = read_corpus({"jsonl": str(path), "reference": "refA", "segment": "paragraph"})
    assert corpus.pairs == [("A.", "A."), ("B.", "B."), ("E.", "E.")]
    assert corpus.line_numbers == [1, 2, 4]  # segment numbers; the invalid document took number 3
    assert corpus.invalid_utf8_lines == [3]
    segmented = read_segmented(path, reference="refA")
    assert segmented.invalid_utf8 == ["en-de_DE_#_a_#_2"]
    assert [s.doc_id for s in segmented.segments] == ["en-de_DE_#_a_#_1"] * 2 + ["en-de_DE_#_a_#_3"]


def test_empty_paragraphs_get_no_line_but_keep_their_place(tmp_path):
    path = write_release(tmp_path / "r.jsonl", [
        {"doc_id": "en-de_DE_#_a_#_1", "src_text": "A.\n\n \n\nC.", "tgt_text": {"refA": "A.\n\n\n\nC."}}])
    segmented = read_segmented(path, reference="refA")
    assert [(s.paragraph, s.n_paragraphs, s.src) for s in segmented.segments] == [(0, 3, "A."), (2, 3, "C.")]


def test_the_paragraph_layout_of_the_human_evaluation_release_is_gathered_into_documents(tmp_path):
    # wmt25-genmt-humeval.jsonl: one line per paragraph, doc_id "{document}_#_{index}".
    lines = [{"doc_id": f"{STORY}_#_{index}", "src_text": src, "tgt_text": {"refA": ref, "Gemini-2.5-Pro": hyp}}
             for index, (src, ref, hyp) in enumerate([("Rink Rats\nChapter 1", "Eisratten", "Eisratten!"),
                                                      ("Kyle looked.", "Kyle sah.", "Kyle schaute.")])]
    path = write_release(tmp_path / "humeval.jsonl", lines)
    assert split_paragraph_id(f"{STORY}_#_12") == (STORY, 12)
    assert split_paragraph_id(STORY) == (STORY, None)
    [doc] = read_documents(path)
    assert (doc.doc_id, doc.src, doc.n_paragraphs) == (STORY, ["Rink Rats\nChapter 1", "Kyle looked."], 2)
    for segment in ("document", "paragraph"):  # each line is a paragraph either way; the map names the document
        spec = {"jsonl": str(path), "reference": "refA", "segment": segment}
        assert read_corpus(spec).src == ["Rink Rats Chapter 1", "Kyle looked."]
        wmt_segments_step(spec, tmp_path / "s.tsv", tmp_path / "r.tsv")
        assert [(r.doc_id, r.paragraph, r.n_paragraphs) for r in read_segment_map(tmp_path / "s.tsv")] == [
            (STORY, 0, 2), (STORY, 1, 2)]
    write_lines(tmp_path / "hyp.txt", ["Eisratten", "Kyle sah."])
    write_submission(tmp_path / "s.tsv", tmp_path / "hyp.txt", tmp_path / "sub.jsonl")
    assert read_jsonl(tmp_path / "sub.jsonl") == [{"doc_id": STORY, "hypothesis": "Eisratten\n\nKyle sah."}]
    assert read_submission(tmp_path / "sub.jsonl", path).ok
    hypotheses, report = external_hypotheses(path, "", "Gemini-2.5-Pro", tmp_path / "s.tsv")
    assert (hypotheses, report) == (["Eisratten!", "Kyle schaute."], [])


def test_a_document_whose_lines_are_not_consecutive_is_an_error(tmp_path):
    path = write_release(tmp_path / "r.jsonl", [
        {"doc_id": "en-de_DE_#_a_#_x_#_0", "src_text": "A."},
        {"doc_id": "en-de_DE_#_a_#_y", "src_text": "B."},
        {"doc_id": "en-de_DE_#_a_#_x_#_1", "src_text": "C."}])
    with pytest.raises(ValueError, match=r"r\.jsonl:3: document en-de_DE_#_a_#_x appears again"):
        read_documents(path)


# --------------------------------------------------------------------------
# Submissions.


def test_a_submission_is_accepted_with_paragraph_counts_preserved(test_set, release, tmp_path):
    hyp = write_lines(tmp_path / "hyp.txt", ["Eisratten, Kapitel 1", "Kyle sah sich an.", "Grau.", "Eins zwei drei."])
    assert hyp == 4
    summary = wmt_submission_step(test_set / "test.segments.tsv", tmp_path / "hyp.txt", tmp_path / "sub.jsonl",
                                  tmp_path / "check.tsv", release=release, doc_prefix="en-de_DE")
    assert summary == {"documents": 2, "paragraph_mismatches": 1}
    assert read_jsonl(tmp_path / "sub.jsonl") == [
        {"doc_id": STORY, "hypothesis": "Eisratten, Kapitel 1\n\nKyle sah sich an.\n\nGrau."},
        {"doc_id": NEWS, "hypothesis": "Eins zwei drei."},
    ]
    submission = read_submission(tmp_path / "sub.jsonl", release, doc_prefix="en-de_DE")
    assert list(submission.hypotheses) == [STORY, NEWS]
    # The story keeps its three paragraphs; the document kept whole is reported, per document.
    assert submission.mismatches == [ParagraphMismatch(NEWS, expected=3, found=1)]
    assert read_lines(tmp_path / "check.tsv") == ["doc_id\texpected\tfound", f"{NEWS}\t3\t1"]
    with pytest.raises(ValueError, match=rf"{NEWS}: 1 paragraph\(s\), the source has 3"):
        read_submission(tmp_path / "sub.jsonl", release, doc_prefix="en-de_DE", strict=True)


def test_a_compressed_submission_with_a_bom_reads_like_the_plain_one(test_set, release, tmp_path):
    import gzip

    write_lines(tmp_path / "hyp.txt", ["Eisratten, Kapitel 1", "Kyle sah sich an.", "Grau.", "Eins zwei drei."])
    write_submission(test_set / "test.segments.tsv", tmp_path / "hyp.txt", tmp_path / "sub.jsonl")
    plain = read_submission(tmp_path / "sub.jsonl", release, doc_prefix="en-de_DE")
    with gzip.open(tmp_path / "sub.jsonl.gz", "wb") as handle:
        handle.write(b"\xef\xbb\xbf" + (tmp_path / "sub.jsonl").read_bytes())
    packed = read_submission(tmp_path / "sub.jsonl.gz", release, doc_prefix="en-de_DE")
    assert packed.hypotheses == plain.hypotheses and packed.mismatches == plain.mismatches


def test_a_hypothesis_count_mismatch_names_both_files(test_set, tmp_path):
    write_lines(tmp_path / "short.txt", ["only", "three", "lines"])
    with pytest.raises(ValueError) as err:
        write_submission(test_set / "test.segments.tsv", tmp_path / "short.txt", tmp_path / "sub.jsonl")
    message = str(err.value)
    assert "short.txt has 3 hypotheses" in message and "test.segments.tsv has 4 segments" in message
    assert not (tmp_path / "sub.jsonl").exists()


def test_the_reader_lists_every_problem_of_a_bad_submission(release, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([
        json.dumps({"doc_id": STORY, "hypothesis": "a\n\nb\n\nc"}),
        json.dumps({"doc_id": STORY, "hypothesis": "again"}),
        '{"doc_id": "x", ',
        json.dumps({"doc_id": "en-de_DE_#_news_#_unknown", "hypothesis": ["not", "a", "string"]}),
        json.dumps({"doc_id": "en-de_DE_#_news_#_unknown", "hypothesis": "x"}),
    ]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        read_submission(path, release, doc_prefix="en-de_DE")
    message = str(err.value)
    assert "bad.jsonl: not a valid WMT25 submission (5 problem(s))" in message
    assert f"line 2: {STORY} is answered again (first on line 1)" in message
    assert "line 3: not valid JSON" in message
    assert "line 4: 'hypothesis' of en-de_DE_#_news_#_unknown must be a string, got list" in message
    assert "1 doc_id(s) not in" in message and "en-de_DE_#_news_#_unknown" in message
    assert f"1 document(s) of {release} (doc_id prefix 'en-de_DE') not answered: {NEWS}" in message


def test_a_segment_map_with_a_paragraph_out_of_range_names_the_line(tmp_path):
    (tmp_path / "s.tsv").write_text("doc_id\tparagraph\tn_paragraphs\nd\t0\t2\nd\t2\t2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"s\.tsv:3: expected doc_id, paragraph"):
        read_segment_map(tmp_path / "s.tsv")


# --------------------------------------------------------------------------
# Other systems from the human-evaluation release.


def test_external_rows_line_up_with_the_test_set(test_set, release, tmp_path):
    summary = wmt_external_step(release, "en-de_DE", "Gemini-2.5-Pro", test_set / "test.segments.tsv",
                                tmp_path / "hyp" / "Gemini-2.5-Pro" / "en-de.txt", tmp_path / "report.tsv")
    assert summary == {"system": "Gemini-2.5-Pro", "segments": 4, "paragraph_mismatches": 0}
    hypotheses = read_lines(tmp_path / "hyp" / "Gemini-2.5-Pro" / "en-de.txt")
    assert len(hypotheses) == len(read_lines(test_set / "test.src"))
    assert hypotheses == ["Eisratten, Kapitel 1", "Kyle betrachtete sich im Spiegel.", "Das Grau hatte gewonnen.",
                          "Eins. Zwei. Drei."]  # the document the test set keeps whole gets the whole text
    assert read_lines(tmp_path / "report.tsv") == ["doc_id\texpected\tfound"]


def test_a_system_with_another_paragraph_count_is_fitted_and_reported(test_set, release):
    hypotheses, report = external_hypotheses(release, "en-de_DE", "Chatty-MT", test_set / "test.segments.tsv")
    # Four paragraphs for three: the extra one is joined onto the last.
    assert hypotheses == ["Eisratten", "Kapitel 1", "Kyle im Spiegel. Grau.", "Eins, zwei, drei."]
    assert report == [ParagraphMismatch(STORY, 3, 4), ParagraphMismatch(NEWS, 3, 1)]


def test_missing_paragraphs_of_a_system_are_empty(tmp_path):
    path = write_release(tmp_path / "r.jsonl", [
        {"doc_id": "en-de_DE_#_a_#_1", "src_text": "A.\n\nB.\n\nC.", "tgt_text": {"refA": "a\n\nb\n\nc", "S": "a b"}}])
    wmt_segments_step({"jsonl": str(path), "reference": "refA", "segment": "paragraph"}, tmp_path / "s.tsv",
                      tmp_path / "r.tsv")
    hypotheses, report = external_hypotheses(path, "", "S", tmp_path / "s.tsv")
    assert hypotheses == ["a b", "", ""]
    assert report == [ParagraphMismatch("en-de_DE_#_a_#_1", 3, 1)]


def test_an_unknown_system_lists_the_available_ones(test_set, release):
    with pytest.raises(ValueError) as err:
        external_hypotheses(release, "en-de_DE", "GPT-5", test_set / "test.segments.tsv")
    assert f"document {STORY} has no system 'GPT-5' in tgt_text" in str(err.value)
    assert "'refA', 'Gemini-2.5-Pro', 'Chatty-MT', 'Only-Story'" in str(err.value)
    with pytest.raises(ValueError, match=rf"document {NEWS} has no system 'Only-Story'"):
        external_hypotheses(release, "en-de_DE", "Only-Story", test_set / "test.segments.tsv")
    assert list_systems(release, "en-de_DE") == ["Chatty-MT", "Gemini-2.5-Pro", "refA"]


def test_a_blind_test_set_is_cut_into_paragraphs_with_empty_references(release):
    corpus = read_corpus({"jsonl": str(release), "doc_prefix": "en-de_DE", "segment": "paragraph"})
    assert corpus.src[-3:] == ["One.", "Two.", "Three."]  # no reference to disagree with: paragraphs kept
    assert corpus.tgt == [""] * 6


def test_a_document_on_two_lines_is_an_error(tmp_path):
    path = write_release(tmp_path / "r.jsonl", [{"doc_id": STORY, "src_text": "A."}, {"doc_id": STORY, "src_text": "B."}])
    with pytest.raises(ValueError, match=rf"r\.jsonl:2: document {STORY} is also on line 1"):
        read_documents(path)
