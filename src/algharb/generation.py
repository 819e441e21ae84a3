"""Generation backends: turn source sentences into one or more translations.

One interface, several engines, keyed by the names used in config
(``models.<name>.backend``):

- ``transformers``: batched ``generate`` on CPU or GPU (the demo, and a
  fallback anywhere);
- ``vllm``: offline ``vllm.LLM`` with ``n`` samples per prompt (the paper's
  engine for its 100 candidates);
- ``openai``: any OpenAI-compatible chat endpoint (a vLLM server, or a hosted
  teacher such as DeepSeek-V3), with a concurrency limit and retries.

Every backend builds its prompt through :mod:`algharb.prompts`, so the model
sees at decoding time exactly the prompt it was trained on.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable

from .models import model_reference
from .prompts import render_prompt, translation_messages


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

    def translate(self, sources, src_lang, tgt_lang, sampling: Sampling, progress=True):
        """Return ``len(sources)`` lists of ``sampling.n`` translations each."""
        import torch
        from tqdm.auto import tqdm

        prompts = [render_prompt(self.tokenizer, s, src_lang, tgt_lang) for s in sources]
        # Sorting by length keeps padding (wasted compute) small inside a batch.
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        outputs: list[list[str] | None] = [None] * len(prompts)
        batches = [order[i : i + sampling.batch_size] for i in range(0, len(order), sampling.batch_size)]
        for batch_no, batch in enumerate(tqdm(batches, desc="generate", disable=not progress)):
            # Seed per batch so a rerun of a chunk reproduces the same samples.
            torch.manual_seed(sampling.seed + batch_no)
            texts = self._generate([prompts[i] for i in batch], sampling)
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
            eos_token_id=self.tokenizer.eos_token_id,
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
    """Offline vLLM: ``n`` samples per prompt in one ``generate`` call."""

    def __init__(self, model: str, tensor_parallel_size: int = 1, gpu_memory_utilization: float = 0.9,
                 max_model_len: int | None = None, seed: int = 0):
        try:
            from vllm import LLM
        except ImportError as err:
            raise ImportError(
                "the 'vllm' generation backend needs vLLM installed in this rule's environment "
                "(envs/vllm.yaml); use backend 'transformers' where it is not"
            ) from err
        self.llm = LLM(
            model=model,
            tensor_parallel_size=tensor_parallel_size,
            gpu_memory_utilization=gpu_memory_utilization,
            max_model_len=max_model_len,
            seed=seed,
        )
        self.tokenizer = self.llm.get_tokenizer()

    def translate(self, sources, src_lang, tgt_lang, sampling: Sampling, progress=True):
        from vllm import SamplingParams

        params = SamplingParams(
            n=sampling.n,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_new_tokens,
            seed=sampling.seed,
        )
        prompts = [render_prompt(self.tokenizer, s, src_lang, tgt_lang) for s in sources]
        results = self.llm.generate(prompts, params, use_tqdm=progress)
        return [[clean_output(c.text) for c in r.outputs] for r in results]


class OpenAIBackend:
    """An OpenAI-compatible ``/chat/completions`` endpoint (vLLM server, hosted teacher).

    Requests run ``concurrency`` at a time; a failed request is retried with
    exponential backoff. The API key is read from the environment variable
    named by ``api_key_env`` so that it never lands in a config file.
    """

    def __init__(self, model: str, base_url: str, api_key_env: str = "OPENAI_API_KEY",
                 concurrency: int = 8, max_retries: int = 5, timeout_s: float = 120.0,
                 post: Callable[[str, dict, dict, float], dict] | None = None):
        self.model = model
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.api_key = os.environ.get(api_key_env, "")
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self._post = post or _post_json

    def translate(self, sources, src_lang, tgt_lang, sampling: Sampling, progress=True):
        from tqdm.auto import tqdm

        def one(source: str) -> list[str]:
            body = {
                "model": self.model,
                "messages": translation_messages(source, src_lang, tgt_lang),
                "n": sampling.n,
                "temperature": sampling.temperature,
                "top_p": sampling.top_p,
                "max_tokens": sampling.max_new_tokens,
                "seed": sampling.seed,
            }
            reply = self._with_retries(body)
            return [clean_output(choice["message"]["content"]) for choice in reply["choices"]]

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(tqdm(pool.map(one, sources), total=len(sources), desc="request", disable=not progress))

    def _with_retries(self, body: dict) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.max_retries + 1):
            try:
                return self._post(self.url, body, headers, self.timeout_s)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                if attempt == self.max_retries:
                    raise RuntimeError(f"{self.url}: giving up after {attempt + 1} attempts ({err})") from err
                time.sleep(min(60.0, 2.0**attempt))
        raise AssertionError("unreachable")


def _post_json(url: str, body: dict, headers: dict, timeout_s: float) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return json.loads(response.read().decode("utf-8"))


BACKENDS = {"transformers": TransformersBackend, "vllm": VllmBackend, "openai": OpenAIBackend}


def load_backend(spec: dict, threads: int = 1):
    """Build a backend from a config model entry ``{backend, path|hub, ...options}``."""
    spec = dict(spec)
    name = spec.pop("backend", "transformers")
    if name not in BACKENDS:
        raise ValueError(f"unknown generation backend {name!r}; choose one of {sorted(BACKENDS)}")
    model = model_reference(spec)
    options = spec.get("options", {})
    if name == "transformers":
        return TransformersBackend(model, threads=threads, **options)
    return BACKENDS[name](model, **options)
