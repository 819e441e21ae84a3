"""Tests for algharb.steps.fetch (no network: file:// URLs and a stand-in for mtdata)."""

import json
import logging
from pathlib import Path

import pytest

from algharb.data import ingest
from algharb.io import read_lines
from algharb.steps import fetch
from algharb.steps.fetch import fetch_mtdata, fetch_wmt_jsonl, read_wmt_jsonl

JSONL = Path(__file__).parent / "data" / "ingest" / "wmt25.jsonl"


def test_read_wmt_jsonl_is_the_ingest_parser():
    assert read_wmt_jsonl is ingest.read_wmt_jsonl


def test_fetch_wmt_jsonl_writes_aligned_source_and_reference(tmp_path):
    fetch_wmt_jsonl(JSONL.as_uri(), "en-ar_EG", "refA", tmp_path / "test.src", tmp_path / "test.ref")
    assert read_lines(tmp_path / "test.src") == ["Hello world", "See you tomorrow"]
    assert read_lines(tmp_path / "test.ref") == ["مرحبا بالعالم", "أراك غدا"]


def test_fetch_wmt_jsonl_blind_writes_empty_references(tmp_path):
    fetch_wmt_jsonl(JSONL.as_uri(), "en-hi_IN", None, tmp_path / "test.src", tmp_path / "test.ref")
    assert read_lines(tmp_path / "test.src") == ["Thank you"]
    assert read_lines(tmp_path / "test.ref") == [""]


def test_fetch_wmt_jsonl_unknown_prefix_names_the_url_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match=r"wmt25\.jsonl: no document with doc_id prefix 'cs-de_DE'"):
        fetch_wmt_jsonl(JSONL.as_uri(), "cs-de_DE", None, tmp_path / "test.src", tmp_path / "test.ref")
    assert not (tmp_path / "test.src").exists()


def test_read_wmt_jsonl_accepts_bytes_and_warns_about_invalid_utf8(caplog):
    lines = [
        json.dumps({"doc_id": "en-ja_JP_1", "src_text": "Good\nmorning", "tgt_text": {"refA": "おはよう"}}).encode(),
        b'{"doc_id": "en-ja_JP_2", "src_text": "bad \xff", "tgt_text": {"refA": "x"}}',
        json.dumps({"doc_id": "en-ja_JP_3", "src_text": "Night"}).encode(),
    ]
    with caplog.at_level(logging.WARNING, logger=ingest.__name__):
        assert read_wmt_jsonl(lines, "en-ja_JP", None) == (["Good morning", "Night"], [])
    assert "left out 1 document(s)" in caplog.text and "lines 2" in caplog.text


def test_read_wmt_jsonl_bad_json_names_origin_and_line():
    with pytest.raises(ValueError, match=r"release\.jsonl:2: not valid JSON"):
        read_wmt_jsonl(['{"doc_id": "a", "src_text": "x"}', "{oops"], "", None, origin="release.jsonl")


def test_fetch_mtdata_moves_the_merged_files_into_place(tmp_path, monkeypatch):
    def fake_mtdata(command, check):
        out = Path(command[command.index("--out") + 1])
        (out / "train-merged").mkdir()
        (out / "train-merged" / "train.eng").write_text("Hello\n")
        (out / "train-merged" / "train.rus").write_text("Привет\n")

    monkeypatch.setattr(fetch.subprocess, "run", fake_mtdata)
    fetch_mtdata("eng-rus", ["Statmt-news_commentary-18.1-eng-rus"], tmp_path / "train.src", tmp_path / "train.tgt")
    assert read_lines(tmp_path / "train.src") == ["Hello"]
    assert read_lines(tmp_path / "train.tgt") == ["Привет"]


def test_fetch_mtdata_needs_datasets(tmp_path):
    with pytest.raises(ValueError, match="no mtdata datasets configured for eng-rus"):
        fetch_mtdata("eng-rus", [], tmp_path / "a", tmp_path / "b")


ALT_EN = "SNT.1.1\tHello  world.\nSNT.1.2\tBye.\nSNT.2.1\tNews today.\nSNT.3.1\tOnly English.\nSNT.10.1\tLate.\n"
ALT_JA = "SNT.1.1\tこんにちは。\nSNT.1.2\tさようなら。\nSNT.2.1\t今日のニュース。\nSNT.10.1\t遅い。\n"
ALT_URLS = {"train": "URL.1\thttp://a\nURL.10\thttp://d\n", "dev": "URL.2\thttp://b\n", "test": "URL.3\thttp://c\n"}


def test_alt_splits_by_article_and_keeps_sentences_of_both_languages():
    from algharb.steps.fetch import read_alt

    splits = read_alt({"en": ALT_EN, "ja": ALT_JA}, ALT_URLS)
    # Numeric order of articles and sentences; whitespace collapsed; article 3 has no Japanese.
    assert splits["train"] == {"en": ["Hello world.", "Bye.", "Late."], "ja": ["こんにちは。", "さようなら。", "遅い。"]}
    assert splits["dev"] == {"en": ["News today."], "ja": ["今日のニュース。"]}
    assert splits["test"] == {"en": [], "ja": []}


def test_alt_malformed_lines_name_the_file_and_line():
    from algharb.steps.fetch import read_alt

    with pytest.raises(ValueError, match=r"data_ja\.txt line 2"):
        read_alt({"en": ALT_EN, "ja": "SNT.1.1\tx\nnot an id\n"}, ALT_URLS)
    with pytest.raises(ValueError, match=r"URL-dev\.txt line 1"):
        read_alt({"en": ALT_EN, "ja": ALT_JA}, {**ALT_URLS, "dev": "2\thttp://b\n"})


def test_a_train_test_sample_is_seeded_disjoint_and_skips_repeats(tmp_path):
    from algharb.io import read_lines
    from algharb.steps.fetch import sample_train_test

    (tmp_path / "c.src").write_text("".join(f"s{i % 40}\n" for i in range(50)) + "\n")
    (tmp_path / "c.tgt").write_text("".join(f"t{i % 40}\n" for i in range(50)) + "x\n")
    out = {f"{split}_{side}": tmp_path / f"{split}.{side}" for split in ("train", "test") for side in ("src", "tgt")}
    summary = sample_train_test(tmp_path / "c.src", tmp_path / "c.tgt", 30, 5, seed=3, out=out)
    assert summary == {"train": 30, "test": 5, "pool": 40}
    train, test = read_lines(out["train_src"]), read_lines(out["test_src"])
    assert len(set(train) | set(test)) == 35 and [s.replace("s", "t") for s in test] == read_lines(out["test_tgt"])
    again = {k: tmp_path / f"again_{v.name}" for k, v in out.items()}
    sample_train_test(tmp_path / "c.src", tmp_path / "c.tgt", 30, 5, seed=3, out=again)
    assert read_lines(again["train_src"]) == train
    with pytest.raises(ValueError, match="40 distinct non-empty pairs, fewer than the 40 \\+ 5"):
        sample_train_test(tmp_path / "c.src", tmp_path / "c.tgt", 40, 5, seed=3, out=again)
