import io
import json
import logging
import sys
import threading
import urllib.error
from types import SimpleNamespace

import pytest

from algharb.config.section import ConfigError
from algharb.generation import (BACKENDS, FusionBackend, OpenAIBackend, Sampling, TransformersBackend, VllmBackend, load_backend,
                                request_seed, stop_token_ids)
from algharb.models import ModelSpec
from algharb.prompts import render_prompt


def test_sampling_validation():
    assert Sampling().greedy
    with pytest.raises(ValueError, match="greedy"):
        Sampling(n=4, temperature=0.0)
    with pytest.raises(ValueError, match="top_p"):
        Sampling(temperature=1.0, top_p=0)
    with pytest.raises(ConfigError, match=r"unknown key 'sampling.temprature' \(did you mean 'temperature'\?\)"):
        Sampling.from_dict({"temprature": 0.7})
    with pytest.raises(ConfigError, match=r"unknown key 'decode.candidates.sampling.temprature'"):
        Sampling.from_dict({"temprature": 0.7}, where="decode.candidates.sampling")


def test_sampling_is_the_one_home_of_its_defaults():
    """Values over the field defaults; ``to_dict`` in field order, as candidates files and chunk headers record it."""
    assert Sampling.from_dict(None) == Sampling()
    assert Sampling.from_dict({"temperature": 0.7, "n": 4}) == Sampling(n=4, temperature=0.7)
    assert Sampling(n=2, temperature=0.8, seed=3).to_dict() == {
        "n": 2, "temperature": 0.8, "top_p": 1.0, "max_new_tokens": 256, "seed": 3, "batch_size": 32}
    assert list(Sampling().to_dict()) == ["n", "temperature", "top_p", "max_new_tokens", "seed", "batch_size"]
    assert all(meaning for _, _, meaning in Sampling.describe())


def test_schema_names_the_sampling_and_model_entry_keys():
    from algharb.config import load_schema

    definitions = load_schema()["definitions"]
    assert sorted(definitions["sampling"]["properties"]) == sorted(Sampling.keys())
    assert sorted(definitions["model"]["properties"]) == sorted(ModelSpec.keys())


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


def test_backends_are_registered_under_their_config_names():
    assert BACKENDS.names() == ["transformers", "vllm", "openai", "fusion"]
    assert [BACKENDS.get(name) for name in BACKENDS] == [TransformersBackend, VllmBackend, OpenAIBackend, FusionBackend]
    # The config check asks the registry (tests/test_config.py), so no list of names can drift.


def test_an_unknown_backend_fails_listing_the_registered_ones(tmp_path):
    with pytest.raises(ValueError, match=r"backend: unknown generation backend 'ctranslate2'; "
                                         r"registered: transformers, vllm, openai"):
        load_backend({"path": str(tmp_path), "backend": "ctranslate2"})


class ToyBackend:
    """Echoes each source ``n`` times, tagged with the model it was built for."""

    def __init__(self, model, threads=1, suffix="!"):
        self.model, self.threads, self.suffix = model, threads, suffix

    def translate(self, sources, src_lang, tgt_lang, sampling, progress=True):
        return [[f"{source}{self.suffix}"] * sampling.n for source in sources]


def test_a_backend_registered_through_the_registry_is_built_by_load_backend(monkeypatch, tmp_path):
    monkeypatch.setattr(BACKENDS, "_entries", dict(BACKENDS._entries))  # registered for this test only
    BACKENDS.register("toy")(ToyBackend)
    backend = load_backend({"path": str(tmp_path), "backend": "toy", "options": {"suffix": "?"}}, threads=3)
    assert isinstance(backend, ToyBackend)
    assert (backend.model, backend.threads) == (str(tmp_path), 3)
    assert backend.translate(["a"], "en", "de", Sampling(n=2, temperature=1.0)) == [["a?", "a?"]]
    with pytest.raises(ValueError, match="generation backend 'toy' is registered twice"):
        BACKENDS.register("toy")(OpenAIBackend)


