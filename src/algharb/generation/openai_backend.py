"""The ``openai`` backend: an OpenAI-compatible chat endpoint (a vLLM server, a hosted teacher such as DeepSeek-V3)."""

from __future__ import annotations

import os

from ..config.section import ConfigError
from ..prompts import PromptFormat, render_prompt, translation_messages
from .backends import BACKENDS
from .http_client import ChatClient, Post
from .output import clean_output
from .sampling import Sampling, request_seed


@BACKENDS.register("openai")
class OpenAIBackend:
    """An OpenAI-compatible ``/chat/completions`` endpoint (vLLM server, hosted teacher).

    One request per source, sent through a :class:`~algharb.generation.http_client.ChatClient`:
    ``concurrency`` at a time, retried up to ``max_retries`` times, every reply
    kept in ``cache_dir`` when given (a rerun resumes). The API key is read from
    the environment variable named by ``api_key_env`` so that it never lands in
    a config file. The job's ``threads`` are not used (the server schedules its own).

    The server applies the model's chat template: by default it gets the
    project's messages; with a ``format`` prompt, the rendered string as the
    single user message (for a model served behind a chat API, whose template
    the format cannot replace). A ``chat_template`` prompt cannot reach a
    remote chat API and is refused.
    """

    def __init__(self, model: str, base_url: str, api_key_env: str = "OPENAI_API_KEY",
                 concurrency: int = 8, max_retries: int = 5, timeout_s: float = 120.0,
                 cache_dir: str | os.PathLike | None = None, post: Post | None = None, threads: int = 1,
                 prompt: PromptFormat | None = None):
        if prompt is not None and prompt.chat_template is not None:
            raise ConfigError("prompt.chat_template: the 'openai' backend sends chat messages and the server "
                              "applies its own template; use prompt.format, or serve the model with that template")
        self.model = model
        self.prompt = prompt
        self.client = ChatClient(base_url.rstrip("/") + "/chat/completions", os.environ.get(api_key_env, ""),
                                 concurrency=concurrency, max_retries=max_retries, timeout_s=timeout_s,
                                 cache_dir=cache_dir, post=post)

    def translate(self, sources, src_lang, tgt_lang, sampling: Sampling, progress=True):
        """Return ``len(sources)`` lists of ``sampling.n`` translations each, in source order."""
        bodies = [self._body(source, src_lang, tgt_lang, sampling) for source in sources]
        # A refusal can come back with no content; an empty candidate keeps the alignment.
        return [[clean_output(c["message"].get("content") or "") for c in reply["choices"]]
                for reply in self.client.replies(bodies, progress=progress)]

    def _body(self, source: str, src_lang: str, tgt_lang: str, sampling: Sampling) -> dict:
        return {
            "model": self.model,
            "messages": self._messages(source, src_lang, tgt_lang),
            "n": sampling.n,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_new_tokens,
            "seed": request_seed(sampling.seed, source, src_lang, tgt_lang),  # see request_seed
        }

    def _messages(self, source: str, src_lang: str, tgt_lang: str) -> list[dict[str, str]]:
        if self.prompt is None or self.prompt.format is None:
            return translation_messages(source, src_lang, tgt_lang)
        return [{"role": "user", "content": render_prompt(None, source, src_lang, tgt_lang, self.prompt)}]
