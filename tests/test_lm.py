"""The tiny demo tokenizer and Qwen3 model."""

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from algharb.demo.lm import PAD_TOKEN, TURN_END, TURN_START, build_qwen3, build_tokenizer
from algharb.prompts import completion_messages, render_prompt, translation_messages


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.mark.parametrize("text", ["alpha beta gamma", "  spaces\tand\nnew lines ", "Ünïcödé 中文 日本語 🙂", ""])
def test_tokenizer_round_trips_any_text(tokenizer, text):
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text


def test_special_tokens_are_single_ids(tokenizer):
    assert tokenizer.eos_token == TURN_END and tokenizer.pad_token == PAD_TOKEN
    for token in (PAD_TOKEN, TURN_START, TURN_END):
        assert tokenizer(token, add_special_tokens=False)["input_ids"] == [tokenizer.convert_tokens_to_ids(token)]


def test_tokenizer_saved_dir_reloads(tmp_path):
    built = build_tokenizer(["one two three", "four five"], tmp_path / "tok", vocab_size=300)
    reloaded = AutoTokenizer.from_pretrained(tmp_path / "tok")
    assert reloaded.get_vocab() == built.get_vocab()
    assert reloaded.chat_template == built.chat_template


def test_chat_template_is_prefix_consistent(tokenizer):
    prompt_messages = translation_messages("alpha beta", "qaa", "qab")
    prompt = render_prompt(tokenizer, "alpha beta", "qaa", "qab")
    full = tokenizer.apply_chat_template(prompt_messages + completion_messages("beta alpha"), tokenize=False)
    assert prompt.endswith(f"{TURN_START}assistant\n")
    assert full == prompt + f"beta alpha{TURN_END}\n"
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    full_ids = tokenizer(full, add_special_tokens=False)["input_ids"]
    assert full_ids[: len(prompt_ids)] == prompt_ids


def test_build_tokenizer_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="texts"):
        build_tokenizer([], tmp_path / "tok", vocab_size=300)
    with pytest.raises(ValueError, match="vocab_size"):
        build_tokenizer(["a"], tmp_path / "tok", vocab_size=10)


def test_model_loads_with_the_requested_shape(tiny_model_dir, tokenizer):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    config = model.config
    assert config.model_type == "qwen3"
    assert (config.hidden_size, config.num_hidden_layers, config.head_dim) == (64, 1, 64)
    assert config.vocab_size == len(tokenizer)
    ids = torch.tensor([tokenizer("alpha beta")["input_ids"]])
    assert model(input_ids=ids).logits.shape == (1, ids.shape[1], len(tokenizer))


def test_generation_config_stops_at_end_of_turn(tiny_model_dir, tokenizer):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert model.generation_config.eos_token_id == tokenizer.convert_tokens_to_ids(TURN_END)
    assert model.generation_config.pad_token_id == tokenizer.convert_tokens_to_ids(PAD_TOKEN)
    ids = torch.tensor([tokenizer(render_prompt(tokenizer, "alpha", "qaa", "qab"))["input_ids"]])
    out = model.generate(ids, max_new_tokens=4, do_sample=False)
    assert out.shape[1] <= ids.shape[1] + 4


def test_same_seed_same_weights_other_seed_differs(tiny_model_dir, tmp_path):
    tokenizer_dir = tiny_model_dir  # a model dir holds the tokenizer too
    kwargs = dict(hidden_size=64, num_layers=1, num_heads=1, num_kv_heads=1, head_dim=64)
    build_qwen3(tokenizer_dir, tmp_path / "a", seed=0, **kwargs)
    build_qwen3(tokenizer_dir, tmp_path / "b", seed=1, **kwargs)
    original = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    same = AutoModelForCausalLM.from_pretrained(tmp_path / "a").state_dict()
    other = AutoModelForCausalLM.from_pretrained(tmp_path / "b").state_dict()
    assert all(torch.equal(original[k], same[k]) for k in original)
    assert not torch.equal(original["model.embed_tokens.weight"], other["model.embed_tokens.weight"])


def test_build_qwen3_names_a_missing_tokenizer_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        build_qwen3(tmp_path / "nowhere", tmp_path / "model")
    assert not (tmp_path / "model").exists()
