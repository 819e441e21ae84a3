"""Tests for algharb.data.ingest."""

import gzip
import json
import lzma
import shutil
from pathlib import Path

import pytest

from algharb.data.ingest import (
    ParallelCorpus,
    RawPair,
    iter_raw_pairs,
    normalize_spec,
    read_corpus,
    read_parallel,
    read_tsv,
    spec_paths,
)

FIXTURES = Path(__file__).parent / "data" / "ingest"
SGM_EN = FIXTURES / "newstest.en-zh.en.sgm"
SGM_ZH = FIXTURES / "newstest.en-zh.zh.sgm"
XML_EN_JA = FIXTURES / "wmttest.en-ja.xml"
JSONL = FIXTURES / "wmt25.jsonl"


def write_bytes(path, data: bytes):
    path.write_bytes(data)
    return path


def test_read_parallel_keeps_pairs_and_line_numbers(tmp_path):
    src = write_bytes(tmp_path / "a.en", "Hello\nGood morning\n".encode())
    tgt = write_bytes(tmp_path / "a.zh", "你好\n早上好\n".encode())
    corpus = read_parallel(src, tgt)
    assert corpus.pairs == [("Hello", "你好"), ("Good morning", "早上好")]
    assert corpus.line_numbers == [1, 2]
    assert corpus.invalid_utf8_lines == []
    assert len(corpus) == 2


def test_mismatched_line_counts_name_both_files_and_counts(tmp_path):
    src = write_bytes(tmp_path / "x.cs", b"a\nb\nc\n")
    tgt = write_bytes(tmp_path / "x.uk", b"a\nb\n")
    with pytest.raises(ValueError) as err:
        read_parallel(src, tgt)
    message = str(err.value)
    assert str(src) in message and str(tgt) in message
    assert "3 lines" in message and "2 lines" in message


def test_invalid_utf8_drops_the_pair_and_stays_aligned(tmp_path):
    src = write_bytes(tmp_path / "s.txt", b"one\n\xff\xfebad\nthree\nfour\n")
    # Line 4 of the target is a truncated two-byte UTF-8 sequence.
    tgt = write_bytes(tmp_path / "t.txt", "jedna\ndva\ntři\n".encode() + b"\xc3\n")
    corpus = read_parallel(src, tgt)
    assert corpus.pairs == [("one", "jedna"), ("three", "tři")]
    assert corpus.line_numbers == [1, 3]
    assert corpus.invalid_utf8_lines == [2, 4]


def test_all_lines_invalid_is_an_encoding_error(tmp_path):
    src = write_bytes(tmp_path / "s.txt", "čaj\n".encode("cp1250"))
    tgt = write_bytes(tmp_path / "t.txt", b"tea\n")
    with pytest.raises(ValueError, match="valid UTF-8"):
        read_parallel(src, tgt)


def test_empty_file_is_an_error_naming_it(tmp_path):
    src = write_bytes(tmp_path / "empty.en", b"")
    tgt = write_bytes(tmp_path / "full.de", b"Hallo\n")
    with pytest.raises(ValueError, match="empty.en.*empty"):
        read_parallel(src, tgt)
    with pytest.raises(ValueError, match="empty.en"):
        read_tsv(src)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        read_parallel(tmp_path / "nope.txt", tmp_path / "nope.txt")


def test_blank_lines_are_pairs_and_crlf_and_bom_are_stripped(tmp_path):
    src = write_bytes(tmp_path / "s.txt", b"\xef\xbb\xbfone\r\n\r\nthree")
    tgt = write_bytes(tmp_path / "t.txt", b"uno\r\n\r\ntres")
    corpus = read_parallel(src, tgt)
    assert corpus.pairs == [("one", "uno"), ("", ""), ("three", "tres")]


def test_unicode_line_separator_does_not_split_a_line(tmp_path):
    src = write_bytes(tmp_path / "s.txt", "a\u2028b\n".encode())
    tgt = write_bytes(tmp_path / "t.txt", b"c\n")
    assert read_parallel(src, tgt).pairs == [("a\u2028b", "c")]