def test_model_entries_default_to_the_transformers_backend(tmp_path):
    assert ModelSpec.from_dict({"hub": "owner/name"}).backend == "transformers"
    assert ModelSpec.from_dict({"path": str(tmp_path), "backend": "vllm"}).location == str(tmp_path)
    assert ModelSpec.from_dict({"path": str(tmp_path)}).reference() == str(tmp_path)
    with pytest.raises(ConfigError, match="unknown key 'models.teacher.bakend'"):
        ModelSpec.from_dict({"hub": "owner/name", "bakend": "openai"}, where="models.teacher")


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
    backend_sleep.setattr("algharb.generation.http_client.time.sleep", lambda s: None)
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
    patch.setattr("algharb.generation.http_client.time.sleep", lambda s: None)
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
    monkeypatch.setattr("algharb.generation.http_client.time.sleep", lambda s: None)
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

    monkeypatch.setattr("algharb.generation.http_client.time.sleep", lambda s: None)
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


# Chunked, resumable generation (translate_in_chunks) with the FakeGeneration stand-in of conftest.

FAKE = {"hub": "fake/model", "backend": "vllm"}
SOURCES = [f"source {i}" for i in range(10)]


def chunked(chunk_dir, sources=SOURCES, sampling=SAMPLED, chunk_size=3, spec=FAKE):
    from algharb.generation import translate_in_chunks

    return translate_in_chunks(spec, sources, "en", "de", sampling, chunk_dir=chunk_dir, chunk_size=chunk_size,
                               progress=False)


def test_chunks_come_back_in_source_order_as_chunk_by_chunk_translation(tmp_path, fake_generation):
    outputs = chunked(tmp_path)
    assert fake_generation.calls == [SOURCES[0:3], SOURCES[3:6], SOURCES[6:9], SOURCES[9:]]
    assert len(fake_generation.loads) == 1
    per_chunk = [out for chunk in list(fake_generation.calls)
                 for out in fake_generation.translate(chunk, "en", "de", SAMPLED)]
    assert outputs == per_chunk and [texts[0].split(" #")[0] for texts in outputs] == SOURCES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.jsonl", "1.jsonl", "2.jsonl", "3.jsonl"]
    assert chunked(None, chunk_size=3) == outputs  # no chunk dir: one call, nothing kept


def test_a_killed_run_resumes_from_its_finished_chunks(tmp_path, fake_generation):
    whole = chunked(tmp_path / "whole")
    fake_generation.calls.clear()
    fake_generation.fail_on_call = 3
    with pytest.raises(KeyboardInterrupt):
        chunked(tmp_path / "resumed")
    assert sorted(p.name for p in (tmp_path / "resumed").glob("*.jsonl")) == ["0.jsonl", "1.jsonl"]
    fake_generation.calls.clear()
    fake_generation.fail_on_call = None
    assert chunked(tmp_path / "resumed") == whole
    assert fake_generation.calls == [SOURCES[6:9], SOURCES[9:]]  # only the chunks the killed run lacked
    for name in ("0.jsonl", "1.jsonl", "2.jsonl", "3.jsonl"):
        assert (tmp_path / "resumed" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()


def test_nothing_is_loaded_when_every_chunk_exists(tmp_path, fake_generation, caplog):
    first = chunked(tmp_path)
    fake_generation.loads.clear()
    with caplog.at_level(logging.INFO, logger="algharb.generation"):
        assert chunked(tmp_path) == first
    assert fake_generation.loads == []
    assert "4 of 4 chunk(s) reused, 0 to generate" in caplog.text


def test_a_chunk_made_under_other_settings_is_regenerated(tmp_path, fake_generation):
    chunked(tmp_path)
    fake_generation.calls.clear()
    hotter = Sampling(n=2, temperature=0.9, top_p=0.9, seed=3)
    assert chunked(tmp_path, sampling=hotter) == fake_generation.translate(SOURCES, "en", "de", hotter)
    assert len(fake_generation.calls) == 4 + 1  # every chunk regenerated (+ the reference call above)
    fake_generation.calls.clear()
    edited = SOURCES[:4] + ["an edited source"] + SOURCES[5:]
    chunked(tmp_path, sources=edited, sampling=hotter)
    assert fake_generation.calls == [edited[3:6]]  # only the chunk whose sources changed
    fake_generation.calls.clear()
    chunked(tmp_path, sources=edited, sampling=hotter, spec={**FAKE, "hub": "fake/other"})
    assert len(fake_generation.calls) == 4


def test_transport_options_do_not_invalidate_chunks_but_model_files_do(tmp_path, fake_generation):
    import os

    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights")
    spec = {"path": str(model), "backend": "openai", "options": {"base_url": "http://x/v1", "concurrency": 8}}
    chunked(tmp_path / "chunks", spec=spec)
    fake_generation.calls.clear()
    chunked(tmp_path / "chunks", spec={**spec, "options": {**spec["options"], "concurrency": 2, "timeout_s": 5}})
    assert fake_generation.calls == []
    (model / ".snakemake_timestamp").write_text("")  # hidden files are not the model
    chunked(tmp_path / "chunks", spec=spec)
    assert fake_generation.calls == []
    stamp = (model / "model.safetensors").stat()
    os.utime(model / "model.safetensors", ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 10**9))  # retrained in place
    chunked(tmp_path / "chunks", spec=spec)
    assert len(fake_generation.calls) == 4


