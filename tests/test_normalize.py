"""Tests for algharb.data.normalize."""

import pytest

from algharb.data.normalize import (
    base_language,
    fix_all_caps,
    is_unspaced,
    language_script,
    normalize,
    normalizer,
)


def test_chinese_keeps_fullwidth_punctuation_and_ellipsis():
    text = "你好，世界！（测试）：是吗？……"
    assert normalize(text, "zh") == text


def test_chinese_folds_fullwidth_letters_and_digits_to_ascii():
    assert normalize("ＧＤＰ增长了５％。", "zh_CN") == "GDP增长了5％。"


def test_chinese_never_gets_spaces_inserted():
    text = "我昨天去了学校，然后回家了。"
    assert " " not in normalize(text, "zh")
    # The ideographic space becomes an ordinary one; nothing is added.
    assert normalize("北京\u3000上海", "zh") == "北京 上海"


def test_japanese_halfwidth_katakana_becomes_fullwidth():
    assert normalize("ｶﾀｶﾅ｡", "ja") == "カタカナ。"


def test_latin_curly_quotes_apostrophes_dashes_and_ellipsis():
    text = "\u201cDon\u2019t\u201d \u2014 1990\u20122000 \u2212 \u2018ok\u2019\u2026"
    assert normalize(text, "en") == "\"Don't\" \u2014 1990-2000 - 'ok'..."


def test_czech_low_quotes_folded():
    assert normalize("\u201eAhoj\u201c, řekl.", "cs") == '"Ahoj", řekl.'


def test_cyrillic_keeps_guillemets_and_folds_curly_quotes():
    assert normalize("«Привет» \u2015 \u201cмир\u201d", "ru") == "«Привет» \u2014 \"мир\""


def test_ukrainian_modifier_apostrophe():
    assert normalize("м\u02bcясо", "uk") == "м'ясо"


def test_punctuation_not_folded_for_arabic_script():
    assert normalize("\u201cمرحبا\u201d", "ar") == "\u201cمرحبا\u201d"


def test_arabic_presentation_forms_are_unified():
    assert normalize("\ufee3\ufeae\ufea3\ufe92\ufe8e", "ar") == "مرحبا"


def test_control_and_invisible_characters():
    assert normalize("a\tb\nc\x00d\u200be\ufefff\x07", "en") == "a b cdef"


def test_zwnj_kept_for_persian_and_hindi():
    assert "\u200c" in normalize("می\u200cخواهم", "fa")
    assert normalize("क्\u200dष", "hi") == "क्\u200dष"


def test_whitespace_collapsed_and_stripped():
    assert normalize("  many \u00a0  spaces\u2009here  ", "et") == "many spaces here"


def test_fix_casing_all_caps_line_to_sentence_case():
    assert normalize("BREAKING NEWS: MARKETS FALL", "en", fix_casing=True) == "Breaking news: markets fall"
    assert normalize("ПРИВЕТ МИР", "ru", fix_casing=True) == "Привет мир"


def test_fix_casing_leaves_acronyms_mixed_case_and_default_off():
    assert normalize("NATO", "en", fix_casing=True) == "NATO"
    assert normalize("The NATO SUMMIT", "en", fix_casing=True) == "The NATO SUMMIT"
    assert normalize("BREAKING NEWS", "en") == "BREAKING NEWS"


def test_fix_casing_does_not_touch_uncased_scripts():
    assert normalize("北京 NATO SUMMIT", "zh", fix_casing=True) == "北京 NATO SUMMIT"
    assert fix_all_caps("123 456") == "123 456"


def test_language_codes_and_scripts():
    assert base_language("zh_CN") == "zh"
    assert base_language("pt-BR") == "pt"
    assert language_script("sr_Cyrl_RS") == "Cyrl"
    assert language_script("sr_Latn") == "Latn"
    assert language_script("hi") == "Deva"
    assert is_unspaced("ja") and is_unspaced("ko") and not is_unspaced("ru")


def test_unknown_language_is_an_error_naming_it():
    with pytest.raises(ValueError, match="'xx'"):
        normalize("text", "xx")


def test_normalizer_matches_normalize():
    norm = normalizer("cs", fix_casing=True)
    for text in ["\u201eDobrý den\u201c", "DOBRÝ DEN PŘÁTELÉ", "plain ascii"]:
        assert norm(text) == normalize(text, "cs", fix_casing=True)


def test_korean_keeps_its_spaces_and_folds_fullwidth_punctuation():
    assert normalize("안녕하세요,  세계！", "ko") == "안녕하세요, 세계!"


def test_estonian_quotes_and_hindi_danda():
    assert normalize("„Tere,” ütles ta…", "et") == '"Tere," ütles ta...'
    assert normalize("नमस्ते।  दुनिया", "hi") == "नमस्ते। दुनिया"