def test_gz_and_xz_round_trip(tmp_path):
    src = tmp_path / "s.en.gz"
    tgt = tmp_path / "t.ja.xz"
    with gzip.open(src, "wb") as handle:
        handle.write("Thank you\nYes\n".encode())
    with lzma.open(tgt, "wb") as handle:
        handle.write("ありがとう\nはい\n".encode())
    assert read_parallel(src, tgt).pairs == [("Thank you", "ありがとう"), ("Yes", "はい")]


def test_corrupt_gzip_is_an_error_naming_the_file(tmp_path):
    src = write_bytes(tmp_path / "bad.gz", b"not gzip at all")
    tgt = write_bytes(tmp_path / "t.txt", b"x\n")
    with pytest.raises(ValueError, match="bad.gz"):
        read_parallel(src, tgt)


def test_read_tsv_columns_and_gz(tmp_path):
    path = tmp_path / "c.tsv.gz"
    with gzip.open(path, "wb") as handle:
        handle.write("id1\tHello\tПривет\nid2\tBye\tПока\n".encode())
    corpus = read_tsv(path, src_col=1, tgt_col=2)
    assert corpus.pairs == [("Hello", "Привет"), ("Bye", "Пока")]
    assert corpus.line_numbers == [1, 2]


def test_read_tsv_keeps_quotes_as_text(tmp_path):
    path = write_bytes(tmp_path / "c.tsv", b'"quoted" text\t"citovan\xc3\xbd"\n')
    assert read_tsv(path).pairs == [('"quoted" text', '"citovaný"')]


def test_read_tsv_short_row_is_dropped_and_counted_with_its_line(tmp_path):
    path = write_bytes(tmp_path / "c.tsv", b"a\tb\nonly one column\n\nd\te\n")
    corpus = read_tsv(path)
    assert corpus.pairs == [("a", "b"), ("d", "e")]
    assert corpus.line_numbers == [1, 4]
    assert corpus.malformed_lines == {2: "too_few_columns", 3: "too_few_columns"}
    assert corpus.invalid_utf8_lines == []


def test_read_tsv_counts_short_rows_and_invalid_utf8_apart(tmp_path):
    # src_col 2 needs three columns: line 2 has two; line 3 has three but its target is not UTF-8.
    path = write_bytes(tmp_path / "c.tsv", b"i\ta\tb\ni\ta\ni\tc\t\xff\ni\td\te\n")
    corpus = read_tsv(path, src_col=1, tgt_col=2)
    assert corpus.pairs == [("a", "b"), ("d", "e")] and corpus.line_numbers == [1, 4]
    assert corpus.malformed_lines == {2: "too_few_columns", 3: "invalid_utf8"}
    assert corpus.invalid_utf8_lines == [3]
    stream = list(iter_raw_pairs({"tsv": str(path), "src_col": 1, "tgt_col": 2}))
    assert [(p.line, p.drop_reason) for p in stream] == [(1, ""), (2, "too_few_columns"), (3, "invalid_utf8"),
                                                          (4, "")]


def test_read_tsv_without_a_usable_row_is_an_error(tmp_path):
    path = write_bytes(tmp_path / "c.tsv", b"one\ntwo\n")
    with pytest.raises(ValueError, match=r"c\.tsv: none of the 2 lines is usable \(2 too_few_columns\)"):
        read_tsv(path)


def test_read_tsv_invalid_utf8_row_dropped_and_counted(tmp_path):
    path = write_bytes(tmp_path / "c.tsv", b"a\tb\n\xff\tc\nd\te\n")
    corpus = read_tsv(path)
    assert corpus.pairs == [("a", "b"), ("d", "e")]
    assert corpus.line_numbers == [1, 3]
    assert corpus.invalid_utf8_lines == [2]


def test_corpus_rejects_misaligned_columns():
    with pytest.raises(ValueError, match="must be equal"):
        ParallelCorpus(["a"], ["b", "c"], [1])


# --------------------------------------------------------------------------
# Helpers for the spec-based readers.


def compressed(path: Path, directory: Path, suffix: str) -> Path:
    """A copy of ``path`` in ``directory`` compressed by ``suffix`` (".gz", ".xz" or "" for plain)."""
    target = directory / (path.name + suffix)
    opener = {".gz": gzip.open, ".xz": lzma.open, "": open}[suffix]
    with open(path, "rb") as source, opener(target, "wb") as handle:
        shutil.copyfileobj(source, handle)
    return target