def test_half_written_or_torn_chunks_are_never_read(tmp_path, fake_generation, caplog):
    whole = chunked(tmp_path)
    # What a job killed inside atomic_write leaves: a temporary folder holding part of chunk 1 ...
    (tmp_path / "1.jsonl").unlink()
    (tmp_path / ".1.jsonl.abc123").mkdir()
    (tmp_path / ".1.jsonl.abc123" / "1.jsonl").write_text((tmp_path / "0.jsonl").read_text()[:40])
    # ... and a chunk cut short by something other than this code.
    (tmp_path / "2.jsonl").write_text((tmp_path / "2.jsonl").read_text()[:-30])
    fake_generation.calls.clear()
    with caplog.at_level(logging.WARNING, logger="algharb.generation"):
        assert chunked(tmp_path) == whole
    assert fake_generation.calls == [SOURCES[3:6], SOURCES[6:9]]
    assert "ignoring unreadable chunk" in caplog.text and "2.jsonl" in caplog.text


def test_chunk_size_must_be_positive(tmp_path, fake_generation):
    with pytest.raises(ValueError, match=r"chunk_size must be ≥ 1 \(sources per chunk\), got 0"):
        chunked(tmp_path, chunk_size=0)
    assert fake_generation.loads == []


def test_a_backend_returning_too_few_translations_writes_no_chunk(tmp_path, fake_generation):
    fake_generation.translate = lambda sources, *args, **kwargs: [["only one"]] * len(sources)
    with pytest.raises(ValueError, match="expected 2 translation"):
        chunked(tmp_path)
    assert not list(tmp_path.glob("*.jsonl"))


def test_transformers_chunks_depend_only_on_settings_and_chunk(tmp_path, tiny_model_dir):
    """A resumed run, or the one-call run when a single chunk holds every source, samples what an
    uninterrupted chunked run does."""
    from algharb.generation import translate_in_chunks

    spec = {"path": str(tiny_model_dir)}
    sources = ["alpha beta", "gamma delta epsilon", "zeta", "beta alpha", "eta"]
    sampling = Sampling(n=2, temperature=1.0, max_new_tokens=6, seed=5, batch_size=2)

    def run(chunk_dir, chunk_size=2):
        return translate_in_chunks(spec, sources, "qaa", "qab", sampling, chunk_dir=chunk_dir,
                                   chunk_size=chunk_size, progress=False)

    whole = run(tmp_path)
    (tmp_path / "1.jsonl").unlink()
    assert run(tmp_path) == whole
    assert run(tmp_path / "one", chunk_size=5) == run(None, chunk_size=5)


def test_batch_seeds_follow_the_prompts_not_the_batch_position():
    """Each chunk restarts the transformers backend's batch count: a seed from the position would make
    every chunk's first batch draw the same random numbers."""
    from algharb.generation import batch_seed

    assert batch_seed(5, ["a", "b"]) == batch_seed(5, ["a", "b"])
    assert len({batch_seed(5, ["a", "b"]), batch_seed(5, ["a", "c"]), batch_seed(6, ["a", "b"])}) == 3
    assert 0 <= batch_seed(5, ["a"]) < 2**63
