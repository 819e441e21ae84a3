"""Shard → clean → gather round trip: no pair lost or duplicated, order stable, same result as one shard."""

import json

import numpy as np
import pandas as pd
import pytest

from algharb.data.config import CleanConfig
from algharb.data.decisions import read_decisions
from algharb.data.ingest import RawPair
from algharb.data.shards import load_line_reasons, read_manifest, read_shard, save_line_reasons, shard_ids
from algharb.data.shards import write_shards
from algharb.io import read_jsonl
from algharb.steps import data as steps


def raw_pairs(n, invalid=()):
    for line in range(1, n + 1):
        if line in invalid:
            yield RawPair(line, None, f"t{line}")
        else:
            yield RawPair(line, f"source {line} \t tab", f"цель {line}")


def test_shards_cover_every_line_once_in_order(tmp_path):
    manifest = write_shards(raw_pairs(23, invalid={4, 20}), tmp_path / "raw", shard_size=10)
    assert manifest["shard"].tolist() == ["00000", "00001", "00002"] == shard_ids(tmp_path / "raw")
    assert manifest["lines"].tolist() == [10, 10, 3] and manifest["invalid_utf8"].tolist() == [1, 1, 0]
    lines, invalid = [], []
    for shard in shard_ids(tmp_path / "raw"):
        corpus = read_shard(tmp_path / "raw" / f"{shard}.jsonl")
        lines += corpus.line_numbers
        invalid += corpus.invalid_utf8_lines
        assert corpus.src[0].endswith("\t tab")  # text is carried verbatim; normalisation comes later
    assert sorted(lines + invalid) == list(range(1, 24)) and lines == sorted(lines)
    assert invalid == [4, 20]
    assert read_manifest(tmp_path / "raw").equals(manifest)


def test_a_failed_stream_leaves_no_shard_folder(tmp_path):
    def failing():
        yield RawPair(1, "a", "b")
        raise ValueError("line counts differ: a.en has 2 lines, a.de has 1 lines")

    with pytest.raises(ValueError, match="line counts differ"):
        write_shards(failing(), tmp_path / "raw", shard_size=1)
    assert not (tmp_path / "raw").exists() and list(tmp_path.iterdir()) == []


def test_shard_size_and_empty_input_are_checked(tmp_path):
    with pytest.raises(ValueError, match="clean.shard_size"):
        write_shards(raw_pairs(3), tmp_path / "raw", shard_size=0)
    with pytest.raises(ValueError, match="no lines"):
        write_shards(iter(()), tmp_path / "raw", shard_size=5)


def write_tsv_corpus(tmp_path, rows: list[bytes]) -> dict:
    (tmp_path / "c.tsv").write_bytes(b"".join(row + b"\n" for row in rows))
    return {"tsv": str(tmp_path / "c.tsv")}


def good_rows(n, start=0):
    return [f"a sentence number {i}\tvěta číslo {i}".encode() for i in range(start, start + n)]


def test_malformed_lines_are_sharded_counted_and_read_back_with_reasons(tmp_path):
    rows = good_rows(10)
    rows[2], rows[7] = b"a short row", b"bad \xff utf-8\tok"  # lines 3 and 8
    spec = write_tsv_corpus(tmp_path, rows)
    summary = steps.shard_corpus_step(spec, tmp_path / "raw", shard_size=5, max_malformed_share=0.2)
    assert summary == {"lines": 10, "shards": 2, "invalid_utf8": 1, "too_few_columns": 1}
    manifest = read_manifest(tmp_path / "raw")
    assert manifest["invalid_utf8"].tolist() == [0, 1] and manifest["too_few_columns"].tolist() == [1, 0]
    first, second = (read_shard(tmp_path / "raw" / f"{shard}.jsonl") for shard in shard_ids(tmp_path / "raw"))
    assert first.malformed_lines == {3: "too_few_columns"} and first.line_numbers == [1, 2, 4, 5]
    assert second.malformed_lines == {8: "invalid_utf8"} and second.line_numbers == [6, 7, 9, 10]
    assert json.loads((tmp_path / "raw" / "00000.jsonl").read_text().splitlines()[2]) == {
        "line": 3, "reason": "too_few_columns"}