def xml_doc(doc_id: str, src: list[str], refs: dict[str, list[str]]) -> str:
    """One WMT XML <doc> with a source and one <ref> per translator."""
    def segs(texts):
        return "".join(f'<seg id="{i}">{text}</seg>' for i, text in enumerate(texts, 1))

    ref_xml = "".join(f'<ref lang="ru" translator="{name}"><p>{segs(texts)}</p></ref>' for name, texts in refs.items())
    return f'<doc id="{doc_id}"><src lang="en"><p>{segs(src)}</p></src>{ref_xml}</doc>'


def xml_dataset(*docs: str) -> bytes:
    body = "\n".join(docs)
    return f'<?xml version="1.0"?>\n<dataset id="t"><collection id="c">\n{body}\n</collection></dataset>\n'.encode()


def sgm(kind: str, segments: list[bytes]) -> bytes:
    lines = [f'<{kind} setid="t" srclang="en">'.encode(), b'<doc docid="d1" origlang="en">']
    lines += [b'<seg id="%d">%s</seg>' % (i, text) for i, text in enumerate(segments, 1)]
    lines += [b"</doc>", f"</{kind}>".encode()]
    return b"\n".join(lines) + b"\n"


def jsonl(*records: dict) -> bytes:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode()


# --------------------------------------------------------------------------
# text and tsv through a spec.


def test_text_spec_reads_like_read_parallel(tmp_path):
    src = write_bytes(tmp_path / "train.en", "Hello\nGood night\n".encode())
    tgt = write_bytes(tmp_path / "train.ru", "Привет\nСпокойной ночи\n".encode())
    corpus = read_corpus({"src": str(src), "tgt": str(tgt)})
    assert corpus == read_parallel(src, tgt)
    assert corpus.origin == f"{src} / {tgt}"
    assert read_corpus({"src": src, "tgt": tgt, "format": "text"}).pairs == corpus.pairs


@pytest.mark.parametrize("suffix", [".gz", ".xz"])
def test_text_spec_reads_compressed_files(tmp_path, suffix):
    src = compressed(write_bytes(tmp_path / "s.en", b"Thank you\nYes\n"), tmp_path, suffix)
    tgt = compressed(write_bytes(tmp_path / "t.hi", "धन्यवाद\nहाँ\n".encode()), tmp_path, suffix)
    assert normalize_spec({"src": src, "tgt": tgt})["format"] == "text"
    assert read_corpus({"src": src, "tgt": tgt}).pairs == [("Thank you", "धन्यवाद"), ("Yes", "हाँ")]


def test_tsv_spec_with_columns_and_xz(tmp_path):
    path = tmp_path / "c.tsv.xz"
    with lzma.open(path, "wb") as handle:
        handle.write("1\tشكرا\tThanks\n2\tنعم\tYes\n".encode())
    corpus = read_corpus({"tsv": str(path), "src_col": 2, "tgt_col": 1})
    assert corpus.pairs == [("Thanks", "شكرا"), ("Yes", "نعم")]
    assert corpus.line_numbers == [1, 2]


# --------------------------------------------------------------------------
# sgm: WMT SGML.


def test_sgm_pairs_segments_in_order_and_unescapes_entities():
    corpus = read_corpus({"src": str(SGM_EN), "tgt": str(SGM_ZH)})
    assert corpus.pairs == [
        ('Tom & Jerry said "hello".', "汤姆 & 杰瑞说“你好”。"),
        ("Prices rose 5% <again>.", "价格再次上涨了5%<又一次>。"),
        ("It's raining  in Beijing.", "北京在下雨。"),
        ("The end…", "完……"),
    ]
    assert corpus.line_numbers == [1, 2, 3, 4]
    assert corpus.invalid_utf8_lines == []


@pytest.mark.parametrize("suffix", [".gz", ".xz"])
def test_sgm_compressed_is_inferred_and_read(tmp_path, suffix):
    spec = {"src": compressed(SGM_EN, tmp_path, suffix), "tgt": compressed(SGM_ZH, tmp_path, suffix)}
    assert normalize_spec(spec)["format"] == "sgm"
    assert read_corpus(spec).pairs == read_corpus({"src": SGM_EN, "tgt": SGM_ZH}).pairs


