"""Configurable prompts per model entry (``models.<name>.prompt``, :class:`algharb.prompts.PromptFormat`).

The default stays the project's chat prompt, byte for byte; a ``format``
string (Marco-MT-Algharb's documented completion prompt) or a ``chat_template``
replaces it in every backend, and enters the fingerprint of cached chunks.
"""

import sys
from types import SimpleNamespace

import pytest

from algharb.config.section import ConfigError
from algharb.generation import (OpenAIBackend, Sampling, TransformersBackend, VllmBackend, load_backend,
                                model_identity, translate_in_chunks)
from algharb.models import ModelSpec
from algharb.prompts import PromptFormat, render_prompt, translation_messages

# As the Marco-MT-Algharb model card writes it (a Python f-string: the \n are newlines).
MARCO = "Human: Please translate the following text into {target_language}: \n{src}<|im_end|>\nAssistant:"
# A chat template of another layout than the tiny tokenizer's own (ChatML).
BRACKETS = ("{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
            "{% if add_generation_prompt %}[assistant] {% endif %}")


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_the_default_prompt_is_the_project_chat_prompt_byte_for_byte(tokenizer):
    """What every backend rendered before prompts were configurable (the demo's outputs depend on it)."""
    today = ("<|im_start|>user\nTranslate the following Qaa text into Qab.\n\nalpha beta<|im_end|>\n"
             "<|im_start|>assistant\n")
    assert render_prompt(tokenizer, "alpha beta", "qaa", "qab") == today
    assert render_prompt(tokenizer, "alpha beta", "qaa", "qab", None) == today
    assert render_prompt(tokenizer, "alpha beta", "qaa", "qab", PromptFormat()) == today
    assert today == tokenizer.apply_chat_template(translation_messages("alpha beta", "qaa", "qab"), tokenize=False,
                                                  add_generation_prompt=True)
    assert PromptFormat().kind == "chat" and not PromptFormat().add_special_tokens
    assert ModelSpec.from_dict({"hub": "owner/name"}).prompt is None
    assert ModelSpec.from_dict({"hub": "owner/name", "prompt": None}).prompt is None


def test_the_marco_format_renders_the_documented_prompt():
    marco = ModelSpec.from_dict({"hub": "ATH-MaaS/Marco-MT-Algharb", "backend": "vllm", "prompt": {"format": MARCO}},
                                where="models.marco").prompt
    assert marco.kind == "format" and marco.add_special_tokens
    source = "The weather is nice today."
    assert render_prompt(None, source, "en", "zh", marco) == (
        "Human: Please translate the following text into Chinese: \nThe weather is nice today.<|im_end|>\nAssistant:")
    # The model card's own language names (lower case) through language_names.
    lowercase = PromptFormat.from_dict({"format": MARCO, "language_names": {"zh": "chinese"}})
    assert render_prompt(None, source, "en", "zh", lowercase).startswith(
        "Human: Please translate the following text into chinese: \n")
    every_field = PromptFormat(format="{source_language}>{target_language} {src_lang}>{tgt_lang} {{{src}}}")
    assert render_prompt(None, "x", "en", "sr_Latn", every_field) == "English>Serbian (Latin script) en>sr_Latn {x}"


@pytest.mark.parametrize("prompt, message", [
    ({"format": "Translate into {target_language}: {text}"},
     r"models\.marco\.prompt\.format: unknown field\(s\) \{text\}; known: \{src\}.*"
     r"models\.marco\.prompt\.format: .* has no \{src\} field"),
    ({"format": "Translate: {}"}, r"models\.marco\.prompt\.format: unknown field\(s\) \{\} \(positional\)"),
    ({"format": "Translate {src.upper}"}, r"models\.marco\.prompt\.format: unknown field\(s\) \{src\.upper\}"),
    ({"format": "Translate {src"}, r"models\.marco\.prompt\.format: .* is not a valid format string"),
    ({"format": "Translate {src:%Y}"}, r"models\.marco\.prompt\.format: .* cannot be filled in"),
    ({"format": "Translate into {target_language}."}, r"models\.marco\.prompt\.format: .* has no \{src\} field"),
    ({"format": 3}, r"models\.marco\.prompt\.format: must be a string"),
    ({"format": MARCO, "chat_template": BRACKETS}, r"models\.marco\.prompt: set 'format' or 'chat_template', not both"),
    ({"fromat": MARCO}, r"unknown key 'models\.marco\.prompt\.fromat' \(did you mean 'format'\?\)"),
    ({"language_names": {"zh": "chinese"}}, r"models\.marco\.prompt\.language_names: only a 'format' prompt"),
    ({"format": MARCO, "language_names": ["zh"]}, r"models\.marco\.prompt\.language_names: must map"),
    ({"chat_template": "templates/missing.jinja"},
     r"models\.marco\.prompt\.chat_template: 'templates/missing.jinja' is neither a Jinja template .* nor an "
     r"existing file"),
    ({"chat_template": "{% for m in messages %}{{ m['content'] }}"},
     r"models\.marco\.prompt\.chat_template: inline template: Jinja syntax error at line 1"),
    (MARCO, r"models\.marco\.prompt must be a mapping with 'format' or 'chat_template'"),
])
def test_a_bad_prompt_fails_when_the_entry_is_parsed_naming_the_key(prompt, message):
    with pytest.raises(ConfigError, match=message):
        ModelSpec.from_dict({"hub": "ATH-MaaS/Marco-MT-Algharb", "prompt": prompt}, where="models.marco")


