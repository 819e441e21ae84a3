"""The ``fusion`` backend: several causal LMs decode one token stream from a weighted sum of their logits.

Two published methods are one formula with different terms:

- Collab-MT ("Collab-MT: small translation experts helping a large LLM at
  every decoding step", §3): ``p(x_t | x_<t) = softmax[L_M + Σ_k w_k · S_k]``,
  a large general model ``M`` plus small MT-fine-tuned experts ``S_k``;
- proxy-tuning (Liu et al. 2024, "Tuning language models by proxy", §2):
  ``softmax[L_M + (S_MT − S_M)]``, an expert at weight +1 and the same small
  model untuned (the anti-expert) at weight −1.

So a fusion entry is a base model plus a list of terms ``{path|hub, weight,
prompt}``; a negative weight makes an anti-expert. Every model keeps its own
KV cache and its own prompt (each may use its own chat template) while all
share the generated tokens: a step feeds one new token to each model. The
vocabularies must agree token for token; a model whose embedding matrix is
padded beyond its tokenizer (Llama's, Qwen's) has the padded logits masked,
since no tokenizer can produce or read those ids.

Decoding follows ``transformers``' own sampler operation for operation
(temperature, then top-p with the same cut, then one multinomial draw), so
a fusion of one model at weight 1 reproduces the ``transformers`` backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..config.section import ConfigError
from ..models import ModelSpec
from ..prompts import DEFAULT_PROMPT, PromptFormat, render_prompt
from .backends import BACKENDS
from .output import clean_output
from .sampling import Sampling
from .transformers_backend import generate_in_batches, stop_token_ids


@dataclass(frozen=True)
class FusionTerm:
    """One model of a fusion and its weight (the base model is the term of weight ``base_weight``)."""

    spec: ModelSpec
    weight: float

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], where: str) -> "FusionTerm":
        if not isinstance(values, Mapping):
            raise ConfigError(f"{where} must be a mapping {{path|hub, weight, prompt}}, got {values!r}")
        values = dict(values)
        if "weight" not in values:
            raise ConfigError(f"{where}.weight is missing: each fusion term needs its weight (negative: anti-expert)")
        weight = values.pop("weight")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise ConfigError(f"{where}.weight must be a number, got {weight!r}")
        spec = ModelSpec.from_dict(values, where=where)
        if spec.location is None:
            raise ConfigError(f"{where} needs 'path' or 'hub'")
        return cls(spec, float(weight))


def parse_terms(terms: Any, where: str = "options.terms") -> list[FusionTerm]:
    """The configured terms, each checked, every problem naming its key."""
    if not isinstance(terms, Sequence) or isinstance(terms, (str, bytes)):
        raise ConfigError(f"{where} must be a list of {{path|hub, weight}} entries, got {terms!r}")
    return [FusionTerm.from_dict(term, f"{where}[{index}]") for index, term in enumerate(terms)]


class FusionMember:
    """One model of the fusion: its tokenizer, weights, prompt format and stop tokens."""

    def __init__(self, reference: str, weight: float, prompt: PromptFormat | None, device: str, dtype):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.name = reference
        self.weight = weight
        self.prompt = prompt or DEFAULT_PROMPT
        self.tokenizer = AutoTokenizer.from_pretrained(reference, padding_side="left")
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(reference, dtype=dtype).to(device).eval()
        self.stop_ids = {*stop_token_ids(self.tokenizer, self.model.generation_config),
                         *self.prompt.stop_token_ids(self.tokenizer)}

    @property
    def logit_width(self) -> int:
        return self.model.get_output_embeddings().weight.shape[0]

    def encode(self, prompts: list[str], device: str) -> dict:
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True,
                             add_special_tokens=self.prompt.add_special_tokens)
        return {key: enc[key].to(device) for key in ("input_ids", "attention_mask")}


def check_vocabularies(members: list[FusionMember]) -> int:
    """The shared vocabulary size; any disagreement is an error naming both models.

    Tokenizers must map the same strings to the same ids. A model's logits may
    be wider than the tokenizer (embedding padded to a multiple of 64/128): the
    extra columns are cut off. Narrower means the model cannot score every
    token the others may emit.
    """
    base = members[0]
    base_vocab = base.tokenizer.get_vocab()
    size = len(base.tokenizer)
    for member in members[1:]:
        vocab = member.tokenizer.get_vocab()
        if vocab != base_vocab:
            differing = sorted(set(vocab.items()) ^ set(base_vocab.items()), key=lambda item: item[1])[:3]
            raise ConfigError(
                f"fusion: the tokenizers of {base.name!r} ({len(base_vocab)} tokens) and {member.name!r} "
                f"({len(vocab)} tokens) differ (e.g. {differing}); logits can only be added over one vocabulary")
    for member in members:
        if member.logit_width < size:
            raise ConfigError(
                f"fusion: {member.name!r} has {member.logit_width} output logits but the tokenizer of "
                f"{base.name!r} has {size} tokens; the model cannot score every token")
    return size


class FusedDecoder:
    """Batched decoding of a weighted logit sum, one KV cache per member.

    ``kv_cache=False`` re-runs every model on the whole prefix at each step:
    the naive fusion the benchmark compares against, and the reference the
    tests check the cached decoder with.
    """

    def __init__(self, members: list[FusionMember], device: str, kv_cache: bool = True):
        self.members = members
        self.device = device
        self.kv_cache = kv_cache
        self.vocab_size = check_vocabularies(members)
        self.stop_ids = sorted(set().union(*(member.stop_ids for member in members)))
        self.pad_id = members[0].tokenizer.pad_token_id

    def generate(self, prompts: list[list[str]], sampling: Sampling, record: bool = False):
        """New token ids per row (``len(prompts[0]) * n`` rows, each prompt's ``n`` samples together).

        ``prompts[i]`` are member ``i``'s prompts, one per source. With
        ``record`` also returns the fused log-probabilities of every step
        (``[steps, rows, vocab]``), which the tests compare with separate runs.
        """
        import torch

        states = [self._start(member, member_prompts, sampling.n) for member, member_prompts in
                  zip(self.members, prompts)]
        rows = states[0]["input_ids"].shape[0]
        stop = torch.tensor(self.stop_ids, device=self.device)
        unfinished = torch.ones(rows, dtype=torch.bool, device=self.device)
        generated, recorded = [], []
        with torch.inference_mode():
            for _ in range(sampling.max_new_tokens):
                scores = self._fused_logits(states)
                if record:
                    recorded.append(torch.log_softmax(scores, dim=-1))
                token = self._choose(scores, sampling)
                token = torch.where(unfinished, token, torch.full_like(token, self.pad_id))
                generated.append(token)
                unfinished &= ~torch.isin(token, stop)
                if not unfinished.any():
                    break
                for state in states:
                    self._advance(state, token)
        tokens = torch.stack(generated, dim=1) if generated else torch.empty(rows, 0, dtype=torch.long)
        return (tokens, torch.stack(recorded)) if record else tokens

    def _start(self, member: FusionMember, prompts: list[str], n: int) -> dict:
        enc = member.encode(prompts, self.device)
        # Samples of one source sit together, as num_return_sequences lays them out.
        enc = {key: value.repeat_interleave(n, dim=0) for key, value in enc.items()}
        return {"member": member, **enc, "past": None, "logits": None}

    def _fused_logits(self, states: list[dict]):
        # Summed in float64: float32 terms add exactly there, so an expert and its identical anti-expert
        # cancel to the bit and one model at weight 1 keeps its own logits.
        total = None
        for state in states:
            term = state["member"].weight * self._next_logits(state)[:, : self.vocab_size].double()
            total = term if total is None else total + term
        return total.float()

    def _next_logits(self, state: dict):
        """The member's logits for the next token, feeding only what its cache has not seen.

        ``logits_to_keep=1``: the LM head runs on the last position only, as
        ``generate()`` does; over a whole prompt it would cost more than the layers.
        """
        mask = state["attention_mask"]
        # Left padding: positions count real tokens only, as generate() computes them.
        positions = (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 1)
        if state["past"] is None or not self.kv_cache:
            inputs, position_ids = state["input_ids"], positions
        else:
            inputs, position_ids = state["input_ids"][:, -1:], positions[:, -1:]
        out = state["member"].model(input_ids=inputs, attention_mask=mask, position_ids=position_ids,
                                    past_key_values=state["past"] if self.kv_cache else None,
                                    use_cache=self.kv_cache, logits_to_keep=1)
        if self.kv_cache:
            state["past"] = out.past_key_values
        return out.logits[:, -1, :]

    def _advance(self, state: dict, token) -> None:
        import torch

        state["input_ids"] = torch.cat([state["input_ids"], token[:, None]], dim=1)
        state["attention_mask"] = torch.cat([state["attention_mask"], torch.ones_like(token[:, None])], dim=1)

    @staticmethod
    def _choose(scores, sampling: Sampling):
        import torch

        if sampling.greedy:
            return scores.argmax(dim=-1)
        scores = scores / sampling.temperature
        if sampling.top_p < 1.0:
            scores = top_p_filter(scores, sampling.top_p)
        return torch.multinomial(torch.softmax(scores, dim=-1), num_samples=1).squeeze(1)


def top_p_filter(scores, top_p: float):
    """Nucleus filtering as transformers' TopPLogitsWarper does it (same cut, ties and minimum of one token)."""
    import torch

    sorted_logits, sorted_indices = torch.sort(scores, descending=False)
    cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    remove_sorted = cumulative <= (1 - top_p)
    remove_sorted[..., -1:] = False
    remove = remove_sorted.scatter(1, sorted_indices, remove_sorted)
    return scores.masked_fill(remove, float("-inf"))


@BACKENDS.register("fusion")
class FusionBackend:
    """A base model plus weighted terms (Collab-MT experts, proxy-tuning expert/anti-expert pairs).

    Config (``models.<name>``)::

        backend: fusion
        hub: meta-llama/Llama-3.1-8B-Instruct        # the base model, weight base_weight (1)
        options:
          terms:
            - {path: results/collab/experts/en-ja/en_source, weight: 0.5}
            - {path: results/collab/experts/en-ja/en_target, weight: 0.5}

    Each term may carry its own ``prompt`` (default: the project's chat prompt
    through that model's own chat template).
    """

    def __init__(self, model: str, terms: Sequence[Mapping] = (), base_weight: float = 1.0, device: str = "auto",
                 threads: int = 1, dtype: str = "auto", prompt: PromptFormat | None = None):
        import torch

        torch.set_num_threads(threads)
        parsed = parse_terms(list(terms))
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        torch_dtype = torch.bfloat16 if (dtype == "auto" and self.device == "cuda") else torch.float32
        members = [FusionMember(model, float(base_weight), prompt, self.device, torch_dtype)]
        members += [FusionMember(term.spec.reference(), term.weight, term.spec.prompt, self.device, torch_dtype)
                     for term in parsed]
        self.decoder = FusedDecoder(members, self.device)

    @property
    def members(self) -> list[FusionMember]:
        return self.decoder.members

    def translate(self, sources, src_lang, tgt_lang, sampling: Sampling, progress=True):
        """``len(sources)`` lists of ``sampling.n`` translations each, in source order."""
        prompts = [[render_prompt(member.tokenizer, s, src_lang, tgt_lang, member.prompt) for s in sources]
                   for member in self.members]

        def generate(batch: list[int]) -> list[str]:
            tokens = self.decoder.generate([[member[i] for i in batch] for member in prompts], sampling)
            return [clean_output(t) for t in self.members[0].tokenizer.batch_decode(tokens, skip_special_tokens=True)]

        # Batched and seeded by the base model's prompts, as the transformers backend does.
        return generate_in_batches(prompts[0], sampling, generate, progress, desc="fused generate")