def test_sgm_segment_counts_differ_names_both_files_and_counts(tmp_path):
    src = write_bytes(tmp_path / "a.sgm", sgm("srcset", [b"one", b"two", b"three"]))
    tgt = write_bytes(tmp_path / "b.sgm", sgm("refset", ["один".encode(), "два".encode()]))
    with pytest.raises(ValueError) as err:
        read_corpus({"src": src, "tgt": tgt})
    message = str(err.value)
    assert str(src) in message and str(tgt) in message
    assert "3 segments" in message and "2 segments" in message


def test_sgm_misaligned_segment_ids_are_an_error(tmp_path):
    src = write_bytes(tmp_path / "a.sgm", b'<doc docid="d">\n<seg id="1">a</seg>\n<seg id="2">b</seg>\n</doc>\n')
    tgt = write_bytes(tmp_path / "b.sgm", b'<doc docid="d">\n<seg id="2">b</seg>\n<seg id="1">a</seg>\n</doc>\n')
    with pytest.raises(ValueError, match=r'segment 1: .*a\.sgm has <seg id="1">.*b\.sgm has <seg id="2">'):
        read_corpus({"src": src, "tgt": tgt})


def test_sgm_invalid_utf8_segment_is_dropped_and_neighbours_stay_aligned(tmp_path):
    src = write_bytes(tmp_path / "a.sgm", sgm("srcset", [b"one", b"two", b"three"]))
    tgt = write_bytes(tmp_path / "b.sgm", sgm("refset", ["一".encode(), b"\xe4\xba", "三".encode()]))
    corpus = read_corpus({"src": src, "tgt": tgt})
    assert corpus.pairs == [("one", "一"), ("three", "三")]
    assert corpus.line_numbers == [1, 3]
    assert corpus.invalid_utf8_lines == [2]


def test_sgm_all_segments_invalid_is_an_encoding_error(tmp_path):
    src = write_bytes(tmp_path / "a.sgm", sgm("srcset", ["čaj".encode("cp1250")]))
    tgt = write_bytes(tmp_path / "b.sgm", sgm("refset", [b"tea"]))
    with pytest.raises(ValueError, match="none of the 1 segments is valid UTF-8"):
        read_corpus({"src": src, "tgt": tgt})


def test_sgm_empty_file_is_an_error_naming_it(tmp_path):
    src = write_bytes(tmp_path / "empty.sgm", b"")
    with pytest.raises(ValueError, match=r"empty\.sgm: no <seg> segments"):
        read_corpus({"src": src, "tgt": SGM_ZH})


def test_sgm_segment_split_over_lines_is_an_error(tmp_path):
    src = write_bytes(tmp_path / "a.sgm", b'<seg id="1">first half\nsecond half</seg>\n')
    with pytest.raises(ValueError, match=r"a\.sgm:1: a <seg> is not closed"):
        read_corpus({"src": src, "tgt": src})


# --------------------------------------------------------------------------
# xml: WMT21+ test sets.


def test_xml_takes_the_first_ref_by_default():
    corpus = read_corpus({"xml": str(XML_EN_JA)})
    assert corpus.pairs == [
        ("Tokyo & Osaka", "東京と大阪"),
        ('"Good morning," she said.', "「おはよう」と彼女は言った。"),
        ("Line one line two", "一行目 二行目"),  # a line break inside a segment becomes a space
        ("1 < 2", "1 < 2 です"),
    ]
    assert corpus.line_numbers == [1, 2, 3, 4]


def test_xml_translator_picks_the_ref():
    corpus = read_corpus({"xml": XML_EN_JA, "translator": "B"})
    assert corpus.tgt == ["東京＆大阪", "「おはようございます」と彼女は言いました。", "一行目と二行目", "一は二より小さい"]


def test_xml_missing_translator_names_file_and_doc():
    with pytest.raises(ValueError, match=r"wmttest\.en-ja\.xml: doc 'news_1' has no <ref translator=\"C\">.*'A', 'B'"):
        read_corpus({"xml": XML_EN_JA, "translator": "C"})


