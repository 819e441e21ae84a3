"""The generation backend registry and :func:`load_backend`, the one way a backend is built.

A backend is a class registered under its config name (``models.<name>.backend``)::

    @BACKENDS.register("my_engine")
    class MyEngineBackend:
        def __init__(self, model: str, threads: int = 1, **options): ...

        def translate(self, sources, src_lang, tgt_lang, sampling, progress=True) -> list[list[str]]:
            ...  # per source, ``sampling.n`` cleaned one-line translations (clean_output)

with its module imported by ``algharb/generation/__init__.py``. ``model`` is
the entry's path or hub id, ``threads`` the job's CPU threads, ``options``
the entry's ``options`` mapping. An entry with a ``prompt`` also passes
``prompt=`` (a :class:`~algharb.prompts.PromptFormat`); a backend taking one
renders every prompt with :func:`~algharb.prompts.render_prompt` and that format.
"""

from __future__ import annotations

import inspect
from typing import Mapping, Protocol

from ..config.section import ConfigError
from ..models import ModelSpec
from ..registry import Registry
from .sampling import Sampling


class Backend(Protocol):
    def translate(self, sources: list[str], src_lang: str, tgt_lang: str, sampling: Sampling,
                  progress: bool = True) -> list[list[str]]:
        """``len(sources)`` lists of ``sampling.n`` translations each, in source order."""


BACKENDS: Registry[type[Backend]] = Registry("generation backend")


def load_backend(spec: Mapping, threads: int = 1) -> Backend:
    """Build a backend from a config model entry ``{backend, path|hub, options}``.

    ``options`` are the backend's keyword arguments, e.g. ``base_url``,
    ``concurrency`` and ``cache_dir`` for ``openai``.
    """
    model = ModelSpec.from_dict(spec)
    backend = BACKENDS.get(model.backend, where="backend")
    options = dict(model.options)
    if "prompt" in options:
        raise ConfigError("options.prompt: a model entry's prompt is its own key (prompt:), not a backend option")
    if model.prompt is not None:
        # Passed only when configured: a backend written before prompts were configurable keeps working.
        if "prompt" not in inspect.signature(backend).parameters:
            raise ConfigError(f"prompt: the {model.backend!r} backend takes no configurable prompt")
        options["prompt"] = model.prompt
    return backend(model.reference(), threads=threads, **options)