def test_a_bad_prompt_fails_before_any_model_loads(tmp_path):
    """The entry is parsed first: the model path (missing here) is never reached."""
    with pytest.raises(ConfigError, match=r"model\.prompt\.format: unknown field\(s\) \{source\}"):
        load_backend({"path": str(tmp_path / "nowhere"), "prompt": {"format": "{source}"}})
    with pytest.raises(ConfigError, match="prompt: a model entry's prompt is its own key"):
        load_backend({"path": str(tmp_path), "options": {"prompt": {"format": MARCO}}})


def test_a_chat_template_from_a_file_and_inline_render_alike(tmp_path, tokenizer):
    template = tmp_path / "brackets.jinja"
    template.write_text(BRACKETS)
    expected = "[user] Translate the following Qaa text into Qab.\n\nalpha\n[assistant] "
    for value in (BRACKETS, str(template)):
        prompt = PromptFormat.from_dict({"chat_template": value})
        assert prompt.kind == "chat_template" and not prompt.add_special_tokens
        assert render_prompt(tokenizer, "alpha", "qaa", "qab", prompt) == expected
    with pytest.raises(ValueError, match="needs a tokenizer"):
        render_prompt(None, "alpha", "qaa", "qab", PromptFormat(chat_template=BRACKETS))
    broken = tmp_path / "broken.jinja"
    broken.write_text("{% if add_generation_prompt %}\n{{ messages[0]['content'] }\n{% endif %}")
    with pytest.raises(ConfigError, match=r"prompt\.chat_template: .*broken\.jinja: Jinja syntax error at line 2"):
        PromptFormat.from_dict({"chat_template": str(broken)})
    # The tag transformers adds for assistant masks parses.
    PromptFormat.from_dict({"chat_template": "{% generation %}{{ messages[0]['content'] }}{% endgeneration %}"})


def test_a_format_prompt_stops_at_the_special_tokens_it_writes(tokenizer):
    im_start, im_end = tokenizer.convert_tokens_to_ids(["<|im_start|>", "<|im_end|>"])
    assert PromptFormat(format=MARCO).stop_token_ids(tokenizer) == [im_end]
    chatml = PromptFormat(format="<|im_start|>user\n{src}<|im_end|>\n<|im_start|>assistant\n")
    assert chatml.stop_token_ids(tokenizer) == sorted([im_start, im_end])
    assert PromptFormat(format="Translate: {src}\n").stop_token_ids(tokenizer) == []
    assert PromptFormat().stop_token_ids(tokenizer) == [] == PromptFormat(chat_template=BRACKETS).stop_token_ids(
        tokenizer)


def recording_generate(backend):
    """Wrap the backend's ``model.generate`` to record the token ids it is given."""
    seen = []
    generate = backend.model.generate

    def record(**kwargs):
        seen.append((kwargs["input_ids"].tolist(), kwargs["eos_token_id"]))
        return generate(**kwargs)

    backend.model.generate = record
    return seen


@pytest.mark.parametrize("prompt", [{"format": MARCO}, {"chat_template": BRACKETS}], ids=["format", "chat_template"])
def test_the_tiny_model_decodes_with_a_configured_prompt(tiny_model_dir, tokenizer, prompt):
    backend = load_backend({"path": str(tiny_model_dir), "prompt": prompt})
    assert isinstance(backend, TransformersBackend) and backend.prompt == PromptFormat.from_dict(prompt)
    seen = recording_generate(backend)
    sampling = Sampling(n=2, temperature=1.0, max_new_tokens=6, seed=3)
    outputs = backend.translate(["alpha beta"], "qaa", "qab", sampling, progress=False)
    assert [len(texts) for texts in outputs] == [2] and all("\n" not in t for t in outputs[0])
    assert outputs == backend.translate(["alpha beta"], "qaa", "qab", sampling, progress=False)  # seeded
    text = render_prompt(tokenizer, "alpha beta", "qaa", "qab", backend.prompt)
    assert text != render_prompt(tokenizer, "alpha beta", "qaa", "qab")
    (ids, eos), _ = seen
    assert ids == [tokenizer(text, add_special_tokens=backend.prompt.add_special_tokens)["input_ids"]]
    assert tokenizer.convert_tokens_to_ids("<|im_end|>") in eos


