"""Tests for algharb.data.filters on hand-written multilingual pairs."""

import numpy as np
import pytest

from algharb.data.filters import (
    CopyFilter,
    DuplicateFilter,
    LanguageIDFilter,
    LengthFilter,
    LengthRatioFilter,
    NonAlphabeticFilter,
    build_filter,
    make_length_counter,
    non_alphabetic_share,
    qe_cutoff,
    qe_rejections,
)


class ScriptIdentifier:
    """A stand-in language identifier: guesses from the first letter's script."""

    def __init__(self, probability=0.9):
        self.probability = probability
        self.calls = []

    def predict(self, texts):
        self.calls.append(list(texts))
        labels = [self._guess(text) for text in texts]
        return labels, np.full(len(texts), self.probability, dtype=np.float32)

    @staticmethod
    def _guess(text):
        for ch in text:
            if "\u4e00" <= ch <= "\u9fff":
                return "zh"
            if "\u0400" <= ch <= "\u04ff":
                return "ru"
            if ch.isalpha():
                return "en"
        return "unknown"


# --- length -----------------------------------------------------------------


def test_length_counts_characters_for_unspaced_and_tokens_for_spaced():
    assert make_length_counter("en", "auto")("I love you") == 3
    assert make_length_counter("zh", "chars")("我爱你") == 3
    assert make_length_counter("ko", "auto")("사랑해요") == pytest.approx(4 / 1.8)
    assert make_length_counter("ru", "chars")("я тебя люблю") == 10


def test_length_rejects_empty_and_too_long_sides():
    rule = LengthFilter("en", "zh", min=1, max=5)
    assert rule.check("", "你好") == "length:src"
    assert rule.check("Hello", "") == "length:tgt"
    assert rule.check("one two three four five six", "一二三") == "length:src"
    assert rule.check("Hello", "好") is None  # one character rounds up to one word


def test_length_limit_for_chinese_is_in_word_equivalents():
    rule = LengthFilter("en", "zh", max=10)
    assert rule.check("Short.", "短" * 15) is None  # 15 chars = 10 words
    assert rule.check("Short.", "短" * 16) == "length:tgt"


# --- length_ratio -------------------------------------------------------------

ZH_EN = ("I went to school yesterday and then went home.", "我昨天去了学校，然后回家了。")
JA_EN = ("Thank you very much for your help.", "手伝っていただき、本当にありがとうございます。")


def test_chinese_and_japanese_translations_pass_the_ratio():
    assert LengthRatioFilter("en", "zh", max=2.0).check(*ZH_EN) is None
    assert LengthRatioFilter("en", "ja", max=2.0).check(*JA_EN) is None
    assert LengthRatioFilter("ja", "zh", max=2.0).check("私は学生です。", "我是学生。") is None
    assert LengthRatioFilter("en", "ko", max=2.0).check("I love you", "사랑해요") is None


def test_latin_runs_and_numbers_in_chinese_count_as_words():
    assert make_length_counter("zh", "auto")("iPhone 12的价格") == pytest.approx(2 + 3 / 1.5)
    rule = LengthRatioFilter("en", "zh", max=1.5)
    assert rule.check("The iPhone 15 costs 7999 yuan", "iPhone 15售价7999元") is None


def test_raw_character_ratio_would_wrongly_reject_chinese():
    assert LengthRatioFilter("en", "zh", max=2.0, unit="chars").check(*ZH_EN) == "length_ratio"


def test_length_ratio_rejects_mismatched_pairs():
    rule = LengthRatioFilter("en", "cs", max=3.0)
    assert rule.check("Hello", "Toto je úplně jiná a velmi dlouhá věta o ničem") == "length_ratio"
    assert rule.check("Good morning to you all", "Dobré ráno všem") is None
    assert rule.check("Hello", "") == "length_ratio"
    assert rule.check("", "") is None  # left to the length filter
    assert LengthRatioFilter("en", "zh", max=3.0).check("Yes", "好的，我明白了，我们明天再详细讨论这个问题吧。") == "length_ratio"


def test_chars_per_word_override():
    rule = LengthRatioFilter("en", "zh", max=2.0, chars_per_word={"zh": 0.5})
    assert rule.check(*ZH_EN) == "length_ratio"  # 14 chars now count as 28 words


# --- non_alphabetic -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "مرحبا بالعالم",  # Arabic
        "नमस्ते दुनिया",  # Hindi: vowel signs and virama are combining marks
        "Привіт, світе",  # Ukrainian
        "Tere hommikust",  # Estonian
        "안녕하세요",  # Korean
        "こんにちは、世界",  # Japanese
    ],
)
def test_letters_of_every_script_count_as_letters(text):
    assert non_alphabetic_share(text) < 0.2
    assert NonAlphabeticFilter("en", "en").check(text, text) is None


