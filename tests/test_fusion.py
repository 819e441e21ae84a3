"""The fusion backend (Collab-MT, proxy-tuning): a weighted logit sum decoded with one KV cache per model."""

from __future__ import annotations

import pytest
import torch

from conftest import toy_rows

from algharb.config.section import ConfigError
from algharb.demo.lm import build_qwen3, build_tokenizer
from algharb.generation import FusionBackend, Sampling, TransformersBackend, load_backend, model_identity
from algharb.generation.fusion_backend import FusedDecoder, FusionMember
from algharb.prompts import PromptFormat, render_prompt

SOURCES = [row["src"] for row in toy_rows(7, seed=3, words=3)] + ["alpha beta gamma delta epsilon zeta eta theta"]
SAMPLED = {"temperature": 1.0, "top_p": 0.9, "n": 2, "max_new_tokens": 12, "seed": 5, "batch_size": 3}
GREEDY = {"max_new_tokens": 12, "batch_size": 3}
# The expert formats its prompt itself: members need not share a prompt, only the generated tokens.
EXPERT_PROMPT = PromptFormat.from_dict({"format": "Translate into {target_language}: {src}\n"})


def _model(root, tokenizer_dir, seed, name):
    return build_qwen3(tokenizer_dir, root / name, hidden_size=64, num_layers=1, num_heads=1, num_kv_heads=1,
                       head_dim=64, seed=seed)


@pytest.fixture(scope="module")
def models(tmp_path_factory, tiny_model_dir):
    """The session's tiny model as base, an expert and an anti-expert on its tokenizer, and a stranger."""
    from transformers import AutoModelForCausalLM

    root = tmp_path_factory.mktemp("fusion")
    expert = _model(root, tiny_model_dir, 11, "expert")
    # Embedding padded past the tokenizer, as Llama's and Qwen's are.
    padded = _model(root, tiny_model_dir, 12, "padded")
    model = AutoModelForCausalLM.from_pretrained(padded)
    model.resize_token_embeddings(model.config.vocab_size + 40, mean_resizing=False)
    model.save_pretrained(padded)
    build_tokenizer([row["src"] for row in toy_rows(100, seed=9)], root / "other_tok", vocab_size=300)
    stranger = _model(root, root / "other_tok", 13, "stranger")
    return {"base": str(tiny_model_dir), "expert": str(expert), "padded": str(padded), "stranger": str(stranger)}


def fusion(models, *terms, **options):
    return FusionBackend(models["base"], terms=[{"path": models[name], "weight": w, **extra}
                                                for name, w, *more in terms for extra in [more[0] if more else {}]],
                         **options)


def separate_log_probs(member: FusionMember, prompt: str, new_tokens: list[int], vocab: int):
    """The member alone, on the full prefix (no cache, no padding): its logits for every next token."""
    ids = member.encode([prompt], "cpu")["input_ids"][0].tolist()
    with torch.inference_mode():
        logits = member.model(input_ids=torch.tensor([ids + new_tokens])).logits[0]
    return logits[len(ids) - 1 :, :vocab].double()


@pytest.mark.parametrize("settings", [GREEDY, SAMPLED], ids=["greedy", "sampled"])
def test_each_step_is_the_softmax_of_the_weighted_sum_of_separate_runs(models, settings):
    backend = fusion(models, ("expert", 0.5, {"prompt": {"format": EXPERT_PROMPT.format}}), ("padded", -0.7))
    decoder, sampling = backend.decoder, Sampling.from_dict(settings)
    sources = SOURCES[:5]  # prompts of different lengths: left padding is exercised
    prompts = [[render_prompt(m.tokenizer, s, "qaa", "qab", m.prompt) for s in sources] for m in decoder.members]
    torch.manual_seed(0)
    tokens, recorded = decoder.generate(prompts, sampling, record=True)
    assert recorded.shape[-1] == decoder.vocab_size < decoder.members[2].logit_width
    for row in range(tokens.shape[0]):
        source = row // sampling.n
        new = tokens[row].tolist()
        ends = [t for t, token in enumerate(new) if token in decoder.stop_ids]
        steps = (ends[0] + 1) if ends else len(new)
        expected = sum(m.weight * separate_log_probs(m, prompts[i][source], new[: steps - 1], decoder.vocab_size)
                       for i, m in enumerate(decoder.members))
        torch.testing.assert_close(recorded[:steps, row].double(), torch.log_softmax(expected.float(), -1).double(),
                                   atol=2e-4, rtol=0)
    assert (tokens < decoder.vocab_size).all()  # the padded logits are never chosen