@pytest.mark.parametrize("suffix", [".gz", ".xz"])
def test_xml_compressed(tmp_path, suffix):
    spec = {"xml": compressed(XML_EN_JA, tmp_path, suffix), "translator": "A"}
    assert normalize_spec(spec)["format"] == "xml"
    assert read_corpus(spec).pairs == read_corpus({"xml": XML_EN_JA}).pairs


def test_xml_src_and_ref_segment_mismatch_names_file_and_doc(tmp_path):
    path = write_bytes(tmp_path / "t.xml", xml_dataset(
        xml_doc("ok", ["a"], {"A": ["а"]}),
        xml_doc("doc-7", ["one", "two"], {"A": ["один"]}),
    ))
    with pytest.raises(ValueError, match=r"t\.xml: doc 'doc-7': <src> has 2 segments .* <ref> has 1"):
        read_corpus({"xml": path})


def test_xml_blind_test_set(tmp_path):
    path = write_bytes(tmp_path / "blind.xml", xml_dataset(xml_doc("d", ["Привет", "мир"], {})))
    corpus = read_corpus({"xml": path, "reference": False})
    assert corpus.pairs == [("Привет", ""), ("мир", "")]
    with pytest.raises(ValueError, match=r"doc 'd' has no <ref> .*reference: false"):
        read_corpus({"xml": path})


def test_xml_malformed_names_file_and_position(tmp_path):
    path = write_bytes(tmp_path / "bad.xml", b'<dataset><doc id="d">\n<src><seg id="1">a & b</seg></src></doc></dataset>\n')
    with pytest.raises(ValueError, match=r"bad\.xml: not well-formed XML .*line 2"):
        read_corpus({"xml": path})


def test_xml_invalid_utf8_segment_is_dropped_and_neighbours_stay_aligned(tmp_path):
    data = xml_dataset(xml_doc("d", ["one", "two", "three"], {"A": ["раз", "два", "три"]}))
    data = data.replace("два".encode(), "дв".encode() + b"\xff")
    path = write_bytes(tmp_path / "t.xml", data)
    corpus = read_corpus({"xml": path})
    assert corpus.pairs == [("one", "раз"), ("three", "три")]
    assert corpus.line_numbers == [1, 3]
    assert corpus.invalid_utf8_lines == [2]


def test_xml_empty_file_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"e\.xml: file is empty"):
        read_corpus({"xml": write_bytes(tmp_path / "e.xml", b"")})
    with pytest.raises(ValueError, match=r"n\.xml: no segments"):
        read_corpus({"xml": write_bytes(tmp_path / "n.xml", b"<dataset/>")})


# --------------------------------------------------------------------------
# wmt-jsonl: WMT24/25 release.


def test_jsonl_filters_by_prefix_and_folds_whitespace():
    corpus = read_corpus({"jsonl": JSONL, "doc_prefix": "en-ar_EG", "reference": "refA"})
    assert corpus.pairs == [("Hello world", "مرحبا بالعالم"), ("See you tomorrow", "أراك غدا")]
    assert corpus.line_numbers == [1, 3]  # the document's line in the file


def test_jsonl_whole_file_and_blind():
    corpus = read_corpus({"jsonl": JSONL, "format": "wmt-jsonl"})
    assert corpus.src == ["Hello world", "Good evening", "See you tomorrow", "Thank you", "A long story"]
    assert corpus.tgt == [""] * 5
    assert corpus.line_numbers == [1, 2, 3, 5, 6]  # line 4 is blank


@pytest.mark.parametrize("suffix", [".gz", ".xz"])
def test_jsonl_compressed(tmp_path, suffix):
    spec = {"jsonl": compressed(JSONL, tmp_path, suffix), "doc_prefix": "en-", "reference": "refA"}
    corpus = read_corpus(spec)
    assert corpus.tgt == ["مرحبا بالعالم", "Добрый вечер", "أراك غدا", "धन्यवाद", "一个很长的 故事"]


def test_jsonl_bad_json_line_names_file_and_line(tmp_path):
    path = write_bytes(tmp_path / "r.jsonl", jsonl({"doc_id": "a", "src_text": "x"}) + b'{"doc_id": "b", \n')
    with pytest.raises(ValueError, match=r"r\.jsonl:2: not valid JSON"):
        read_corpus({"jsonl": path})


