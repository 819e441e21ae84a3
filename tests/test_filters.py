"""Tests for the rule filters (algharb.data.filters), their counts (algharb.data.textstats) and the QE cut."""

import ast
import random
import re
from pathlib import Path

import numpy as np
import pytest

import algharb
from algharb.data.config import QEConfig
from algharb.data.filters import (
    FILTERS,
    CopyFilter,
    LanguageIDFilter,
    LengthFilter,
    LengthRatioFilter,
    NonAlphabeticFilter,
    build_filter,
    capitalised_share,
)
from algharb.data.lid import LANGUAGE_IDENTIFIERS
from algharb.data.qe import qe_cutoff
from algharb.data.textstats import (
    _ASCII_RUN,
    _NON_LETTER,
    _NONLETTER,
    _REFOLDS,
    _WORDCHAR,
    LineStats,
    TextColumn,
    _codepoint_tables,
    letter_weight,
    make_length_counter,
    non_alphabetic_share,
    select,
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
    assert (
        LengthRatioFilter("en", "zh", max=3.0).check("Yes", "好的，我明白了，我们明天再详细讨论这个问题吧。")
        == "length_ratio"
    )


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


@pytest.mark.parametrize(
    ("src", "tgt"),
    [
        ("Hong Kong", "Hongkong"),  # spacing
        ("Viet Nam", "Vietnam"),
        ("Saint Barthélemy", "Saint-Barthélemy"),  # hyphenation
        ("Saint Helena, Ascension and Tristan da Cunha", "Saint Helena, Ascension ja Tristan da Cunha"),  # "and"
        ("Adangme", "adangme"),  # Czech lower-cases language names
        ("Gwich'in", "gwich'in"),
    ],
)
def test_copy_keeps_short_names_spelt_almost_alike(src, tgt):
    assert decide(CopyFilter("en", "et"), src, tgt) is None
    assert decide(CopyFilter("en", "et", names_max_words=0), src, tgt) == "copy"  # the rule without the exception


@pytest.mark.parametrize(
    ("src", "tgt"),
    [
        ("Hong Kong", "Hong Kong"),  # an untranslated copy is the source itself
        ("Saint Helena", "SAINT HELENA"),  # or the source in capitals
        ("Hello world", "hello world!"),  # a sentence's first capital makes no name
        ("The results are shown in Table 1", "The results are shown in Tabulka 1"),  # mostly not names
        ("Paris London Berlin Madrid Rome Vienna Prague Warsaw Oslo", "Paris London Berlin Madrid Rome Vienna "
         "Prague Warsaw Oslo."),  # nine words: longer than names_max_words
    ],
)
def test_copy_still_catches_copies_of_names_and_sentences(src, tgt):
    assert decide(CopyFilter("en", "et"), src, tgt) == "copy"


def test_capitalised_share_skips_the_first_word_and_capitals():
    assert capitalised_share("Hong Kong SAR China") == pytest.approx(2 / 3)  # Kong, China; SAR is in capitals
    assert capitalised_share("Hello world") == 0.0
    assert capitalised_share("Adangme") == 1.0  # a single word is judged by itself
    assert capitalised_share("Saint Helena, Ascension and Tristan da Cunha") == pytest.approx(4 / 6)
    assert capitalised_share("1927–2002 !!") == 0.0


def test_copy_name_options_are_checked():
    with pytest.raises(ValueError, match="copy.names_max_words"):
        CopyFilter("en", "et", names_max_words=-1)
    with pytest.raises(ValueError, match="copy.names_min_share"):
        CopyFilter("en", "et", names_min_share=1.5)


# --- short segments: the length-ratio slack and weighted letters -------------------------


@pytest.mark.parametrize(
    ("tgt_lang", "src", "tgt"),
    [
        ("zh", "Albania", "阿尔巴尼亚"),  # 5 characters = 3.3 word equivalents against 1 word
        ("zh", "Micronesia", "密克罗尼西亚"),  # 4.0
        ("ja", "Liechtenstein", "リヒテンシュタイン"),  # 4.1
        ("ko", "Liechtenstein", "리히텐슈타인"),  # 3.3
    ],
)
def test_length_ratio_slack_keeps_a_name_against_its_transliteration(tgt_lang, src, tgt):
    assert decide(LengthRatioFilter("en", tgt_lang), src, tgt) is None
    assert decide(LengthRatioFilter("en", tgt_lang, slack=0), src, tgt) == "length_ratio"


def test_length_ratio_slack_is_added_to_max_times_the_shorter_side():
    rule = LengthRatioFilter("en", "de", max=3, slack=2)
    assert decide(rule, "one", "a b c d e") is None  # 5 <= 3 x 1 + 2
    assert decide(rule, "one", "a b c d e f") == "length_ratio"
    assert decide(rule, "one two three four five six seven eight nine ten", "a b c") is None  # 10 <= 11
    assert decide(rule, "one two three four five six seven eight nine ten eleven twelve", "a b c") == "length_ratio"
    assert decide(rule, "one", "") == "length_ratio"  # an empty side is no short segment
    with pytest.raises(ValueError, match="length_ratio.slack"):
        LengthRatioFilter("en", "de", slack=-1)


def test_letters_of_unspaced_languages_weigh_as_much_as_the_words_they_spell():
    assert letter_weight("zh") == pytest.approx(5.0 / 1.5)
    assert letter_weight("zh", letters_per_word=0) == 1.0
    assert letter_weight("de") == 1.0
    rule = NonAlphabeticFilter("en", "zh")
    # 4 letters, 11 non-letters: 0.73 counted plainly, 0.45 with each letter worth 3.3
    assert decide(rule, "Afghan Afghani (1927–2002)", "阿富汗尼 (1927–2002)") is None
    assert decide(NonAlphabeticFilter("en", "zh", letters_per_word=0), "Afghan Afghani (1927–2002)",
                  "阿富汗尼 (1927–2002)") == "non_alphabetic:tgt"
    # Debris of ASCII letters, digits and markup is counted plainly on a Chinese side too.
    assert decide(rule, "Table", "<td>123</td><td>4567</td>") == "non_alphabetic:tgt"
    assert non_alphabetic_share("<td>123</td><td>4567</td>", weight=3.3) == non_alphabetic_share(
        "<td>123</td><td>4567</td>")


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
    with pytest.raises(ValueError, match="unknown filter 'lenght'; registered: length, length_ratio, non_alphabetic, "
                                         "copy, language_id, duplicate, near_duplicate"):
        build_filter("lenght", {}, "en", "de")
    with pytest.raises(ValueError, match=r"'length\.max_len' \(did you mean 'max'\?\)"):
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


def test_filter_options_are_typed_sections_with_defaults_and_help():
    for name in FILTERS:
        options = FILTERS.get(name).Options
        assert all(help_text for _, _, help_text in options.describe()), name
    assert dict((key, default) for key, default, _ in FILTERS.get("length").Options.describe()) == {
        "min": 1, "max": 200, "unit": "auto"}
    assert LengthFilter("en", "de").max_length == 200.0


def test_registries_are_the_only_builders():
    """No code in the package builds a filter or a language identifier by its class: only through its registry."""
    package = Path(algharb.__file__).parent
    classes = {entry.__name__ for registry in (FILTERS, LANGUAGE_IDENTIFIERS) for entry in map(registry.get, registry)}
    offenders = [
        f"{path.relative_to(package)}:{node.lineno} calls {node.func.id}"
        for path in sorted(package.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in classes
    ]
    assert not offenders, offenders
    assert {"LengthFilter", "NearDuplicateFilter", "LanguageIdentifier"} <= classes


def quantile(share):
    return QEConfig(mode="quantile", quantile=share)


def test_qe_threshold_rejects_strictly_below():
    assert qe_cutoff([0.5, 0.7, 0.69], QEConfig(mode="threshold", threshold=0.7)).tolist() == [True, False, True]
    assert qe_cutoff([0.5, 0.7], QEConfig(threshold=0.6)).tolist() == [True, False]  # mode from the value given


def test_qe_quantile_rejects_lowest_share_with_stable_ties():
    assert qe_cutoff([0.9, 0.1, 0.5, 0.1], quantile(0.5)).tolist() == [False, True, False, True]
    assert qe_cutoff([0.3, 0.3, 0.3], quantile(0.34)).tolist() == [True, False, False]
    assert qe_cutoff(np.arange(100.0), quantile(0.29)).sum() == 29
    assert not qe_cutoff([0.1, 0.2], quantile(0.0)).any()
    # mode decides: the other value is ignored
    assert qe_cutoff([0.9, 0.1], QEConfig(mode="quantile", quantile=0.5, threshold=0.95)).tolist() == [False, True]


def test_qe_needs_one_checked_cut_and_finite_scores():
    with pytest.raises(ValueError, match="no QE cut"):
        qe_cutoff([0.1], QEConfig())
    with pytest.raises(ValueError, match="not both"):
        qe_cutoff([0.1], QEConfig(threshold=0.5, quantile=0.1))
    with pytest.raises(ValueError, match=r"clean\.qe\.threshold: expected a number for mode 'threshold'"):
        qe_cutoff([0.1], QEConfig(mode="threshold", quantile=0.1))
    with pytest.raises(ValueError, match=r"clean\.qe\.quantile: expected a share in \[0, 1\]"):
        qe_cutoff([0.1], quantile(1.5))
    with pytest.raises(ValueError, match=r"clean\.qe\.mode: 'best' is not one of"):
        qe_cutoff([0.1], QEConfig(mode="best"))
    with pytest.raises(ValueError, match="#1"):
        qe_cutoff([0.1, float("nan")], QEConfig(threshold=0.5))


# --- hand-written examples per language, both paths --------------------------------------


def decide(rule, src, tgt):
    """The rule's per-pair answer, after checking that the batch path (plain and shared counts) agrees."""
    expected = rule.check(src, tgt)
    assert rule.check_batch([src], [tgt]) == [expected]
    srcs, tgts = TextColumn(["", src]), TextColumn([tgt, ""])
    assert rule.check_batch(srcs.take([1]), tgts.take([0])) == [expected]
    return expected


@pytest.mark.parametrize(
    ("src_lang", "tgt_lang", "src", "tgt", "expected"),
    [
        ("en", "zh", "The weather is nice today.", "今天天气很好。", None),
        ("en", "ja", "I am a student.", "私は学生です。", None),
        ("en", "ko", "Thank you.", "감사합니다.", None),
        ("en", "ru", "Hello", "", "length:tgt"),
        ("uk", "en", "Добрий день, як справи?", "Good afternoon, how are you?", None),
        ("cs", "et", "Dobré ráno", "Tere hommikust", None),
        ("ar", "hi", "مرحبا " * 6, "नमस्ते", "length:src"),
        ("zh", "en", "好" * 10, "Good", "length:src"),  # 10 characters = 7 words
    ],
)
def test_length_in_many_languages(src_lang, tgt_lang, src, tgt, expected):
    assert decide(LengthFilter(src_lang, tgt_lang, min=1, max=5), src, tgt) == expected


@pytest.mark.parametrize(
    ("src_lang", "tgt_lang", "src", "tgt", "expected"),
    [
        ("en", "zh", "Where is the railway station?", "火车站在哪里？", None),
        ("en", "ja", "Yes", "はい、わかりました。明日また詳しく話し合いましょう。", "length_ratio"),
        ("ko", "en", "안녕하세요", "Hello there", None),
        ("ru", "uk", "Я люблю тебя", "Я тебе кохаю", None),
        ("cs", "et", "Ano", "Jah, ma saan sellest väga hästi aru ja nõustun täielikult", "length_ratio"),
        ("ar", "hi", "أين المحطة؟", "स्टेशन कहाँ है?", None),
        ("en", "ru", "Hello", "Привет", None),
    ],
)
def test_length_ratio_in_many_languages(src_lang, tgt_lang, src, tgt, expected):
    assert decide(LengthRatioFilter(src_lang, tgt_lang, max=3.0), src, tgt) == expected


@pytest.mark.parametrize(
    ("src", "tgt", "expected"),
    [
        ("我爱你", "Я тебя люблю", None),
        ("第1章 2019年 3月", "Глава 1", "non_alphabetic:src"),  # 7 of 10 non-space characters are digits
        ("こんにちは", "１２３４５！", "non_alphabetic:tgt"),  # full-width digits and punctuation
        ("안녕하세요", "Добрий день", None),
        ("Tere!", "Dobrý den!", None),
        ("نص عربي", "123 456 = 579", "non_alphabetic:tgt"),
        ("हिन्दी पाठ", "Český text", None),  # virama and vowel signs are letters
    ],
)
def test_non_alphabetic_in_many_languages(src, tgt, expected):
    assert decide(NonAlphabeticFilter("en", "en", max_share=0.5), src, tgt) == expected


@pytest.mark.parametrize(
    ("src", "tgt", "expected"),
    [
        ("Привет, мир!", "привет мир", "copy"),  # Cyrillic case folding
        ("Добрий ДЕНЬ", "добрий день.", "copy"),
        ("Dobrý den, jak se máte?", "DOBRÝ DEN, JAK SE MÁTE", "copy"),
        ("Tere hommikust, kuidas läheb täna", "Tere hommikust, kuidas läheb täna?", "copy"),
        ("مرحبا بالعالم", "مرحبا بالعالم", "copy"),
        ("नमस्ते दुनिया", "नमस्ते दुनिया!", "copy"),
        ("我爱你", "我爱你。", "copy"),
        ("私は学生です", "私は学生です。", "copy"),
        ("Straße in Berlin", "STRASSE IN BERLIN", "copy"),  # ß folds to ss
        ("ßßßß", "SSSSSSSS", "copy"),  # four refolding characters (a uint8 sum of 64s would wrap)
        ("The meeting is in Praha on Monday", "Schůzka je v Praha v pondělí", None),
        ("Hello world", "Привет мир", None),
        ("감사합니다", "Thank you", None),
        ("Москва 2024", "Moscow 2024", None),
    ],
)
def test_copy_in_many_languages(src, tgt, expected):
    assert decide(CopyFilter("en", "xx"), src, tgt) == expected


class ScriptsIdentifier(ScriptIdentifier):
    """ScriptIdentifier that also tells kana, hangul, Arabic and Devanagari apart."""

    @staticmethod
    def _guess(text):
        for ch in text:
            for first, last, lang in (
                ("\u3040", "\u30ff", "ja"),
                ("\uac00", "\ud7af", "ko"),
                ("\u0600", "\u06ff", "ar"),
                ("\u0900", "\u097f", "hi"),
            ):
                if first <= ch <= last:
                    return lang
        return ScriptIdentifier._guess(text)


@pytest.mark.parametrize(
    ("src_lang", "tgt_lang", "src", "tgt", "expected"),
    [
        ("zh", "ja", "你好", "こんにちは", None),
        ("ko", "ru", "안녕하세요", "Привет", None),
        ("ar", "hi", "مرحبا", "नमस्ते", None),
        ("ja", "ko", "안녕하세요", "안녕하세요", "language_id:src"),
        ("hi", "ar", "नमस्ते", "Hello", "language_id:tgt"),
        ("uk", "cs", "Привіт", "Ahoj", None),  # labels overridden below: the stand-in knows ru, en
        ("et", "uk", "Tere", "Tere", "language_id:tgt"),
    ],
)
def test_language_id_in_many_languages(src_lang, tgt_lang, src, tgt, expected):
    labels = {"uk": "ru", "cs": "en", "et": "en"}
    rule = LanguageIDFilter(
        src_lang, tgt_lang, ScriptsIdentifier(), src_label=labels.get(src_lang), tgt_label=labels.get(tgt_lang)
    )
    assert decide(rule, src, tgt) == expected


# --- the batch path against the per-pair definitions --------------------------------------

# Every script above, digits and symbols, case folds that change length or
# word boundaries (ß, İ, ligatures, ypogegrammeni), odd whitespace, a lone
# surrogate and astral characters.
ALPHABET = (
    "abcxyzABCXYZ0123456789 _.,!?-'\"%$ дом Дом ЁЁЇїє 我爱你，。！日本語です、사랑해요 नमस्ते ्ि مرحبا ١٢٣ ً "
    "ščřžýáÚŮ õäöü ßẞİıΣσςﬀﬁŉǰ\u0345\u0307 \t\n\r\x0b\x0c\x1c\x85\xa0\u2003\u3000\u200b 😀🇪 \ud800 \U000e0100"
)


def random_pairs(count, seed):
    rng = random.Random(seed)

    def text():
        if rng.random() < 0.1:
            return ""
        body = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 60)))
        return body + " " + body if rng.random() < 0.1 else body

    srcs = [text() for _ in range(count)]
    # Targets: unrelated, shouted copies, or half copies.
    tgts = [
        text() if rng.random() < 0.6 else src.upper() if rng.random() < 0.5 else src[: len(src) // 2] + text()
        for src in srcs
    ]
    # Lines past the packed counts' limits: over 1023 characters, over 1023 words.
    srcs += ["word " * 300, "a" * 5000 + " b", "a " * 5000, "x", "é" * 1100 + " b" * 500, "c d"]
    tgts += ["word " * 300, "a" * 5000 + " b", "a " * 4999, "y " * 3000, "e" * 1100 + " b" * 500, "c d"]
    return srcs, tgts


RULES = [
    rule
    for src_lang, tgt_lang in [("en", "zh"), ("ja", "ko"), ("ru", "uk"), ("cs", "et"), ("ar", "hi"), ("zh", "th")]
    for rule in [
        *(LengthFilter(src_lang, tgt_lang, min=2, max=20, unit=unit) for unit in ("auto", "chars", "tokens")),
        *(
            LengthRatioFilter(src_lang, tgt_lang, max=1.7, unit=unit, chars_per_word={"zh": 1.3})
            for unit in ("auto", "chars", "tokens")
        ),
        LengthRatioFilter(src_lang, tgt_lang, max=1.7, slack=0),
        NonAlphabeticFilter(src_lang, tgt_lang, max_share=0.3),
        NonAlphabeticFilter(src_lang, tgt_lang, max_share=0.3, letters_per_word=0),
        CopyFilter(src_lang, tgt_lang, max_overlap=0.5),
        CopyFilter(src_lang, tgt_lang),
        CopyFilter(src_lang, tgt_lang, names_max_words=0),
    ]
]


def test_batch_path_equals_check_on_random_multilingual_text():
    srcs, tgts = random_pairs(3000, seed=5)
    columns = TextColumn(srcs), TextColumn(tgts)
    subset = np.array(sorted(random.Random(1).sample(range(len(srcs)), 1500)))
    for rule in RULES:
        expected = [rule.check(src, tgt) for src, tgt in zip(srcs, tgts)]
        assert rule.check_batch(srcs, tgts) == expected, rule
        shared = rule.check_batch(columns[0].take(subset), columns[1].take(subset))
        assert shared == [expected[i] for i in subset], rule


def test_line_counts_equal_their_definitions():
    srcs, _ = random_pairs(2000, seed=6)
    stats = LineStats.of(srcs, runs=True)
    assert stats.chars.tolist() == [len(text) for text in srcs]
    assert stats.spaces.tolist() == [text.count(" ") for text in srcs]
    assert stats.tokens.tolist() == [len(text.split()) for text in srcs]
    assert stats.non_letters.tolist() == [len(_NON_LETTER.findall(text)) for text in srcs]
    assert stats.ascii_runs.tolist() == [len(_ASCII_RUN.findall(text)) for text in srcs]


def test_codepoint_classes_match_the_regexes_on_every_codepoint():
    classes, folded = _codepoint_tables()
    every = np.arange(0x110000, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")

    def matching(pattern):
        found = np.zeros(len(every), bool)
        for match in re.finditer(f"(?:{pattern})+", every):
            found[match.start() : match.end()] = True
        return found

    assert ((classes & _NONLETTER) > 0).tolist() == matching(_NON_LETTER.pattern).tolist()
    assert ((classes & _WORDCHAR) > 0).tolist() == matching(r"\w").tolist()
    assert folded[ord("Д")] == ord("д") and folded[ord("Σ")] == ord("σ") and classes[ord("ß")] & _REFOLDS


def test_text_column_shares_its_counts_with_subsets():
    column = TextColumn(["один два", "三", "a b c"])
    subset = column.take([2, 0])
    assert list(subset) == ["a b c", "один два"] and subset[1] == "один два" and len(subset) == 2
    assert subset.stats().tokens.tolist() == [3, 2]
    assert subset.stats().chars.tolist() == [5, 8]
    assert column.stats() is column.stats()  # counted once
    assert select(subset, [1]).stats().tokens.tolist() == [2]