@pytest.mark.parametrize("settings", [GREEDY, SAMPLED], ids=["greedy", "sampled"])
def test_one_model_at_weight_one_reproduces_the_transformers_backend(models, settings):
    sampling = Sampling.from_dict(settings)
    expected = TransformersBackend(models["base"]).translate(SOURCES, "qaa", "qab", sampling, progress=False)
    fused = FusionBackend(models["base"]).translate(SOURCES, "qaa", "qab", sampling, progress=False)
    assert fused == expected
    # The cleaned texts of a random model may be empty; the token ids pin it down.
    backend = TransformersBackend(models["base"])
    prompts = [render_prompt(backend.tokenizer, s, "qaa", "qab") for s in SOURCES[:4]]
    enc = backend.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    sample = {"do_sample": False} if sampling.greedy else {"do_sample": True, "temperature": 1.0, "top_p": 0.9,
                                                           "top_k": 0}
    torch.manual_seed(1)
    reference = backend.model.generate(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                                       max_new_tokens=12, num_return_sequences=sampling.n, eos_token_id=backend.eos_ids,
                                       pad_token_id=backend.tokenizer.pad_token_id, **sample)
    torch.manual_seed(1)
    tokens = FusionBackend(models["base"]).decoder.generate([prompts], sampling)
    assert torch.equal(tokens, reference[:, enc["input_ids"].shape[1] :])


@pytest.mark.parametrize("settings", [GREEDY, SAMPLED], ids=["greedy", "sampled"])
def test_an_anti_expert_equal_to_its_expert_leaves_the_base_unchanged(models, settings):
    sampling = Sampling.from_dict(settings)

    def decode(*terms):
        decoder = fusion(models, *terms).decoder
        prompts = [[render_prompt(m.tokenizer, s, "qaa", "qab", m.prompt) for s in SOURCES] for m in decoder.members]
        torch.manual_seed(3)
        return decoder.generate(prompts, sampling, record=True)

    base_tokens, base_log_probs = decode()
    cancelled_tokens, cancelled_log_probs = decode(("expert", 1.0), ("expert", -1.0))
    assert torch.equal(cancelled_tokens, base_tokens) and torch.equal(cancelled_log_probs, base_log_probs)
    helped_log_probs = decode(("expert", 1.0))[1]
    assert not torch.allclose(helped_log_probs[0], base_log_probs[0])  # the expert alone does move the distribution


def test_a_vocabulary_mismatch_fails_before_decoding_naming_both_models(models, monkeypatch):
    monkeypatch.setattr(FusedDecoder, "generate", lambda *a, **k: pytest.fail("decoding started"))
    with pytest.raises(ConfigError) as error:
        fusion(models, ("expert", 0.5), ("stranger", 0.5))
    assert models["base"] in str(error.value) and models["stranger"] in str(error.value)


def test_the_naive_decoder_without_caches_decodes_the_same_tokens(models):
    backend = fusion(models, ("expert", 0.5), ("padded", 0.5))
    members = backend.members
    prompts = [[render_prompt(m.tokenizer, s, "qaa", "qab", m.prompt) for s in SOURCES] for m in members]
    sampling = Sampling.from_dict(GREEDY)
    cached = FusedDecoder(members, "cpu").generate(prompts, sampling)
    naive = FusedDecoder(members, "cpu", kv_cache=False).generate(prompts, sampling)
    assert torch.equal(cached, naive)


def test_terms_are_checked_naming_their_keys(models, tmp_path):
    with pytest.raises(ConfigError, match=r"options.terms\[0\].weight is missing"):
        FusionBackend(models["base"], terms=[{"path": models["expert"]}])
    with pytest.raises(ConfigError, match=r"options.terms\[1\] needs 'path' or 'hub'"):
        FusionBackend(models["base"], terms=[{"path": models["expert"], "weight": 1}, {"weight": 1}])
    with pytest.raises(ConfigError, match=r"options.terms\[0\].weight must be a number"):
        FusionBackend(models["base"], terms=[{"path": models["expert"], "weight": "half"}])
    with pytest.raises(FileNotFoundError, match="nowhere"):
        FusionBackend(models["base"], terms=[{"path": str(tmp_path / "nowhere"), "weight": 1}])


def test_fusion_is_built_from_a_model_entry_and_its_terms_enter_the_chunk_identity(models):
    entry = {"backend": "fusion", "path": models["base"],
             "options": {"terms": [{"path": models["expert"], "weight": 0.5}]}}
    backend = load_backend(entry)
    assert [m.weight for m in backend.members] == [1.0, 0.5]
    identity = model_identity(entry)
    assert list(identity["option_files"]) == [models["expert"]]
