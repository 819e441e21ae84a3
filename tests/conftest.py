"""Shared fixtures: a tiny Qwen3 model, toy translation rows and the COMET stand-ins' synthetic language pair."""

from __future__ import annotations

import random

import pytest
import torch

torch.set_num_threads(1)

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma".split()


def toy_rows(n: int, seed: int = 0, words: int = 6) -> list[dict]:
    """``n`` translation rows whose target is the source reversed (qaa→qab) or copied (qab→qaa)."""
    rng = random.Random(seed)
    rows = []
    for index in range(n):
        src = " ".join(rng.choice(WORDS) for _ in range(words))
        reverse = index % 2 == 0
        tgt = " ".join(reversed(src.split())) if reverse else src
        rows.append(
            {
                "id": f"r{index}",
                "src": src,
                "tgt": tgt,
                "src_lang": "qaa" if reverse else "qab",
                "tgt_lang": "qab" if reverse else "qaa",
            }
        )
    return rows



def substitution_pairs(n: int, seed: int = 0, vocab: int = 150) -> list[tuple[str, str]]:
    """Random word sequences and their word-for-word "translations" through a fixed substitution table.

    The synthetic language pair the COMET stand-in tests train on: small enough
    for a one-layer encoder to learn in a few hundred steps.
    """
    rng = random.Random(seed)

    def word(letters: str) -> str:
        return "".join(rng.choice(letters) for _ in range(rng.randint(3, 7)))

    source_words = sorted({word("abcdefghiklmnop") for _ in range(vocab)})
    table = {w: word("qrstuvwxyzšđ") for w in source_words}
    pairs = []
    for _ in range(n):
        sentence = rng.choices(source_words, k=rng.randint(4, 12))
        pairs.append((" ".join(sentence), " ".join(table[w] for w in sentence)))
    return pairs


def tiny_comet_encoder(pairs: list[tuple[str, str]], directory, seed: int):
    """A one-layer, hidden-32 XLM-R encoder with a 400-piece vocabulary built from ``pairs``."""
    from algharb.demo.comet_encoder import build_encoder

    texts = [text for pair in pairs for text in pair]
    return build_encoder(texts, directory / "encoder", vocab_size=400, hidden_size=32, num_layers=1, seed=seed)

@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A 1-layer, hidden-64 Qwen3 with a ~400-token BPE vocabulary, built once per session."""
    from algharb.demo.lm import build_qwen3, build_tokenizer
    from algharb.prompts import translation_messages

    root = tmp_path_factory.mktemp("tiny_lm")
    texts = []
    for row in toy_rows(200, seed=1):
        texts.append(row["src"])
        texts.append(translation_messages(row["src"], row["src_lang"], row["tgt_lang"])[0]["content"])
    build_tokenizer(texts, root / "tokenizer", vocab_size=400)
    return build_qwen3(
        root / "tokenizer",
        root / "model",
        hidden_size=64,
        num_layers=1,
        num_heads=1,
        num_kv_heads=1,
        head_dim=64,
        seed=0,
    )


# Small, fast training settings shared by the trainer tests.
TINY_HPARAMS = {"global_batch_size": 8, "per_device_batch_size": 4, "warmup_ratio": 0.0, "max_length": 128}
TINY_LORA = {"lora_r": 8, "lora_alpha": 16}


def toy_pool(rows: list[dict]) -> list[dict]:
    """Candidate pools: the reference (teacher, QE 0.9), a duplicate of it, and two worse self samples."""
    return [
        {
            "id": row["id"],
            "src": row["src"],
            "src_lang": row["src_lang"],
            "tgt_lang": row["tgt_lang"],
            "candidates": [
                {"text": row["tgt"], "origin": "teacher", "qe": 0.9},
                {"text": row["tgt"], "origin": "self", "qe": 0.9},
                {"text": row["src"] + " pi", "origin": "self", "qe": 0.4},
                {"text": "rho", "origin": "self", "qe": 0.1},
            ],
        }
        for row in rows
    ]


class FakeGeneration:
    """Stands in for ``load_backend`` (as ``algharb.generation.chunks`` calls it) and the backend it returns.

    Translation ``j`` of a source names the source, ``j``, the language pair and
    the sampling, so outputs depend only on the settings and the source (as
    every real backend's do). Records each load (the spec) and each
    ``translate`` call (its sources); with ``fail_on_call = k`` the k-th call
    raises, as a job killed mid-run.
    """

    def __init__(self):
        self.loads, self.calls, self.fail_on_call = [], [], None

    def load(self, spec, threads=1):
        self.loads.append(spec)
        return self

    def translate(self, sources, src_lang, tgt_lang, sampling, progress=True):
        self.calls.append(list(sources))
        if len(self.calls) == self.fail_on_call:
            raise KeyboardInterrupt("killed")
        tag = f"{src_lang}>{tgt_lang} t{sampling.temperature} s{sampling.seed}"
        return [[f"{source} #{j} {tag}" for j in range(sampling.n)] for source in sources]


@pytest.fixture
def fake_generation(monkeypatch):
    fake = FakeGeneration()
    monkeypatch.setattr("algharb.generation.chunks.load_backend", fake.load)
    return fake