def test_jsonl_line_without_src_text_names_file_and_line(tmp_path):
    path = write_bytes(tmp_path / "r.jsonl", jsonl({"doc_id": "a", "src_text": "x"}, {"doc_id": "b", "text": "y"}))
    with pytest.raises(ValueError, match=r"r\.jsonl:2: .*'src_text'"):
        read_corpus({"jsonl": path})


def test_jsonl_missing_reference_and_prefix_are_errors():
    with pytest.raises(ValueError, match=r"wmt25\.jsonl:2: document en-ru_RU_speech_1 has no reference 'refB'"):
        read_corpus({"jsonl": JSONL, "reference": "refB"})
    with pytest.raises(ValueError, match="no document with doc_id prefix 'cs-de_DE'"):
        read_corpus({"jsonl": JSONL, "doc_prefix": "cs-de_DE"})


def test_jsonl_invalid_utf8_document_is_dropped_and_counted(tmp_path):
    data = jsonl({"doc_id": "en-ja_1", "src_text": "one", "tgt_text": {"refA": "一つ"}},
                 {"doc_id": "en-ja_2", "src_text": "two", "tgt_text": {"refA": "二つ"}},
                 {"doc_id": "en-ja_3", "src_text": "three", "tgt_text": {"refA": "三つ"}})
    path = write_bytes(tmp_path / "r.jsonl", data.replace("二".encode(), b"\xe4\xba"))
    corpus = read_corpus({"jsonl": path, "reference": "refA"})
    assert corpus.pairs == [("one", "一つ"), ("three", "三つ")]
    assert corpus.invalid_utf8_lines == [2]


def test_jsonl_empty_file_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"e\.jsonl: file is empty"):
        read_corpus({"jsonl": write_bytes(tmp_path / "e.jsonl", b"\n")})


# --------------------------------------------------------------------------
# The spec itself.


def test_unknown_key_names_it_and_the_known_keys():
    with pytest.raises(ValueError) as err:
        read_corpus({"srcc": "a.en", "tgt": "a.de"}, where="data.corpora.en-de")
    assert str(err.value) == "data.corpora.en-de: unknown key 'srcc' (known: src, tgt, format)"


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"src": "a", "tgt": "b", "format": "csv"}, r"unknown format 'csv' \(known: auto, text, tsv, sgm, xml, wmt-jsonl\)"),
        ({"xml": "a.xml", "reference": "refA"}, r"'reference' must be true or false"),
        ({"xml": "a.xml", "translator": "A", "reference": False}, r"'translator' is set but 'reference' is false"),
        ({"tsv": "a.tsv", "src_col": "1"}, r"'src_col' must be a column index >= 0, got '1'"),
        ({"src": "a.en"}, r"missing key 'tgt' \(format 'text' needs: src, tgt\)"),
        ({"format": "xml"}, r"missing key 'xml'"),
        ({"src": 3, "tgt": "b"}, r"'src' must be a file path"),
        ({"path": "a.txt"}, r"cannot infer the format"),
        ({"tsv": "a.tsv", "xml": "b.xml"}, r"keys of several formats \(tsv, xml\)"),
        ({"src": "a.sgm", "tgt": "b.txt"}, r"one of 'src'/'tgt' is a \.sgm file"),
        ({"jsonl": "a.jsonl", "translator": "A"}, r"unknown key 'translator' \(known: jsonl, doc_prefix, reference, segment, format\)"),
        (["a.en", "a.de"], r"expected a mapping"),
    ],
)
def test_bad_specs_name_where_and_what(spec, message):
    with pytest.raises(ValueError, match=r"^data\.test\.en-zh: " + message):
        iter_raw_pairs(spec, where="data.test.en-zh")  # checked at the call, before any file is read


def test_spec_paths_lists_the_inputs(tmp_path):
    assert spec_paths({"src": "a.en.gz", "tgt": Path("a.zh")}) == ["a.en.gz", "a.zh"]
    assert spec_paths({"src": "a.en.sgm", "tgt": "a.zh.sgm"}) == ["a.en.sgm", "a.zh.sgm"]
    assert spec_paths({"tsv": "c.tsv", "tgt_col": 3}) == ["c.tsv"]
    assert spec_paths({"xml": "t.xml.xz", "translator": "A"}) == ["t.xml.xz"]
    assert spec_paths({"jsonl": "r.jsonl", "reference": None}) == ["r.jsonl"]