def test_digit_and_symbol_lines_are_non_alphabetic():
    rule = NonAlphabeticFilter("en", "ar", max_share=0.5)
    assert rule.check("123 456 789", "مرحبا") == "non_alphabetic:src"
    assert rule.check("Hello", "١٢٣٤ ٥٦٧") == "non_alphabetic:tgt"  # Arabic-Indic digits
    assert rule.check("Hello", "$$$ *** !!!") == "non_alphabetic:tgt"
    assert non_alphabetic_share("") == 0.0
    assert non_alphabetic_share("ab12") == 0.5


# --- copy -------------------------------------------------------------------------


def test_copy_catches_exact_and_near_copies():
    rule = CopyFilter("en", "cs")
    assert rule.check("Hello world", "hello  world!") == "copy"
    assert rule.check("The results are shown in Table 1", "The results are shown in Tabulka 1") == "copy"
    assert rule.check("...", "...") == "copy"


def test_copy_keeps_translations_sharing_names():
    rule = CopyFilter("en", "cs")
    assert rule.check("Barack Obama visited Berlin", "Barack Obama navštívil Berlín") is None
    assert CopyFilter("en", "zh").check("Hello", "你好") is None
    assert rule.check("!!!", "???") is None


# --- duplicate ----------------------------------------------------------------------


def test_duplicate_is_stateful_across_batches_and_keeps_the_first():
    rule = DuplicateFilter("en", "de")
    assert rule.check_batch(["a", "b", "a"], ["x", "y", "x"]) == [None, None, "duplicate"]
    assert rule.check_batch(["b", "a"], ["y", "z"]) == ["duplicate", None]


# --- language_id ----------------------------------------------------------------------


def test_language_id_checks_both_sides_in_order():
    rule = LanguageIDFilter("en", "zh_CN", ScriptIdentifier())
    reasons = rule.check_batch(["Hello", "你好", "Hi", "Good"], ["你好", "你好", "Hello", "Привет"])
    assert reasons == [None, "language_id:src", "language_id:tgt", "language_id:tgt"]


def test_language_id_probability_threshold_and_label_override():
    unsure = ScriptIdentifier(probability=0.4)
    assert LanguageIDFilter("en", "ru", unsure, min_prob=0.5).check("Hello", "Привет") == "language_id:src"
    assert LanguageIDFilter("en", "ru", unsure, min_prob=0.3).check("Hello", "Привет") is None
    strict_target = LanguageIDFilter("en", "ru", unsure, min_prob=0.3, tgt_min_prob=0.5)
    assert strict_target.check("Hello", "Привет") == "language_id:tgt"
    rule = LanguageIDFilter("en", "uk", ScriptIdentifier(), tgt_label="ru")
    assert rule.check("Hello", "Привіт") is None


def test_language_id_batches_and_skips_target_of_rejected_sources():
    identifier = ScriptIdentifier()
    rule = LanguageIDFilter("en", "ru", identifier, batch_size=2)
    rule.check_batch(["a", "b", "你", "d", "e"], ["д", "е", "ж", "з", "и"])
    assert [len(call) for call in identifier.calls] == [2, 2, 1, 2, 2]  # 5 sources, 4 targets


# --- building from config ---------------------------------------------------------------


def test_build_filter_reports_unknown_names_and_keys():
    with pytest.raises(ValueError, match="'lenght'"):
        build_filter("lenght", {}, "en", "de")
    with pytest.raises(ValueError, match="'max_len'"):
        build_filter("length", {"max_len": 3}, "en", "de")
    with pytest.raises(ValueError, match="length_ratio.max"):
        build_filter("length_ratio", {"max": "high"}, "en", "de")
    with pytest.raises(ValueError, match="length.unit"):
        build_filter("length", {"unit": "bytes"}, "en", "de")
    with pytest.raises(ValueError, match="language identifier"):
        build_filter("language_id", {}, "en", "de")


def test_build_filter_passes_parameters():
    rule = build_filter("non_alphabetic", {"max_share": 0.1}, "en", "de")
    assert rule.check("Hello 1", "Hallo") == "non_alphabetic:src"


# --- qe -------------------------------------------------------------------------------------


def test_qe_threshold_rejects_strictly_below():
    assert qe_rejections([0.5, 0.7, 0.69], threshold=0.7) == ["qe", None, "qe"]


def test_qe_quantile_rejects_lowest_share_with_stable_ties():
    assert qe_cutoff([0.9, 0.1, 0.5, 0.1], quantile=0.5).tolist() == [False, True, False, True]
    assert qe_cutoff([0.3, 0.3, 0.3], quantile=0.34).tolist() == [True, False, False]
    assert qe_cutoff(np.arange(100.0), quantile=0.29).sum() == 29
    assert not qe_cutoff([0.1, 0.2], quantile=0.0).any()


def test_qe_needs_exactly_one_mode_and_finite_scores():
    with pytest.raises(ValueError, match="exactly one"):
        qe_cutoff([0.1])
    with pytest.raises(ValueError, match="exactly one"):
        qe_cutoff([0.1], threshold=0.5, quantile=0.1)
    with pytest.raises(ValueError, match="#1"):
        qe_cutoff([0.1, float("nan")], threshold=0.5)
