"""A tiny Qwen3 language model built locally for the demo workflow.

No model hub is reachable, so the demo trains a byte-level BPE tokenizer on
its own corpus and initialises a small ``Qwen3ForCausalLM`` at random. Both are
saved as ordinary Hugging Face directories, so every later stage (SFT, CPO,
dynamic reward optimisation, generation) runs the same code paths as it would
for Qwen3-14B-Base.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import GenerationConfig, PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

from algharb.io import atomic_path

PAD_TOKEN = "<|endoftext|>"
TURN_START = "<|im_start|>"
TURN_END = "<|im_end|>"
SPECIAL_TOKENS = [PAD_TOKEN, TURN_START, TURN_END]

# Qwen's ChatML layout without a system turn. The prompt rendered with
# add_generation_prompt=True ends exactly where the assistant's content starts,
# so it is a prefix of prompt+completion (TRL relies on that for loss masking).
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Long enough for any demo prompt + translation; written to tokenizer_config.
MODEL_MAX_LENGTH = 4096


def build_tokenizer(texts: Iterable[str], out_dir: str | os.PathLike, vocab_size: int) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on ``texts`` and save it to ``out_dir``.

    Byte-level BPE (as in Qwen) encodes any Unicode string losslessly, so text
    in scripts the corpus never showed still round-trips. ``<|endoftext|>`` is
    the pad token and ``<|im_end|>`` the end-of-turn/eos token.
    """
    texts = list(texts)
    if not texts:
        raise ValueError("build_tokenizer: `texts` is empty; the BPE merges need a training corpus")
    minimum = len(pre_tokenizers.ByteLevel.alphabet()) + len(SPECIAL_TOKENS)
    if vocab_size < minimum:
        raise ValueError(f"build_tokenizer: vocab_size={vocab_size} is below the byte alphabet + specials ({minimum})")

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)

    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token=TURN_END,
        pad_token=PAD_TOKEN,
        additional_special_tokens=[TURN_START],
        chat_template=CHAT_TEMPLATE,
        model_max_length=MODEL_MAX_LENGTH,
        clean_up_tokenization_spaces=False,
    )
    with atomic_path(out_dir) as tmp:
        fast.save_pretrained(tmp)
    return fast


def build_qwen3(
    tokenizer_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    hidden_size: int = 128,
    num_layers: int = 2,
    num_heads: int = 2,
    num_kv_heads: int = 1,
    head_dim: int = 64,
    intermediate_size: int | None = None,
    max_position_embeddings: int = MODEL_MAX_LENGTH,
    dtype: str = "float32",
    seed: int = 0,
) -> Path:
    """Initialise a random ``Qwen3ForCausalLM`` and save it with its tokenizer.

    ``head_dim`` defaults to 64 because vLLM's CPU attention backend rejects
    smaller heads. ``intermediate_size`` defaults to 3 × hidden (Qwen3's ratio).
    The generation config stops at ``<|im_end|>`` so sampling ends with the
    assistant turn. Returns ``out_dir``.
    """
    tokenizer_path = Path(tokenizer_dir)
    if not (tokenizer_path / "tokenizer.json").is_file():
        raise FileNotFoundError(f"build_qwen3: tokenizer_dir {tokenizer_path} holds no tokenizer.json")
    if num_heads % num_kv_heads:
        raise ValueError(f"build_qwen3: num_heads={num_heads} is not a multiple of num_kv_heads={num_kv_heads}")
    tokenizer = PreTrainedTokenizerFast.from_pretrained(tokenizer_path)
    eos_id = tokenizer.convert_tokens_to_ids(TURN_END)
    pad_id = tokenizer.convert_tokens_to_ids(PAD_TOKEN)

    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size or 3 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        head_dim=head_dim,
        max_position_embeddings=max_position_embeddings,
        rope_theta=1_000_000.0,
        tie_word_embeddings=True,  # as in the small Qwen3 models; halves the demo's parameters
        bos_token_id=None,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        dtype=dtype,
    )
    # Seed the global generator only for the duration of the initialisation, so
    # that two builds with one seed give identical weights.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Qwen3ForCausalLM(config).to(getattr(torch, dtype))
    model.generation_config = GenerationConfig(
        bos_token_id=None, eos_token_id=eos_id, pad_token_id=pad_id, max_new_tokens=256
    )
    with atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return Path(out_dir)
