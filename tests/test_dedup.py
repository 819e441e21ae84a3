"""Tests for algharb.data.dedup: exact and near-duplicate keys, corpus-wide first-occurrence logic."""

import subprocess
import sys

import numpy as np
import pytest

from algharb.data.dedup import dedup_keys, dedup_reasons, gather_duplicates, later_occurrences, near_form
from algharb.data.dedup import save_dedup_keys


@pytest.mark.parametrize(
    "first, second",
    [
        ("Table 3: Results.", "table 12 results"),  # en: case, punctuation, numbers
        ("你好，世界！", "你好世界"),  # zh: full-width punctuation
        ("こんにちは、世界。", "こんにちは 世界"),  # ja
        ("안녕하세요, 세계!", "안녕하세요 세계"),  # ko
        ("Привет, мир!", "ПРИВЕТ МИР"),  # ru
        ("Привіт, світе!", "привіт світе"),  # uk
        ("Dobrý den, světe!", "dobrý den světe"),  # cs
        ("Tere, maailm!", "TERE MAAILM"),  # et
        ("مرحبا، يا عالم!", "مرحبا يا عالم"),  # ar
        ("नमस्ते, दुनिया!", "नमस्ते दुनिया"),  # hi
    ],
)
def test_near_duplicates_across_scripts(first, second):
    assert near_form(first, mask_digits=True) == near_form(second, mask_digits=True)


@pytest.mark.parametrize(
    "first, second",
    [
        ("काम करो", "कम करो"),  # hi: a vowel sign changes the word ("work" vs "less")
        ("Dobrý den", "Dobry den"),  # cs: diacritics are letters
        ("الكتاب", "الكاتب"),  # ar: different words
        ("我爱你", "你爱我"),  # zh: order matters
    ],
)
def test_different_words_are_not_near_duplicates(first, second):
    assert near_form(first, mask_digits=True) != near_form(second, mask_digits=True)


def test_digit_masking_is_optional():
    assert near_form("Room 101", mask_digits=False) != near_form("Room 102", mask_digits=False)
    assert near_form("Room 101", mask_digits=True) == near_form("Room 102", mask_digits=True)
    assert dedup_keys("near_duplicate", {}, ["Room 101"], ["x"]) == dedup_keys("near_duplicate", {}, ["Room 102"], ["x"])


def test_keys_are_stable_across_processes():
    # Shards are cleaned by separate jobs, so keys must not depend on Python's salted hash().
    code = ("from algharb.data.dedup import dedup_keys;"
            "print(int(dedup_keys('duplicate', {}, ['Hello'], ['Hallo'])[0]))")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert runs == {f"{int(dedup_keys('duplicate', {}, ['Hello'], ['Hallo'])[0])}\n"}


def test_side_selects_what_is_compared():
    srcs, tgts = ["a b", "a b", "c d"], ["x", "y", "x"]
    assert later_occurrences(dedup_keys("duplicate", {}, srcs, tgts)).tolist() == [False, False, False]
    assert later_occurrences(dedup_keys("duplicate", {"side": "src"}, srcs, tgts)).tolist() == [False, True, False]
    assert later_occurrences(dedup_keys("duplicate", {"side": "tgt"}, srcs, tgts)).tolist() == [False, False, True]


def test_pair_key_does_not_confuse_where_the_sides_split():
    keys = dedup_keys("duplicate", {}, ["a b", "a"], ["c", "b c"])
    assert keys[0] != keys[1]


def test_bad_options_name_the_key():
    with pytest.raises(ValueError, match="near_duplicate.side"):
        dedup_keys("near_duplicate", {"side": "both"}, ["a"], ["b"])
    with pytest.raises(ValueError, match=r"unknown key 'duplicate\.lowercase'"):
        dedup_keys("duplicate", {"lowercase": True}, ["a"], ["b"])


def test_exact_runs_before_near_and_first_occurrence_is_kept():
    srcs = ["Hello world.", "Hello world.", "hello world", "Bye.", "HELLO WORLD!"]
    tgts = ["Hallo Welt.", "Hallo Welt.", "hallo welt", "Tschüss.", "HALLO WELT!"]
    filters = [(name, dedup_keys(name, {}, srcs, tgts)) for name in ("duplicate", "near_duplicate")]
    assert dedup_reasons(filters) == ["", "duplicate", "near_duplicate", "", "near_duplicate"]
    assert dedup_reasons([]) == []


def test_gather_deduplicates_across_shards_in_order(tmp_path):
    shards = [(["a", "b"], ["x", "y"], [1, 2]), (["b", "A!"], ["y", "x"], [5, 7]), (["c"], ["z"], [9])]
    paths = []
    for index, (srcs, tgts, lines) in enumerate(shards):
        paths.append(tmp_path / f"{index}.npz")
        save_dedup_keys(paths[-1], lines, [(name, dedup_keys(name, {}, srcs, tgts))
                                           for name in ("duplicate", "near_duplicate")])
    lines, reasons = gather_duplicates(paths)
    assert lines.tolist() == [5, 7] and reasons == ["duplicate", "near_duplicate"]
    with pytest.raises(ValueError, match="increasing line order"):
        gather_duplicates([paths[1], paths[0]])
    save_dedup_keys(tmp_path / "other.npz", [11], [("duplicate", dedup_keys("duplicate", {}, ["q"], ["r"]))])
    with pytest.raises(ValueError, match="differ from the other shards"):
        gather_duplicates([paths[0], tmp_path / "other.npz"])
    empty_lines, empty_reasons = gather_duplicates([])
    assert empty_lines.size == 0 and empty_reasons == []


def test_later_occurrences_on_empty_keys():
    assert later_occurrences(np.zeros(0, dtype=np.uint64)).tolist() == []