def test_normalize_spec_fills_defaults():
    assert normalize_spec({"tsv": "c.tsv"}) == {"format": "tsv", "tsv": "c.tsv", "src_col": 0, "tgt_col": 1}
    assert normalize_spec({"xml": "t.xml"}) == {"format": "xml", "xml": "t.xml", "translator": None, "reference": True}
    assert normalize_spec({"jsonl": "r.jsonl", "format": "auto"}) == {
        "format": "wmt-jsonl", "jsonl": "r.jsonl", "doc_prefix": "", "reference": None, "segment": "document"}


# --------------------------------------------------------------------------
# Streaming.


def _specs_with_an_invalid_pair(tmp_path) -> list[dict]:
    """One spec per format, each input with a pair that is not valid UTF-8 (pair 2)."""
    text_src = write_bytes(tmp_path / "s.en", b"one\ntwo\nthree\n")
    text_tgt = write_bytes(tmp_path / "t.zh", "一\n".encode() + b"\xff\n" + "三\n".encode())
    tsv = write_bytes(tmp_path / "c.tsv", "one\t一\n".encode() + b"\xfe\ttwo\n" + "three\t三\n".encode())
    sgm_src = write_bytes(tmp_path / "s.sgm", sgm("srcset", [b"one", b"\xff", b"three"]))
    sgm_tgt = write_bytes(tmp_path / "t.sgm", sgm("refset", ["一".encode(), "二".encode(), "三".encode()]))
    xml = xml_dataset(xml_doc("d", ["one", "two", "three"], {"A": ["一", "二", "三"]}))
    xml_path = write_bytes(tmp_path / "t.xml", xml.replace("二".encode(), b"\xe4"))
    records = [{"doc_id": f"d{i}", "src_text": text, "tgt_text": {"r": zh}}
               for i, (text, zh) in enumerate([("one", "一"), ("two", "二"), ("three", "三")])]
    jsonl_path = write_bytes(tmp_path / "r.jsonl", jsonl(*records).replace("二".encode(), b"\xe4"))
    return [
        {"src": text_src, "tgt": text_tgt},
        {"tsv": tsv},
        {"src": sgm_src, "tgt": sgm_tgt},
        {"xml": xml_path},
        {"jsonl": jsonl_path, "reference": "r"},
    ]


def test_streaming_yields_what_read_corpus_collects(tmp_path):
    for spec in _specs_with_an_invalid_pair(tmp_path):
        stream = list(iter_raw_pairs(spec))
        corpus = read_corpus(spec)
        assert all(isinstance(pair, RawPair) for pair in stream)
        assert [pair.line for pair in stream] == [1, 2, 3], spec
        assert [(p.src, p.tgt) for p in stream if p.valid] == corpus.pairs == [("one", "一"), ("three", "三")], spec
        assert [p.line for p in stream if not p.valid] == corpus.invalid_utf8_lines == [2], spec


def test_streaming_yields_pairs_before_a_count_mismatch_at_the_end(tmp_path):
    src = write_bytes(tmp_path / "s.ar", "واحد\nاثنان\nثلاثة\n".encode())
    tgt = write_bytes(tmp_path / "t.ru", "один\nдва\n".encode())
    stream = iter_raw_pairs({"src": src, "tgt": tgt})
    assert next(stream) == RawPair(1, "واحد", "один")
    assert next(stream) == RawPair(2, "اثنان", "два")
    with pytest.raises(ValueError, match=r"has 3 lines, .* has 2 lines"):
        next(stream)


def test_streaming_a_large_corpus_keeps_memory_flat(tmp_path):
    # Collecting 100k pairs would take megabytes; streaming them must not.
    import tracemalloc

    src = tmp_path / "big.en.gz"
    with gzip.open(src, "wb") as handle:
        handle.writelines(b"sentence number %d\n" % i for i in range(100_000))
    tracemalloc.start()
    try:
        count = sum(pair.valid for pair in iter_raw_pairs({"src": src, "tgt": src}))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_000
    assert peak < 1_000_000
