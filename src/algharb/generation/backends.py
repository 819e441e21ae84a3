"""The generation backend registry and :func:`load_backend`, the one way a backend is built.

A backend is a class registered under its config name (``models.<name>.backend``)::

    @BACKENDS.register("my_engine")
    class MyEngineBackend:
        def __init__(self, model: str, threads: int = 1, **options): ...

        def translate(self, sources, src_lang, tgt_lang, sampling, progress=True) -> list[list[str]]:
            ...  # per source, ``sampling.n`` cleaned one-line translations (clean_output)

with its module imported by ``algharb/generation/__init__.py``. ``model`` is
the entry's path or hub id, ``threads`` the job's CPU threads, ``options``
the entry's ``options`` mapping.
"""

from __future__ import annotations

from typing import Mapping, Protocol

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
    return backend(model.reference(), threads=threads, **model.options)
