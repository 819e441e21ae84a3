"""What every backend does to a model's reply before returning it."""

from __future__ import annotations

import re

_THINK_BLOCK = re.compile(r"^\s*<think>.*?</think>", re.DOTALL)


def clean_output(text: str) -> str:
    """One line of translation: no reasoning block, no internal newlines.

    Qwen3's chat template puts an (empty) ``<think></think>`` block before the
    answer; outputs must also stay line-aligned with their sources.
    """
    return " ".join(_THINK_BLOCK.sub("", text, count=1).split())