def test_an_unconfigured_backend_is_built_as_before(tiny_model_dir, tokenizer):
    backend = TransformersBackend(str(tiny_model_dir))
    seen = recording_generate(backend)
    backend.translate(["alpha"], "qaa", "qab", Sampling(max_new_tokens=2), progress=False)
    text = render_prompt(tokenizer, "alpha", "qaa", "qab")
    assert seen[0][0] == [tokenizer(text, add_special_tokens=False)["input_ids"]]


def test_a_backend_without_a_prompt_argument_is_named(monkeypatch, tmp_path):
    from algharb.generation import BACKENDS

    class Old:
        def __init__(self, model, threads=1):
            pass

    monkeypatch.setattr(BACKENDS, "_entries", dict(BACKENDS._entries))
    BACKENDS.register("old")(Old)
    assert isinstance(load_backend({"path": str(tmp_path), "backend": "old"}), Old)
    with pytest.raises(ConfigError, match="prompt: the 'old' backend takes no configurable prompt"):
        load_backend({"path": str(tmp_path), "backend": "old", "prompt": {"format": MARCO}})


class RecordingTokenizer:
    """The tiny tokenizer, recording how ``encode`` is called (vLLM's tokenizer stand-in)."""

    def __init__(self, inner):
        self.inner, self.encoded = inner, []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def encode(self, text, add_special_tokens):
        self.encoded.append((text, add_special_tokens))
        return self.inner.encode(text, add_special_tokens=add_special_tokens)


def test_vllm_sends_the_format_prompt_with_its_stop_token(monkeypatch, tokenizer):
    recording = RecordingTokenizer(tokenizer)
    seen = {}

    class FakeLLM:
        def __init__(self, **engine_args):
            seen["engine"] = engine_args

        def get_tokenizer(self):
            return recording

        def generate(self, prompts, params, use_tqdm):
            seen["prompts"], seen["params"] = prompts, params
            return [SimpleNamespace(outputs=[SimpleNamespace(index=0, text=" 你好\n")]) for _ in params]

    monkeypatch.setitem(sys.modules, "vllm", SimpleNamespace(LLM=FakeLLM, SamplingParams=SimpleNamespace))
    backend = load_backend({"hub": "ATH-MaaS/Marco-MT-Algharb", "backend": "vllm", "prompt": {"format": MARCO},
                            "options": {"dtype": "bfloat16"}})
    assert isinstance(backend, VllmBackend) and "prompt" not in seen["engine"]
    assert backend.translate(["Hello."], "en", "zh", Sampling(), progress=False) == [["你好"]]
    text = "Human: Please translate the following text into Chinese: \nHello.<|im_end|>\nAssistant:"
    assert recording.encoded == [(text, True)]
    assert seen["prompts"] == [{"prompt_token_ids": tokenizer.encode(text, add_special_tokens=True)}]
    assert seen["params"][0].stop_token_ids == [tokenizer.convert_tokens_to_ids("<|im_end|>")]

    unconfigured = VllmBackend("some/model")
    unconfigured.translate(["Hello."], "en", "zh", Sampling(), progress=False)
    assert recording.encoded[-1] == (render_prompt(tokenizer, "Hello.", "en", "zh"), False)
    assert not hasattr(seen["params"][0], "stop_token_ids")  # the request vLLM got before prompts were configurable


def test_openai_sends_a_format_prompt_as_the_single_user_message():
    bodies = []

    def server(url, body, headers, timeout):
        bodies.append(body)
        return {"choices": [{"message": {"content": " 你好 \n"}}] * body["n"]}

    spec = {"hub": "ATH-MaaS/Marco-MT-Algharb", "backend": "openai", "prompt": {"format": MARCO},
            "options": {"base_url": "http://localhost:8000/v1", "post": server}}
    backend = load_backend(spec)
    assert backend.translate(["Hello."], "en", "zh", Sampling(n=2, temperature=1.0), progress=False) == [["你好"] * 2]
    marco = "Human: Please translate the following text into Chinese: \nHello.<|im_end|>\nAssistant:"
    assert bodies[0]["messages"] == [{"role": "user", "content": marco}]
    default = load_backend({**spec, "prompt": None})
    default.translate(["Hello."], "en", "zh", Sampling(), progress=False)
    assert bodies[1]["messages"] == translation_messages("Hello.", "en", "zh")


