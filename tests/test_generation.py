import urllib.error

import pytest

from algharb.generation import OpenAIBackend, Sampling, TransformersBackend, load_backend


def test_sampling_validation():
    assert Sampling().greedy
    with pytest.raises(ValueError, match="greedy"):
        Sampling(n=4, temperature=0.0)
    with pytest.raises(ValueError, match="top_p"):
        Sampling(temperature=1.0, top_p=0)
    with pytest.raises(ValueError, match=r"unknown sampling key\(s\) \['temprature'\]"):
        Sampling.from_dict({"temprature": 0.7})


def test_transformers_backend_shapes_and_determinism(tiny_model_dir):
    backend = TransformersBackend(str(tiny_model_dir))
    sources = ["alpha beta", "gamma delta epsilon", "zeta"]
    greedy = backend.translate(sources, "qaa", "qab", Sampling(max_new_tokens=8, batch_size=2), progress=False)
    assert [len(x) for x in greedy] == [1, 1, 1]
    sampled = Sampling(n=3, temperature=1.0, max_new_tokens=8, seed=7, batch_size=2)
    first = backend.translate(sources, "qaa", "qab", sampled, progress=False)
    again = backend.translate(sources, "qaa", "qab", sampled, progress=False)
    assert [len(x) for x in first] == [3, 3, 3]
    assert first == again  # seeded per batch


def test_missing_model_path_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_backend({"path": str(tmp_path / "nowhere"), "backend": "transformers"})
    with pytest.raises(ValueError, match="unknown generation backend"):
        load_backend({"path": str(tmp_path), "backend": "ctranslate2"})


def test_openai_backend_builds_chat_requests_and_retries():
    calls = []

    def fake_post(url, body, headers, timeout):
        calls.append(body)
        if len(calls) == 1:
            raise urllib.error.URLError("connection reset")
        return {"choices": [{"message": {"content": f" {body['messages'][0]['content'][-3:]} "}}] * body["n"]}

    backend = OpenAIBackend("deepseek-ai/DeepSeek-V3", "http://localhost:8000/v1", concurrency=1,
                            post=fake_post)
    backend_sleep = pytest.MonkeyPatch()
    backend_sleep.setattr("algharb.generation.time.sleep", lambda s: None)
    try:
        out = backend.translate(["abc"], "en", "zh", Sampling(n=2, temperature=0.8), progress=False)
    finally:
        backend_sleep.undo()
    assert out == [["abc", "abc"]]
    assert calls[-1]["model"] == "deepseek-ai/DeepSeek-V3"
    assert calls[-1]["messages"][0]["content"].startswith("Translate the following English text into Chinese.")
    assert len(calls) == 2


def test_openai_backend_gives_up_with_the_url():
    def always_down(url, body, headers, timeout):
        raise urllib.error.URLError("refused")

    backend = OpenAIBackend("m", "http://localhost:9/v1", max_retries=1, post=always_down)
    patch = pytest.MonkeyPatch()
    patch.setattr("algharb.generation.time.sleep", lambda s: None)
    try:
        with pytest.raises(RuntimeError, match="localhost:9/v1/chat/completions: giving up after 2 attempts"):
            backend.translate(["x"], "en", "de", Sampling(), progress=False)
    finally:
        patch.undo()


def test_outputs_are_one_line_without_reasoning_block():
    from algharb.generation import clean_output

    assert clean_output("<think>\n\n</think>\n\n你好，世界") == "你好，世界"
    assert clean_output(" line one\nline two ") == "line one line two"
    assert clean_output("no <think> at start</think>") == "no <think> at start</think>"
