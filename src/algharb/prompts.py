"""Translation prompts in chat form, shared by training and generation.

One function builds the messages so that SFT, preference training, candidate
generation and the teacher all see exactly the same prompt.

A model entry may instead say how *its* prompt is built (``prompt:`` with a
:class:`PromptFormat`), so that a base model or a released checkpoint is
decoded with the prompt its authors document; :func:`render_prompt` is the one
function every generation backend renders a prompt with.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

from .config.section import ConfigError, Section, option

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


# The named fields a ``prompt.format`` string may use.
PROMPT_FIELDS = ("src", "source_language", "target_language", "src_lang", "tgt_lang")


@dataclass(frozen=True)
class PromptFormat(Section):
    r"""How a model entry's prompt is built (``models.<name>.prompt``).

    Three kinds: nothing set, the project's chat prompt (:func:`translation_messages`
    through the tokenizer's chat template); ``format``, a completion prompt
    rendered as is, e.g. the one Marco-MT-Algharb documents on its model card::

        Human: Please translate the following text into {target_language}: \n{src}<|im_end|>\nAssistant:

    or ``chat_template``, a Jinja chat template applied to the project's
    messages instead of the tokenizer's own. Literal braces in a format string
    are written ``{{`` and ``}}`` (Python's :meth:`str.format`).
    """

    format: str | None = option(
        None, "Python format string rendered as is, no chat template; fields {src}, {source_language}, "
              "{target_language} (display names), {src_lang}, {tgt_lang} (codes)")
    chat_template: str | None = option(
        None, "Jinja chat template, inline or a path to a file, applied to the project's messages instead of "
              "the tokenizer's own")
    language_names: dict = option(
        help="format only: language code → name for {source_language}/{target_language} (default: the project's)",
        factory=dict)

    def __post_init__(self):
        problems = prompt_problems(self.to_dict(), "prompt")
        if problems:
            raise ConfigError("; ".join(problems))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None, where: str = "prompt") -> "PromptFormat":
        """Parse and check a ``prompt`` entry; every problem names its key under ``where``."""
        if values is not None and not isinstance(values, Mapping):
            raise ConfigError(f"{where} must be a mapping with 'format' or 'chat_template', got {values!r}")
        problems = prompt_problems(values or {}, where)
        if problems:
            raise ConfigError("; ".join(problems))
        return super().from_dict(values, where)

    @property
    def kind(self) -> str:
        """``"chat"`` (the project's prompt), ``"format"`` or ``"chat_template"``."""
        if self.format is not None:
            return "format"
        return "chat_template" if self.chat_template is not None else "chat"

    @property
    def add_special_tokens(self) -> bool:
        """Whether the rendered text is tokenized with the tokenizer's own special tokens (BOS, ...).

        A chat template writes its BOS itself where the model wants one, so
        its text is tokenized without any (a second BOS otherwise). A format
        string gets the tokenizer's defaults, as a text prompt given to vLLM
        does: that is how the model card examples (Marco-MT-Algharb's among
        them) decode; Qwen tokenizers add nothing.
        """
        return self.kind == "format"

    @cached_property
    def template_text(self) -> str | None:
        """The ``chat_template`` itself: inline, or read from its file."""
        if self.chat_template is None or _is_inline_template(self.chat_template):
            return self.chat_template
        return Path(self.chat_template).read_text(encoding="utf-8")

    def identity(self) -> dict:
        """What decides the prompts (for cached outputs): the settings, and a template file's content."""
        identity = self.to_dict()
        if self.template_text is not None and self.template_text != self.chat_template:
            identity["chat_template_sha256"] = hashlib.sha256(self.template_text.encode("utf-8")).hexdigest()
        return identity

    def stop_token_ids(self, tokenizer) -> list[int]:
        r"""Ids of the tokenizer's special tokens written in a ``format`` string (none for the chat kinds).

        A model trained on a layout such as ``...{src}<|im_end|>\nAssistant:``
        closes its own turn with the same ``<|im_end|>``; stopping there holds
        even when the tokenizer's eos is another token (a base model's
        ``<|endoftext|>``).
        """
        if self.format is None:
            return []
        literal = "".join(text for text, *_ in string.Formatter().parse(self.format))
        added = getattr(tokenizer, "added_tokens_decoder", None) or {}
        return sorted(token_id for token_id, token in added.items()
                      if getattr(token, "special", False) and str(token) and str(token) in literal)

    def fields(self, source: str, src_lang: str, tgt_lang: str) -> dict[str, str]:
        """The values of a format string's fields."""
        def name(code: str) -> str:
            return self.language_names.get(code, language_name(code))

        return {"src": source, "source_language": name(src_lang), "target_language": name(tgt_lang),
                "src_lang": src_lang, "tgt_lang": tgt_lang}


def prompt_problems(values: Mapping[str, Any], where: str) -> list[str]:
    """What is wrong with a ``prompt`` entry (its known keys; unknown keys are the section's to name)."""
    text, template, names = values.get("format"), values.get("chat_template"), values.get("language_names")
    problems = []
    if text is not None and template is not None:
        problems.append(f"{where}: set 'format' or 'chat_template', not both")
    if text is not None:
        problems += [f"{where}.format: {p}" for p in _format_problems(text)]
    elif names:
        problems.append(f"{where}.language_names: only a 'format' prompt uses language names")
    if names is not None and not (isinstance(names, Mapping)
                                  and all(isinstance(k, str) and isinstance(v, str) for k, v in names.items())):
        problems.append(f"{where}.language_names: must map language codes to names (strings), got {names!r}")
    if template is not None:
        problems += [f"{where}.chat_template: {p}" for p in _template_problems(template)]
    return problems


def _format_problems(text: Any) -> list[str]:
    if not isinstance(text, str):
        return [f"must be a string, got {text!r}"]
    braces = "literal braces are written {{ and }}"
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as err:
        return [f"{text!r} is not a valid format string ({err}; {braces})"]
    problems = []
    unknown = sorted(fields - set(PROMPT_FIELDS))
    if unknown:
        shown = ", ".join("{" + field + "}" if field else "{} (positional)" for field in unknown)
        known = ", ".join("{" + field + "}" for field in PROMPT_FIELDS)
        problems.append(f"unknown field(s) {shown}; known: {known} ({braces})")
    if "src" not in fields:
        problems.append(f"{text!r} has no {{src}} field: the source text would never reach the model")
    if not problems:
        try:  # what parsing cannot see: a bad format spec, a nested field
            text.format(**{field: "x" for field in PROMPT_FIELDS})
        except (ValueError, IndexError, KeyError, AttributeError) as err:
            problems.append(f"{text!r} cannot be filled in ({type(err).__name__}: {err}; {braces})")
    return problems


def _is_inline_template(template: str) -> bool:
    """A Jinja template has tags (``{{ }}``, ``{% %}``); anything else is a file's path."""
    return "{{" in template or "{%" in template


def _template_problems(template: Any) -> list[str]:
    if not isinstance(template, str) or not template.strip():
        return [f"must be a Jinja template or a path to one, got {template!r}"]
    if _is_inline_template(template):
        text, origin = template, "inline template"
    else:
        path = Path(template)
        if not path.is_file():
            return [f"{template!r} is neither a Jinja template (no {{{{ }}}} or {{% %}} tags) nor an existing file"]
        text, origin = path.read_text(encoding="utf-8"), template
    return [f"{origin}: {p}" for p in jinja_syntax_problems(text)]


def jinja_syntax_problems(template: str) -> list[str]:
    """Syntax errors of a chat template, as the tokenizer's Jinja environment would parse it."""
    import jinja2
    from jinja2 import nodes
    from jinja2.ext import Extension

    class GenerationBlock(Extension):
        # Transformers' chat templates may mark the assistant's text with {% generation %}…{% endgeneration %}.
        tags = {"generation"}

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            return nodes.Scope(parser.parse_statements(("name:endgeneration",), drop_needle=True)).set_lineno(lineno)

    environment = jinja2.Environment(extensions=["jinja2.ext.loopcontrols", GenerationBlock])
    try:
        environment.parse(template)
    except jinja2.TemplateSyntaxError as err:
        return [f"Jinja syntax error at line {err.lineno}: {err.message}"]
    return []


def render_prompt(tokenizer, source: str, src_lang: str, tgt_lang: str, prompt: PromptFormat | None = None) -> str:
    """Prompt text for generation, the one way every backend renders it.

    By default (``prompt`` None or unset) the project's messages through the
    tokenizer's chat template with the assistant turn opened; a ``format``
    prompt is the string filled in (no tokenizer needed); a ``chat_template``
    one applies that template to the project's messages.
    """
    prompt = prompt or DEFAULT_PROMPT
    if prompt.format is not None:
        return prompt.format.format(**prompt.fields(source, src_lang, tgt_lang))
    if tokenizer is None:
        raise ValueError("rendering a chat prompt needs a tokenizer (its chat template); "
                         "only a 'format' prompt renders without one")
    return tokenizer.apply_chat_template(
        translation_messages(source, src_lang, tgt_lang),
        chat_template=prompt.template_text,  # None: the tokenizer's own
        tokenize=False,
        add_generation_prompt=True,
    )


DEFAULT_PROMPT = PromptFormat()
