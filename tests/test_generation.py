import io
import json
import logging
import sys
import threading
import urllib.error
from types import SimpleNamespace

import pytest

from algharb.generation import (OpenAIBackend, Sampling, TransformersBackend, VllmBackend, load_backend,
                                request_seed, stop_token_ids)
from algharb.prompts import render_prompt


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


def echo_reply(body: dict) -> dict:
    """A chat reply whose ``n`` choices name the source (the prompt's last line)."""
    source = body["messages"][0]["content"].splitlines()[-1]
    return {"choices": [{"message": {"content": f" {source} #{i}\n"}} for i in range(body["n"])]}


def expected(sources, n=2):
    return [[f"{s} #{i}" for i in range(n)] for s in sources]


SAMPLED = Sampling(n=2, temperature=0.8, top_p=0.9, seed=3)


def test_openai_cache_resumes_a_killed_run(tmp_path):
    sources = [f"s{i}" for i in range(6)]
    calls = []

    def dies_after_three(url, body, headers, timeout):
        if len(calls) == 3:
            raise KeyboardInterrupt  # the run is killed while the 4th request is out
        calls.append(body)
        return echo_reply(body)

    backend = OpenAIBackend("m", "http://localhost:8000/v1", concurrency=1, cache_dir=tmp_path, post=dies_after_three)
    with pytest.raises(KeyboardInterrupt):
        backend.translate(sources, "en", "de", SAMPLED, progress=False)
    assert len(list(tmp_path.rglob("*.json"))) == 3

    rerun = []

    def server(url, body, headers, timeout):
        rerun.append(body)
        return echo_reply(body)

    backend = OpenAIBackend("m", "http://localhost:8000/v1", concurrency=2, cache_dir=tmp_path, post=server)
    assert backend.translate(sources, "en", "de", SAMPLED, progress=False) == expected(sources)
    assert sorted(b["messages"][0]["content"][-2:] for b in rerun) == ["s3", "s4", "s5"]


def test_openai_identical_requests_are_asked_once(tmp_path):
    calls = []

    def server(url, body, headers, timeout):
        calls.append(body)
        return echo_reply(body)

    def translate(sampling=SAMPLED):
        backend = OpenAIBackend("m", "http://localhost:8000/v1", cache_dir=tmp_path, post=server)
        return backend.translate(["a", "b", "a"], "en", "de", sampling, progress=False)

    assert translate() == expected(["a", "b", "a"])
    assert len(calls) == 2
    assert translate() == expected(["a", "b", "a"])
    assert len(calls) == 2  # all from the cache
    translate(Sampling(n=2, temperature=0.7, top_p=0.9, seed=3))
    assert len(calls) == 4  # other sampling settings, other requests


def test_openai_corrupt_cache_entry_is_requested_again(tmp_path, caplog):
    calls = []

    def server(url, body, headers, timeout):
        calls.append(body)
        return echo_reply(body)

    backend = OpenAIBackend("m", "http://localhost:8000/v1", cache_dir=tmp_path, post=server)
    backend.translate(["a", "b"], "en", "de", SAMPLED, progress=False)
    broken = sorted(tmp_path.rglob("*.json"))[0]
    broken.write_text(broken.read_text()[:20])  # a torn write from some other tool
    with caplog.at_level(logging.WARNING, logger="algharb.generation"):
        assert backend.translate(["a", "b"], "en", "de", SAMPLED, progress=False) == expected(["a", "b"])
    assert len(calls) == 3
    assert "ignoring unreadable cached reply" in caplog.text and broken.name in caplog.text
    assert json.loads(broken.read_text())["reply"]["choices"]  # repaired


def test_openai_outputs_follow_sources_not_completion_order():
    sources = [f"s{i}" for i in range(5)]
    done = {s: threading.Event() for s in sources}
    finished = []

    def last_first(url, body, headers, timeout):
        source = body["messages"][0]["content"].splitlines()[-1]
        later = sources.index(source) + 1
        if later < len(sources):
            assert done[sources[later]].wait(timeout=10)
        finished.append(source)
        done[source].set()
        return echo_reply(body)

    backend = OpenAIBackend("m", "http://localhost:8000/v1", concurrency=len(sources), post=last_first)
    assert backend.translate(sources, "en", "de", SAMPLED, progress=False) == expected(sources)
    assert finished == sources[::-1]


def http_error(code, text=b""):
    return urllib.error.HTTPError("http://x/v1/chat/completions", code, "msg", {}, io.BytesIO(text))


