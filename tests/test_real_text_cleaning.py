"""The rule filters on real human translations (CLDR names inside Babel): genuine pairs kept, noise caught."""

import importlib.util
from pathlib import Path

import pytest

from algharb.data.textstats import CHARS_PER_WORD, make_length_counter

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def check():
    spec = importlib.util.spec_from_file_location("real_text_cleaning", ROOT / "benchmarks" / "real_text_cleaning.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def results(check):
    return {row["pair"]: row for row in check.main(["--per-kind", "200"])}


def test_every_direction_of_the_paper_is_measured(check, results):
    assert list(results) == check.paper_pairs()
    for pair, row in results.items():
        if pair != "en-bho":  # CLDR has only a handful of Bhojpuri names
            assert row["genuine"] > 1000, pair
        assert set(row["recall"]) == set(check.NOISE_KINDS), pair


def test_genuine_pairs_are_kept_in_every_direction(check, results):
    for pair, row in results.items():
        assert row["kept"] >= check.TARGET_KEPT, (pair, row["lost_by"], row["lost"][:5])


def test_injected_noise_is_caught_in_every_direction(check, results):
    for pair, row in results.items():
        for kind, recall in row["recall"].items():
            assert recall >= check.TARGET_RECALL, (pair, kind)


def test_pairs_the_old_rules_rejected_are_genuine_and_kept(check, results):
    # Rejected before: length_ratio (a name against its transliteration),
    # non_alphabetic (years beside a four-character name), copy (case only).
    for pair, src, tgt in [("en-zh", "Albania", "阿尔巴尼亚"), ("en-ja", "Afghanistan", "アフガニスタン"),
                           ("en-zh", "Afghan Afghani (1927–2002)", "阿富汗尼 (1927–2002)"),
                           ("en-cs", "Adangme", "adangme"), ("en-et", "Afrihili", "afrihili")]:
        assert (src, tgt) in check.genuine_pairs(*pair.split("-"))[0], (pair, src)
        assert (src, tgt) not in {(lost_src, lost_tgt) for lost_src, lost_tgt, _ in results[pair]["lost"]}


def test_noise_is_seeded_and_labelled(check):
    pairs, _ = check.genuine_pairs("en", "de")
    first = check.noisy_corpus(pairs, "en", "de", per_kind=20, seed=3)
    assert first == check.noisy_corpus(pairs, "en", "de", per_kind=20, seed=3)
    assert first != check.noisy_corpus(pairs, "en", "de", per_kind=20, seed=4)
    lines, labels = first
    assert len(lines) == len(pairs) + 20 * len(check.NOISE_KINDS)
    assert lines[: len(pairs)] == pairs and set(labels[: len(pairs)]) == {"clean"}  # originals before repeats
    for (src, tgt), kind in zip(lines, labels):
        if kind == "untranslated_copy":
            assert src == tgt
        if kind == "length_outlier":
            length = make_length_counter("de", "auto")
            assert length(tgt) >= check.OUTLIER_FACTOR * max(length(src), 1)


def test_chars_per_word_table_is_the_cldr_measurement(check):
    for lang, row in check.calibrate().items():
        assert row["phrases"] >= 100, lang
        assert row["chars_per_word"] == pytest.approx(CHARS_PER_WORD[lang], abs=0.05), lang