def test_shards_without_reasons_read_as_invalid_utf8(tmp_path):
    (tmp_path / "00000.jsonl").write_text('{"line": 1, "src": "a", "tgt": "b"}\n{"line": 2}\n')
    assert read_shard(tmp_path / "00000.jsonl").malformed_lines == {2: "invalid_utf8"}


def test_malformed_lines_are_rejected_rows_of_the_decision_table_and_the_funnel(tmp_path):
    rows = good_rows(8)
    rows[1], rows[5] = b"no tab here", b"\xfe\xff\tbad"  # lines 2 and 6
    spec = write_tsv_corpus(tmp_path, rows)
    clean = {"filters": {"copy": {}}, "max_malformed_share": 0.25}
    steps.clean_corpus(spec, tmp_path / "out", "en", "cs", clean)
    decisions = read_decisions(tmp_path / "out" / "decisions.tsv")
    assert decisions["line"].tolist() == list(range(1, 9))
    rejected = decisions.loc[~decisions["kept"], ["line", "reason"]].values.tolist()
    assert rejected == [[2, "too_few_columns"], [6, "invalid_utf8"]]
    funnel = pd.read_csv(tmp_path / "out" / "funnel.tsv", sep="\t")
    counts = dict(zip(funnel["stage"], funnel["pairs"]))
    assert counts["removed:too_few_columns"] == 1 and counts["removed:invalid_utf8"] == 1
    assert counts["pairs_out"] == 6
    assert read_jsonl(tmp_path / "out" / "rejected.jsonl") == []  # no text to re-translate


def test_over_the_malformed_budget_fails_naming_file_key_and_first_lines(tmp_path):
    rows = good_rows(1000)
    for index in (9, 99, 499):
        rows[index] = b"short"
    rows[699] = b"\xff\tx"
    spec = write_tsv_corpus(tmp_path, rows)
    with pytest.raises(ValueError) as err:
        steps.shard_corpus_step(spec, tmp_path / "raw", shard_size=100, where="data.corpora.en-cs",
                                max_malformed_share=0.003)
    message = str(err.value)
    assert "data.corpora.en-cs" in message and "c.tsv" in message
    assert "4 of 1000 lines are malformed (0.4%: 1 invalid_utf8, 3 too_few_columns)" in message
    assert "clean.max_malformed_share = 0.003" in message
    assert ("10 (too_few_columns), 100 (too_few_columns), 500 (too_few_columns), 700 (invalid_utf8)"
            in message)
    assert not (tmp_path / "raw").exists()  # nothing that looks done
    # Exactly at the budget passes, whatever the shards: the share is the whole input's.
    summary = steps.shard_corpus_step(spec, tmp_path / "raw", shard_size=100, max_malformed_share=0.004)
    assert summary["too_few_columns"] == 3 and summary["invalid_utf8"] == 1


def test_a_zero_budget_refuses_one_malformed_line(tmp_path):
    rows = good_rows(50)
    rows[41] = b"short"
    spec = write_tsv_corpus(tmp_path, rows)
    with pytest.raises(ValueError, match=r"c\.tsv.*1 of 50 lines.*clean\.max_malformed_share = 0\b.*42 \(too_few"):
        steps.shard_corpus_step(spec, tmp_path / "raw", shard_size=10, max_malformed_share=0)
    steps.shard_corpus_step(write_tsv_corpus(tmp_path, good_rows(50)), tmp_path / "raw", 10, max_malformed_share=0)


def test_the_default_budget_is_the_config_default(tmp_path):
    rows = good_rows(999) + [b"short"]  # 0.1 %: passes; one more bad line fails
    steps.shard_corpus_step(write_tsv_corpus(tmp_path, rows), tmp_path / "a", shard_size=5000)
    rows[0] = b"short"
    with pytest.raises(ValueError, match="max_malformed_share = 0.001"):
        steps.shard_corpus_step(write_tsv_corpus(tmp_path, rows), tmp_path / "b", shard_size=5000)


def test_the_malformed_budget_is_checked_before_reading(tmp_path):
    with pytest.raises(ValueError, match=r"clean\.max_malformed_share: expected a share in \[0, 1\], got 1\.5"):
        write_shards(raw_pairs(3), tmp_path / "raw", shard_size=5, max_malformed_share=1.5)


