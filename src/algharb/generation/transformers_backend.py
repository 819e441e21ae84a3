"""The ``transformers`` backend: batched ``model.generate`` on the CPU or one GPU (the demo; a fallback anywhere)."""

from __future__ import annotations

from ..prompts import DEFAULT_PROMPT, PromptFormat, render_prompt
from .backends import BACKENDS
from .output import clean_output
from .sampling import Sampling, batch_seed


def stop_token_ids(tokenizer, generation_config) -> list[int]:
    """The tokenizer's eos plus the generation config's, as vLLM stops at both."""
    extra = getattr(generation_config, "eos_token_id", None)
    extra = [extra] if isinstance(extra, int) else list(extra or [])
    return sorted({tokenizer.eos_token_id, *extra} - {None})


def generate_in_batches(prompts: list[str], sampling: Sampling, generate, progress: bool = True,
                        desc: str = "generate") -> list[list[str]]:
    """Per prompt, ``sampling.n`` texts from ``generate(batch indices)``, batched by prompt length.

    Sorting by length keeps padding (wasted compute) small inside a batch.
    Each batch is seeded from its prompts (:func:`batch_seed`), so a batch's
    samples do not depend on the batches before it; every local backend
    batches this way, which is why one model fused alone reproduces this one.
    """
    import torch
    from tqdm.auto import tqdm

    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    outputs: list[list[str] | None] = [None] * len(prompts)
    batches = [order[i : i + sampling.batch_size] for i in range(0, len(order), sampling.batch_size)]
    for batch in tqdm(batches, desc=desc, disable=not progress):
        torch.manual_seed(batch_seed(sampling.seed, [prompts[i] for i in batch]))
        texts = generate(batch)
        for slot, index in enumerate(batch):
            outputs[index] = texts[slot * sampling.n : (slot + 1) * sampling.n]
    return outputs


@BACKENDS.register("transformers")
class TransformersBackend:
    """Batched ``model.generate`` with left padding; CPU or a single GPU.

    Every backend returns, per source, ``n`` cleaned one-line translations.
    ``prompt`` (the entry's) says how prompts are rendered and tokenized.
    """

    def __init__(self, model: str, device: str = "auto", threads: int = 1, dtype: str = "auto",
                 prompt: PromptFormat | None = None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(threads)
        self.model_path = model
        self.prompt = prompt or DEFAULT_PROMPT
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        torch_dtype = torch.bfloat16 if (dtype == "auto" and self.device == "cuda") else torch.float32
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_path, padding_side="left")
        self.model = AutoModelForCausalLM.from_pretrained(self.model_path, dtype=torch_dtype)
        self.model.to(self.device).eval()
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.eos_ids = sorted({*stop_token_ids(self.tokenizer, self.model.generation_config),
                               *self.prompt.stop_token_ids(self.tokenizer)})

    def translate(self, sources, src_lang, tgt_lang, sampling: Sampling, progress=True):
        """Return ``len(sources)`` lists of ``sampling.n`` translations each."""
        prompts = [render_prompt(self.tokenizer, s, src_lang, tgt_lang, self.prompt) for s in sources]
        return generate_in_batches(prompts, sampling, lambda batch: self._generate([prompts[i] for i in batch],
                                                                                  sampling), progress)

    def _generate(self, prompts, sampling: Sampling) -> list[str]:
        import torch

        enc = self.tokenizer(prompts, return_tensors="pt", padding=True,
                             add_special_tokens=self.prompt.add_special_tokens)
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