def test_openai_retries_rate_limits_and_server_errors_only(monkeypatch):
    monkeypatch.setattr("algharb.generation.time.sleep", lambda s: None)
    failures = [http_error(429), http_error(503)]

    def flaky(url, body, headers, timeout):
        if failures:
            raise failures.pop(0)
        return echo_reply(body)

    backend = OpenAIBackend("m", "http://localhost:8000/v1", post=flaky)
    assert backend.translate(["a"], "en", "de", SAMPLED, progress=False) == expected(["a"])
    assert not failures

    calls = []

    def bad_key(url, body, headers, timeout):
        calls.append(body)
        raise http_error(401, b'{"error": "invalid api key"}')

    backend = OpenAIBackend("m", "http://localhost:8000/v1", post=bad_key)
    with pytest.raises(RuntimeError, match=r"localhost:8000/v1/chat/completions: HTTP 401 .*invalid api key"):
        backend.translate(["a"], "en", "de", SAMPLED, progress=False)
    assert len(calls) == 1


def test_openai_short_reply_is_an_error_and_not_cached(tmp_path):
    def one_choice(url, body, headers, timeout):
        return {"choices": echo_reply(body)["choices"][:1]}  # e.g. an API that ignores n

    backend = OpenAIBackend("m", "http://localhost:8000/v1", cache_dir=tmp_path, post=one_choice)
    with pytest.raises(RuntimeError, match="malformed reply .*expected 2 choice"):
        backend.translate(["a"], "en", "de", SAMPLED, progress=False)
    assert not list(tmp_path.rglob("*.json"))


def test_request_seed_differs_per_source_and_is_stable():
    seeds = {request_seed(3, s, "en", "de") for s in ["a", "b", "c"]}
    assert len(seeds) == 3 and all(0 <= s < 2**31 for s in seeds)
    assert request_seed(3, "a", "en", "de") == request_seed(3, "a", "en", "de") != request_seed(4, "a", "en", "de")


def test_vllm_backend_sends_token_ids_and_per_source_params(monkeypatch, tiny_model_dir):
    """The request vLLM gets, with a stand-in engine (the real one: tests/test_vllm_cpu.py)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    seen = {}

    class FakeLLM:
        def __init__(self, **engine_args):
            seen["engine"] = engine_args

        def get_tokenizer(self):
            return tokenizer

        def generate(self, prompts, params, use_tqdm):
            seen["prompts"], seen["params"] = prompts, params
            return [SimpleNamespace(outputs=[SimpleNamespace(index=i, text=f"<think></think>\n s{i}\n")
                                             for i in reversed(range(p.n))]) for p in params]

    monkeypatch.setitem(sys.modules, "vllm", SimpleNamespace(LLM=FakeLLM, SamplingParams=SimpleNamespace))
    backend = VllmBackend("some/model", dtype="float32")
    sampling = Sampling(n=3, temperature=0.8, top_p=0.9, max_new_tokens=5, seed=1)
    assert backend.translate(["alpha", "beta"], "qaa", "qab", sampling, progress=False) == [["s0", "s1", "s2"]] * 2
    assert seen["engine"]["dtype"] == "float32" and seen["engine"]["seed"] == 0
    prompt = render_prompt(tokenizer, "alpha", "qaa", "qab")
    assert seen["prompts"][0] == {"prompt_token_ids": tokenizer(prompt, add_special_tokens=False)["input_ids"]}
    first, second = seen["params"]
    assert (first.n, first.temperature, first.top_p, first.max_tokens) == (3, 0.8, 0.9, 5)
    assert first.seed == request_seed(1, "alpha", "qaa", "qab") != second.seed


def test_stop_tokens_join_tokenizer_and_generation_config():
    tokenizer = SimpleNamespace(eos_token_id=2)
    assert stop_token_ids(tokenizer, SimpleNamespace(eos_token_id=[5, 2])) == [2, 5]
    assert stop_token_ids(tokenizer, SimpleNamespace(eos_token_id=None)) == [2]


def test_openai_backend_over_real_http(monkeypatch):
    """The default urllib client against a loopback server: a 500 is retried, a 400 is not."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    monkeypatch.setattr("algharb.generation.time.sleep", lambda s: None)
    statuses = [500, 200, 400]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status = statuses.pop(0)
            reply = json.dumps(echo_reply(body) if status == 200 else {"error": f"status {status}"}).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        backend = OpenAIBackend("m", f"http://127.0.0.1:{server.server_port}/v1", timeout_s=10)
        assert backend.translate(["a"], "en", "de", SAMPLED, progress=False) == expected(["a"])
        with pytest.raises(RuntimeError, match="HTTP 400 .*status 400"):
            backend.translate(["b"], "en", "de", SAMPLED, progress=False)
        assert statuses == []
    finally:
        server.shutdown()
        server.server_close()