def test_bad_shard_row_names_file_and_row(tmp_path):
    (tmp_path / "00000.jsonl").write_text('{"line": 1, "src": "a", "tgt": "b"}\nnot json\n')
    with pytest.raises(ValueError, match=r"00000.jsonl:2"):
        read_shard(tmp_path / "00000.jsonl")


def test_line_reasons_are_selected_by_range(tmp_path):
    save_line_reasons(tmp_path / "d.npz", np.array([9, 2, 5]), ["near_duplicate", "duplicate", "duplicate"])
    assert load_line_reasons(tmp_path / "d.npz") == {2: "duplicate", 5: "duplicate", 9: "near_duplicate"}
    assert load_line_reasons(tmp_path / "d.npz", 3, 9) == {5: "duplicate", 9: "near_duplicate"}
    save_line_reasons(tmp_path / "e.npz", np.array([], dtype=np.int64), [])
    assert load_line_reasons(tmp_path / "e.npz") == {}


# --- the workflow's steps on shards equal the single-shard run ------------------------------------

CLEAN = {
    "filters": {"length": {"max": 30}, "length_ratio": {"max": 3.0}, "non_alphabetic": {"max_share": 0.5},
                "copy": {}, "duplicate": {}, "near_duplicate": {}},
    "qe": {"mode": "quantile", "quantile": 0.2},
}


# The filters in config order, as clean_corpus (algharb clean) runs them; the workflow's
# rule_settings run them in name order.
RULES = CleanConfig.from_dict(CLEAN).filter_config("en-cs").to_dict()


class LengthScorer:
    """A stand-in QE model: longer targets score higher (deterministic, order-free)."""

    def score(self, srcs, tgts):
        return [len(tgt) / (1 + len(tgt)) for tgt in tgts]


ANIMALS = ["cats", "dogs", "owls", "bees", "cows", "pigs", "rats", "bats", "eels", "yaks", "emus", "gnus",
           "hens", "moths", "crabs", "seals", "wolves"]


def corpus_lines():
    """60 lines over 17 distinct sentences (so duplicates span shards), plus near copies and noise."""
    src, tgt = [], []
    for i in range(60):
        animal, long = ANIMALS[i % 17], " and more" * (i % 17 % 3)
        src.append(f"a sentence about {animal}{long}")
        tgt.append(f"věta o zvířeti {animal}{long.replace('and more', 'a další')}")
        if i % 7 == 3:
            src[-1], tgt[-1] = src[-1].upper() + "!", tgt[-1].capitalize() + "."
    src[7], tgt[7] = "12345 678 90", "12345 678 90"
    src[8], tgt[8] = "identical text here", "identical text here"
    return src, tgt


def write_corpus(tmp_path) -> dict:
    src, tgt = corpus_lines()
    (tmp_path / "c.en").write_text("\n".join(src) + "\n")
    (tmp_path / "c.cs").write_text("\n".join(tgt) + "\n")
    return {"src": str(tmp_path / "c.en"), "tgt": str(tmp_path / "c.cs")}


def run_sharded(tmp_path, spec, shard_size):
    base = tmp_path / f"sharded{shard_size}"
    steps.shard_corpus_step(spec, base / "raw", shard_size)
    shards = shard_ids(base / "raw")
    for shard in shards:
        steps.clean_shard_step(base / "raw" / f"{shard}.jsonl", base / shard / "rule.tsv", base / shard / "keys.npz",
                               "en", "cs", RULES, lid=None)
    steps.dedup_step([base / s / "keys.npz" for s in shards], base / "dup.npz")
    for shard in shards:
        steps.qe_scores_file(base / shard / "rule.tsv", base / shard / "qe.tsv", {}, 64, duplicates_path=base / "dup.npz",
                             scorer=LengthScorer())
    steps.qe_cutoff_step([base / s / "qe.tsv" for s in shards], base / "qe.npz", "en", "cs",
                         CleanConfig.from_dict(CLEAN).qe_for("en-cs").cut())
    for shard in shards:
        steps.finalize_shard_step(base / shard / "rule.tsv", base / shard / "kept.src", base / shard / "kept.tgt",
                                  base / shard / "rejected.tsv", base / shard / "decisions.tsv",
                                  duplicates_path=base / "dup.npz", scores_path=base / shard / "qe.tsv",
                                  qe_rejected_path=base / "qe.npz")
    steps.merge_shards_step([base / s / "decisions.tsv" for s in shards], "en", "cs", base / "decisions.tsv",
                            base / "clean.jsonl", base / "rejected.jsonl", base / "funnel.tsv")
    return base, shards


