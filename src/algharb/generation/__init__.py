"""Generation backends: turn source sentences into one or more translations.

One interface, several engines, registered in :data:`BACKENDS` under the names
used in config (``models.<name>.backend``) and built by :func:`load_backend`:

- ``transformers`` (:mod:`.transformers_backend`): batched ``generate`` on CPU
  or GPU (the demo, and a fallback anywhere);
- ``vllm`` (:mod:`.vllm_backend`): offline ``vllm.LLM`` with ``n`` samples per
  prompt (the paper's engine for its 100 candidates);
- ``fusion`` (:mod:`.fusion_backend`): a base model plus weighted experts and
  anti-experts decoding one token stream from their summed logits (Collab-MT,
  proxy-tuning), one KV cache per model;
- ``openai`` (:mod:`.openai_backend`): any OpenAI-compatible chat endpoint (a
  vLLM server, or a hosted teacher such as DeepSeek-V3) through the HTTP
  client of :mod:`.http_client`, with a concurrency limit, retries and an
  optional on-disk cache of replies that makes a rerun resume.

Every backend builds its prompt through :func:`algharb.prompts.render_prompt`,
so the model sees at decoding time exactly the prompt it was trained on (or,
for a base model or released checkpoint, the entry's configured ``prompt``:
a format string or chat template, :class:`~algharb.prompts.PromptFormat`), decodes as a
:class:`Sampling` says (:mod:`.sampling`, with the seeds derived from it) and
cleans each reply with :func:`clean_output`.

:func:`translate_in_chunks` (:mod:`.chunks`) runs any backend over a long list
of sources in chunks kept on disk, so a killed job resumes from its last
finished chunk.
"""

from .backends import BACKENDS, Backend, load_backend
from .chunks import (CHUNK_FORMAT, TRANSPORT_OPTIONS, ChunkStore, chunk_fingerprint, model_identity,
                     translate_in_chunks)
from .http_client import ChatClient, ReplyCache, check_reply, retryable_status
from .output import clean_output
from .sampling import ChunkedGeneration, Sampling, batch_seed, request_seed

# Each backend module registers itself in BACKENDS when imported.
from .transformers_backend import TransformersBackend, stop_token_ids
from .vllm_backend import VllmBackend
from .openai_backend import OpenAIBackend
from .fusion_backend import FusionBackend, FusedDecoder

__all__ = [
    "BACKENDS",
    "Backend",
    "CHUNK_FORMAT",
    "FusedDecoder",
    "FusionBackend",
    "ChatClient",
    "ChunkedGeneration",
    "ChunkStore",
    "OpenAIBackend",
    "ReplyCache",
    "Sampling",
    "TRANSPORT_OPTIONS",
    "TransformersBackend",
    "VllmBackend",
    "batch_seed",
    "check_reply",
    "chunk_fingerprint",
    "clean_output",
    "load_backend",
    "model_identity",
    "request_seed",
    "retryable_status",
    "stop_token_ids",
    "translate_in_chunks",
]
