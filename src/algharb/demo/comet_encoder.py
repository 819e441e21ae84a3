"""A randomly initialised XLM-R encoder with its own sentencepiece vocabulary, loadable by COMET offline.

Step 1 of the demo's COMET stand-ins (:mod:`algharb.demo.comet_standin`).
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Iterable

from algharb.io import atomic_path

# XLM-R's tokenizer maps sentencepiece ids onto fairseq ids and assumes the
# sentencepiece model has exactly unk=0, bos=1, eos=2 and no pad piece.
_SPM_SPECIAL_IDS = {"unk_id": 0, "bos_id": 1, "eos_id": 2, "pad_id": -1}
_ENCODER_MAX_TOKENS = 512


def build_encoder(
    texts: Iterable[str],
    out_dir: str | Path,
    vocab_size: int = 4000,
    hidden_size: int = 128,
    num_layers: int = 2,
    seed: int = 0,
    num_heads: int | None = None,
    max_sentences: int = 200_000,
) -> Path:
    """Train a sentencepiece vocabulary on ``texts`` and save a random XLM-R encoder.

    The folder holds what ``XLMRobertaTokenizerFast.from_pretrained`` and
    ``XLMRobertaModel.from_pretrained`` need (config, ``sentencepiece.bpe.model``,
    ``tokenizer.json``, weights), so COMET builds it with ``local_files_only``.
    ``vocab_size`` is an upper bound: a small corpus gets a smaller vocabulary.
    Returns ``out_dir``.
    """
    import sentencepiece as spm
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel, XLMRobertaTokenizerFast

    lines = [line.strip() for line in texts if line and line.strip()]
    if not lines:
        raise ValueError("build_encoder: texts is empty (need sentences to train a vocabulary)")
    if vocab_size < 16:
        raise ValueError(f"build_encoder: vocab_size={vocab_size} is too small (minimum 16)")
    if num_heads is None:
        num_heads = max(1, hidden_size // 64)
    if hidden_size % num_heads:
        raise ValueError(f"build_encoder: hidden_size={hidden_size} is not divisible by num_heads={num_heads}")

    out_dir = Path(out_dir)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        spm.set_random_generator_seed(seed)
        # Written from memory: with model_prefix the model would record the
        # temporary folder's random name and differ from run to run.
        model_bytes = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(random.Random(seed).sample(lines, min(len(lines), max_sentences))),
            model_writer=model_bytes,
            vocab_size=vocab_size,
            hard_vocab_limit=False,  # a small corpus cannot fill a fixed vocabulary
            model_type="unigram",
            character_coverage=0.9995,
            minloglevel=2,
            **_SPM_SPECIAL_IDS,
        )
        (tmp / "sentencepiece.bpe.model").write_bytes(model_bytes.getvalue())
        tokenizer = XLMRobertaTokenizerFast(
            vocab_file=str(tmp / "sentencepiece.bpe.model"), model_max_length=_ENCODER_MAX_TOKENS
        )
        # Saving writes tokenizer.json, so loading never reconverts the slow tokenizer.
        tokenizer.save_pretrained(tmp)
        config = XLMRobertaConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden_size,
            num_hidden_layers=num_layers,
            num_attention_heads=num_heads,
            intermediate_size=4 * hidden_size,
            max_position_embeddings=_ENCODER_MAX_TOKENS + 2,  # XLM-R offsets positions by pad_id + 1
            type_vocab_size=1,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
        torch.manual_seed(seed)
        XLMRobertaModel(config, add_pooling_layer=False).save_pretrained(tmp)
    return out_dir
