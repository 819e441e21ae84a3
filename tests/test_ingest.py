"""Tests for algharb.data.ingest."""

import gzip
import lzma

import pytest

from algharb.data.ingest import ParallelCorpus, read_parallel, read_tsv


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


def test_read_tsv_too_few_columns_names_file_and_line(tmp_path):
    path = write_bytes(tmp_path / "c.tsv", b"a\tb\nonly one column\n")
    with pytest.raises(ValueError, match=r"c\.tsv:2: 1 column"):
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