def test_sharded_steps_equal_one_shard_and_lose_nothing(tmp_path):
    spec = write_corpus(tmp_path)
    single = steps.clean_corpus(spec, tmp_path / "single", "en", "cs", CLEAN, qe_scorer=LengthScorer())
    base, shards = run_sharded(tmp_path, spec, shard_size=7)
    assert len(shards) == 9
    expected = read_decisions(tmp_path / "single" / "decisions.tsv")
    merged = read_decisions(base / "decisions.tsv")
    pd.testing.assert_frame_equal(merged, expected)
    assert merged["line"].tolist() == list(range(1, 61))
    # Cross-shard duplicates are caught: the corpus repeats 17 sentences.
    reasons = merged["reason"].value_counts()
    assert reasons["duplicate"] > 20 and reasons["near_duplicate"] > 0 and reasons["qe"] > 0
    assert {"copy", "non_alphabetic:src"} <= set(reasons.index)
    assert read_jsonl(base / "clean.jsonl") == read_jsonl(tmp_path / "single" / "clean.jsonl")
    assert read_jsonl(base / "rejected.jsonl") == read_jsonl(tmp_path / "single" / "rejected.jsonl")
    assert (base / "funnel.tsv").read_text() == (tmp_path / "single" / "funnel.tsv").read_text()
    assert single["kept"] == len(read_jsonl(base / "clean.jsonl"))
    kept_src = [line for s in shards for line in (base / s / "kept.src").read_text().splitlines()]
    assert kept_src == [row["src"] for row in read_jsonl(base / "clean.jsonl")]
    rejected = pd.concat([pd.read_csv(base / s / "rejected.tsv", sep="\t") for s in shards])
    assert len(rejected) + len(kept_src) == 60


def test_merge_refuses_shards_out_of_order(tmp_path):
    base, shards = run_sharded(tmp_path, write_corpus(tmp_path), 30)
    with pytest.raises(ValueError, match="corpus order"):
        steps.merge_shards_step([base / s / "decisions.tsv" for s in reversed(shards)], "en", "cs",
                                tmp_path / "d.tsv", tmp_path / "c.jsonl", tmp_path / "r.jsonl", tmp_path / "f.tsv")
    assert not (tmp_path / "d.tsv").exists() and not (tmp_path / "c.jsonl").exists()


def test_qe_scores_must_match_the_kept_pairs(tmp_path):
    base, shards = run_sharded(tmp_path, write_corpus(tmp_path), 30)
    with pytest.raises(ValueError, match="does not score exactly"):
        steps.finalize_shard_step(base / shards[0] / "rule.tsv", *(tmp_path / n for n in ("a", "b", "c", "d")),
                                  duplicates_path=base / "dup.npz", scores_path=base / shards[1] / "qe.tsv",
                                  qe_rejected_path=base / "qe.npz")


def test_everything_filtered_out_is_an_error(tmp_path):
    (tmp_path / "c.en").write_text("same\nsame\n")
    (tmp_path / "c.cs").write_text("same\nsame\n")
    with pytest.raises(ValueError, match="every pair was filtered out"):
        steps.clean_corpus({"src": str(tmp_path / "c.en"), "tgt": str(tmp_path / "c.cs")}, tmp_path / "o", "en",
                           "cs", {"filters": {"copy": {}}, "qe": {"threshold": 0.5}})


def test_shard_rows_are_json(tmp_path):
    write_shards(raw_pairs(2), tmp_path / "raw", shard_size=5)
    rows = [json.loads(line) for line in (tmp_path / "raw" / "00000.jsonl").read_text().splitlines()]
    assert rows[1] == {"line": 2, "src": "source 2 \t tab", "tgt": "цель 2"}
