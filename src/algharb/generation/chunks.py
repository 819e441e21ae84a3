"""Chunk storage: any backend over a long list of sources, ``chunk_size`` at a time, each finished chunk on disk.

A killed job resumes from its last finished chunk: a chunk file is reused
when its fingerprint (model, sampling, languages, chunk size and sources)
matches, so a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Mapping

from ..io import read_jsonl, write_jsonl
from ..models import ModelSpec
from .backends import load_backend
from .sampling import Sampling

log = logging.getLogger(__name__)

# Options that change how requests travel, not what comes back: a rerun may retune them and keep its chunks.
TRANSPORT_OPTIONS = frozenset({"api_key_env", "cache_dir", "concurrency", "max_retries", "timeout_s"})
# Bumped whenever the chunk files' layout changes, so older ones are regenerated rather than misread.
CHUNK_FORMAT = 1


def model_identity(spec: Mapping) -> dict:
    """What decides a model entry's outputs: the entry, and for a local path its files' sizes and mtimes.

    The entry as written, defaults not filled in: chunks already on disk were
    fingerprinted that way. A configured ``prompt`` enters parsed (with a
    template file's content hash), so an edited prompt regenerates the chunks
    it made. A model retrained in place
    (``results/models/cpo+dynamic``) keeps its path but must not reuse the old
    model's chunks. Hashing the weights would take minutes for a large model;
    rewriting a file changes its mtime.
    """
    model = ModelSpec.from_dict(spec)
    identity = {key: value for key, value in spec.items() if key not in ("options", "prompt")}
    identity["options"] = {k: v for k, v in model.options.items() if k not in TRANSPORT_OPTIONS}
    if model.prompt is not None:
        identity["prompt"] = model.prompt.identity()
    if model.path is not None:
        identity["files"] = file_stamps(Path(model.path))
    # Models named inside the options (a fusion's terms) decide the outputs as much as the entry's own.
    nested = {path: file_stamps(Path(path)) for path in nested_model_paths(model.options)}
    if nested:
        identity["option_files"] = nested
    return identity


def nested_model_paths(value) -> list[str]:
    """The ``path`` of every model entry nested in a backend's options, in order."""
    if isinstance(value, Mapping):
        own = [value["path"]] if isinstance(value.get("path"), str) else []
        return own + [p for key, item in value.items() if key != "path" for p in nested_model_paths(item)]
    if isinstance(value, (list, tuple)):
        return [p for item in value for p in nested_model_paths(item)]
    return []


def file_stamps(path: Path) -> list[list]:
    """``[name, bytes, mtime_ns]`` of the file ``path`` or of every file below it, hidden ones left out."""
    root = path if path.is_dir() else path.parent
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path] if path.is_file() else []
    stamps = []
    for file in files:
        name = file.relative_to(root).as_posix()
        if not (name.startswith(".") or "/." in name):  # e.g. Snakemake's .snakemake_timestamp
            stamp = file.stat()
            stamps.append([name, stamp.st_size, stamp.st_mtime_ns])
    return stamps


def chunk_fingerprint(settings: dict, chunk: list[str]) -> str:
    """SHA-256 of the run's settings and the chunk's sources: equal only if the chunk would come out the same."""
    sources = hashlib.sha256(json.dumps(chunk, ensure_ascii=False).encode("utf-8")).hexdigest()
    canonical = json.dumps({**settings, "sources_sha256": sources}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def translate_in_chunks(spec: Mapping, sources: list[str], src_lang: str, tgt_lang: str, sampling: Sampling, *,
                        chunk_size: int, chunk_dir: str | os.PathLike | None = None, threads: int = 1,
                        progress: bool = True) -> list[list[str]]:
    """``backend.translate`` of ``sources``, ``chunk_size`` at a time, each finished chunk kept in ``chunk_dir``.

    Chunk ``i`` (sources ``i·chunk_size`` onwards) is written atomically to
    ``chunk_dir/i.jsonl`` with a fingerprint of the model (see
    :func:`model_identity`), the sampling, the languages, ``chunk_size`` and
    its sources. A rerun reuses every chunk whose fingerprint matches and
    generates the rest; the model is loaded only if a chunk is missing. Every
    backend's samples depend only on the settings and the chunk (per-source
    seeds, or :func:`~algharb.generation.sampling.batch_seed`), so a resumed
    run equals an uninterrupted one. Without ``chunk_dir``: one ``translate``
    call, nothing kept.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be ≥ 1 (sources per chunk), got {chunk_size}")
    if not sources:
        return []
    if chunk_dir is None:
        return load_backend(spec, threads=threads).translate(sources, src_lang, tgt_lang, sampling, progress=progress)
    chunks = [sources[start : start + chunk_size] for start in range(0, len(sources), chunk_size)]
    settings = {"format": CHUNK_FORMAT, "model": model_identity(spec), "sampling": sampling.to_dict(),
                "src_lang": src_lang, "tgt_lang": tgt_lang, "chunk_size": chunk_size}
    store = ChunkStore(chunk_dir, settings, sampling.n)
    outputs = [store.read(index, chunk) for index, chunk in enumerate(chunks)]
    missing = [index for index, chunk_outputs in enumerate(outputs) if chunk_outputs is None]
    log.info("%s: %d of %d chunk(s) reused, %d to generate", chunk_dir, len(chunks) - len(missing), len(chunks),
             len(missing))
    if missing:
        from tqdm.auto import tqdm

        backend = load_backend(spec, threads=threads)
        for index in tqdm(missing, desc="chunks", disable=not progress):
            outputs[index] = backend.translate(chunks[index], src_lang, tgt_lang, sampling, progress=False)
            store.write(index, chunks[index], outputs[index])
    return [per_source for chunk_outputs in outputs for per_source in chunk_outputs]


class ChunkStore:
    """Finished chunks of one chunked generation: ``<index>.jsonl``, a header line then one line per source."""

    def __init__(self, directory: str | os.PathLike, settings: dict, n: int):
        self.directory = Path(directory)
        self.settings = settings
        self.n = n

    def path(self, index: int) -> Path:
        return self.directory / f"{index}.jsonl"

    def read(self, index: int, chunk: list[str]) -> list[list[str]] | None:
        """The chunk's outputs if a file made under the same settings holds them all, else None."""
        path = self.path(index)
        if not path.exists():
            return None
        try:
            header, *rows = read_jsonl(path)
            if header["fingerprint"] != chunk_fingerprint(self.settings, chunk):
                log.info("%s was made under other settings or sources; generating it again", path)
                return None
            return self.checked([row["outputs"] for row in rows], len(chunk))
        except (ValueError, KeyError, TypeError) as err:
            log.warning("ignoring unreadable chunk %s (%s); generating it again", path, err)
            return None

    def write(self, index: int, chunk: list[str], outputs: list[list[str]]) -> None:
        self.checked(outputs, len(chunk))
        header = {"fingerprint": chunk_fingerprint(self.settings, chunk), "chunk": index, "settings": self.settings}
        # Temporary file then rename: a killed job never leaves a chunk that reads as finished.
        write_jsonl(self.path(index), [header, *({"src": s, "outputs": o} for s, o in zip(chunk, outputs))])

    def checked(self, outputs: list[list[str]], count: int) -> list[list[str]]:
        """``outputs`` if they hold ``n`` strings for each of ``count`` sources, else ValueError."""
        if len(outputs) != count or not all(
            isinstance(texts, list) and len(texts) == self.n and all(isinstance(t, str) for t in texts)
            for texts in outputs
        ):
            raise ValueError(f"expected {self.n} translation(s) for each of {count} sources")
        return outputs