def test_openai_refuses_a_chat_template_naming_the_key():
    with pytest.raises(ConfigError, match=r"prompt\.chat_template: the 'openai' backend sends chat messages"):
        load_backend({"hub": "owner/name", "backend": "openai", "prompt": {"chat_template": BRACKETS},
                      "options": {"base_url": "http://localhost:8000/v1"}})
    with pytest.raises(ConfigError, match=r"prompt\.chat_template"):
        OpenAIBackend("m", "http://localhost:8000/v1", prompt=PromptFormat(chat_template=BRACKETS))


def test_chunk_fingerprints_change_with_the_prompt(tmp_path):
    base = {"hub": "ATH-MaaS/Marco-MT-Algharb", "backend": "vllm"}
    marco = {**base, "prompt": {"format": MARCO}}
    identities = [model_identity(spec) for spec in (
        base, marco, {**base, "prompt": {"format": MARCO + " "}},
        {**base, "prompt": {"format": MARCO, "language_names": {"zh": "chinese"}}},
        {**base, "prompt": {"chat_template": BRACKETS}})]
    assert all(a != b for i, a in enumerate(identities) for b in identities[i + 1:])
    assert model_identity({**base, "prompt": None}) == model_identity(base) == {**base, "options": {}}  # as before
    assert model_identity(marco) == model_identity({**base, "prompt": PromptFormat(format=MARCO)})
    template = tmp_path / "template.jinja"
    template.write_text(BRACKETS)
    from_file = {**base, "prompt": {"chat_template": str(template)}}
    before = model_identity(from_file)
    template.write_text(BRACKETS.replace("[assistant] ", "[assistant]"))  # edited in place, same path
    assert model_identity(from_file) != before


def test_a_prompt_change_regenerates_cached_chunks(tmp_path, fake_generation):
    base = {"hub": "ATH-MaaS/Marco-MT-Algharb", "backend": "vllm"}
    sources = [f"source {i}" for i in range(4)]

    def run(spec):
        return translate_in_chunks(spec, sources, "en", "zh", Sampling(), chunk_dir=tmp_path, chunk_size=2,
                                   progress=False)

    run(base)
    run({**base, "prompt": {"format": MARCO}})
    assert len(fake_generation.calls) == 4  # every chunk again
    run({**base, "prompt": {"format": MARCO}})
    assert len(fake_generation.calls) == 4  # reused
    assert fake_generation.loads[-1]["prompt"] == {"format": MARCO}


def test_model_entries_round_trip_with_a_prompt():
    spec = ModelSpec.from_dict({"hub": "owner/name", "prompt": {"format": MARCO}})
    assert spec.to_dict()["prompt"] == {"format": MARCO, "chat_template": None, "language_names": {}}
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    assert all(meaning for _, _, meaning in PromptFormat.describe())


def test_schema_names_the_prompt_keys():
    """The config schema lists the same keys as PromptFormat (as tests/test_generation.py checks ModelSpec's)."""
    from algharb.config import load_schema

    definitions = load_schema()["definitions"]
    node = definitions["model"]["properties"]["prompt"]
    if "$ref" in node:
        node = definitions[node["$ref"].split("/")[-1]]
    assert sorted(node["properties"]) == sorted(PromptFormat.keys())
    assert node["additionalProperties"] is False


def test_the_wmt25_example_row_renders_the_documented_marco_prompt():
    """Wherever config/wmt25.yaml puts the Marco-MT-Algharb entry, its prompt is the model card's."""
    from pathlib import Path

    import yaml

    def entries(node):
        if isinstance(node, dict):
            if node.get("hub") == "ATH-MaaS/Marco-MT-Algharb":
                yield node
            for value in node.values():
                yield from entries(value)
        elif isinstance(node, list):
            for value in node:
                yield from entries(value)

    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "wmt25.yaml").read_text())
    (entry,) = entries(config)
    prompt = ModelSpec.from_dict(entry, where="marco").prompt
    assert prompt.format == MARCO
    assert render_prompt(None, "Hello.", "en", "ja", prompt) == (
        "Human: Please translate the following text into Japanese: \nHello.<|im_end|>\nAssistant:")
