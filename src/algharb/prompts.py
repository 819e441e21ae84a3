"""Translation prompts in chat form, shared by training and generation.

One function builds the messages so that SFT, preference training, candidate
generation and the teacher all see exactly the same prompt.
"""

from __future__ import annotations

# Display names used inside prompts. The demo's invented languages use ISO 639
# local-use codes (qaa–qtz); unknown codes fall back to the code itself.
LANGUAGE_NAMES = {
    "en": "English",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "arz": "Egyptian Arabic",
    "bho": "Bhojpuri",
    "cs": "Czech",
    "et": "Estonian",
    "ru": "Russian",
    "uk": "Ukrainian",
    "sr_Latn": "Serbian (Latin script)",
    "de": "German",
    "qaa": "Qaa",
    "qab": "Qab",
    "qac": "Qac",
}


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def split_pair(pair: str) -> tuple[str, str]:
    """``"en-zh"`` → ``("en", "zh")``; language codes may contain ``_`` but not ``-``."""
    parts = pair.split("-")
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"language pair {pair!r} must look like 'src-tgt', e.g. 'en-zh'")
    return parts[0], parts[1]


def translation_messages(source: str, src_lang: str, tgt_lang: str) -> list[dict[str, str]]:
    """The user turn asking for a translation of ``source``."""
    instruction = (
        f"Translate the following {language_name(src_lang)} text into "
        f"{language_name(tgt_lang)}.\n\n{source}"
    )
    return [{"role": "user", "content": instruction}]


def completion_messages(translation: str) -> list[dict[str, str]]:
    """The assistant turn holding a translation (SFT completion, chosen/rejected)."""
    return [{"role": "assistant", "content": translation}]


def render_prompt(tokenizer, source: str, src_lang: str, tgt_lang: str) -> str:
    """Prompt text for generation: chat template with the assistant turn opened."""
    return tokenizer.apply_chat_template(
        translation_messages(source, src_lang, tgt_lang),
        tokenize=False,
        add_generation_prompt=True,
    )
