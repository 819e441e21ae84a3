"""The ``vllm`` backend for real, on the CPU, in its own environment (``make setup-vllm``).

vLLM needs transformers ≥ 5.16 where the project pins 4.57, so it lives in
``.venv-vllm``: a driver run by that environment's Python imports
``algharb.generation`` from src/ (which needs there only the standard library
and PyYAML, a dependency of transformers) and decodes with a tiny random Qwen3 built here.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from algharb.generation import Sampling, TransformersBackend, clean_output

ROOT = Path(__file__).resolve().parents[1]
VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.skipif(not VLLM_PYTHON.exists(),
                       reason="no .venv-vllm: `make setup-vllm` installs vLLM for the CPU (3.4 GB)"),
]

SOURCES = ["alpha beta", "gamma delta epsilon", "zeta"]
SAMPLED = {"n": 4, "temperature": 1.0, "top_p": 0.95, "max_new_tokens": 8, "seed": 7}
RUNS = {
    "sampled": SAMPLED,
    "sampled_again": SAMPLED,
    "other_seed": {**SAMPLED, "seed": 8},
    # A nucleus this small holds only the most likely token: sampling becomes greedy.
    "tiny_top_p": {**SAMPLED, "top_p": 1e-6},
    "greedy": {"temperature": 0.0, "max_new_tokens": 8},
    "greedy_other_seed": {"temperature": 0.0, "max_new_tokens": 8, "seed": 99},
}

DRIVER = """
import json, sys
from pathlib import Path

from algharb.generation import Sampling, VllmBackend
from algharb.prompts import PromptFormat


def main():
    job = json.loads(Path(sys.argv[1]).read_text())
    # On the CPU gpu_memory_utilization is the share of RAM taken for the KV cache;
    # float32 because vLLM would downcast to bfloat16 (greedy must match transformers);
    # eager mode skips a minute of torch.compile that this test does not need.
    prompt = PromptFormat.from_dict(job["prompt"]) if job.get("prompt") else None
    backend = VllmBackend(job["model"], max_model_len=512, gpu_memory_utilization=0.1,
                          dtype="float32", enforce_eager=True, prompt=prompt)
    out = {name: backend.translate(job["sources"], "qaa", "qab", Sampling(**settings), progress=False)
           for name, settings in job["runs"].items()}
    Path(job["out"]).write_text(json.dumps(out))


if __name__ == "__main__":  # vLLM may start processes that import this file again
    main()
"""


@pytest.fixture(scope="module")
def untied_model_dir(tiny_model_dir, tmp_path_factory):
    """A random 1-layer Qwen3 (head_dim 64, which vLLM's CPU attention needs) with the demo tokenizer.

    Untied: with tied embeddings a random model's most likely next token is the
    last prompt token, a newline, so greedy output cleans to an empty string.
    """
    import torch
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    config = Qwen3Config(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                         num_attention_heads=1, num_key_value_heads=1, head_dim=64, max_position_embeddings=512,
                         tie_word_embeddings=False, bos_token_id=None, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = Qwen3ForCausalLM(config)
    out = tmp_path_factory.mktemp("untied") / "model"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def run_vllm(model_dir: Path, runs: dict, work: Path, prompt: dict | None = None) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    (work / "driver.py").write_text(DRIVER)
    job = {"model": str(model_dir), "sources": SOURCES, "runs": runs, "out": str(work / "out.json"),
           "prompt": prompt}
    (work / "job.json").write_text(json.dumps(job))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1",
           # One process instead of three: each would import torch and vLLM again (≈10 s apiece).
           "VLLM_ENABLE_V1_MULTIPROCESSING": "0", "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}
    done = subprocess.run([str(VLLM_PYTHON), "driver.py", "job.json"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"vLLM driver failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return json.loads((work / "out.json").read_text())


@pytest.fixture(scope="module")
def outputs(untied_model_dir, tmp_path_factory):
    """Every run of RUNS in one engine, plus the seeded run again in a second engine."""
    work = tmp_path_factory.mktemp("vllm")
    first = run_vllm(untied_model_dir, RUNS, work / "first")
    second = run_vllm(untied_model_dir, {"sampled": SAMPLED}, work / "second")
    return {**first, "sampled_second_engine": second["sampled"]}


def test_n_cleaned_candidates_per_source(outputs):
    sampled = outputs["sampled"]
    assert [len(c) for c in sampled] == [4, 4, 4]
    for candidates in sampled:
        assert all(isinstance(c, str) and c == clean_output(c) for c in candidates)
        assert len(set(candidates)) > 1, "the n samples of a request must differ"
    # Per-source seeds: sources must not replay the same random draws.
    assert sampled[0] != sampled[1] != sampled[2]


def test_fixed_seed_reproduces_samples(outputs):
    assert outputs["sampled_again"] == outputs["sampled"]
    assert outputs["sampled_second_engine"] == outputs["sampled"]
    other = outputs["other_seed"]
    assert all(not set(a) & set(b) for a, b in zip(other, outputs["sampled"]))


def test_greedy_ignores_seed_matches_nucleus_and_transformers(outputs, untied_model_dir):
    greedy = outputs["greedy"]
    assert [len(c) for c in greedy] == [1, 1, 1] and any(c[0] for c in greedy)
    assert outputs["greedy_other_seed"] == greedy
    assert outputs["tiny_top_p"] == [c * 4 for c in greedy]
    # Same prompt (chat template, no added special tokens), same stop tokens, same cleaning:
    # float32 greedy decoding then gives the transformers backend's text exactly.
    reference = TransformersBackend(str(untied_model_dir)).translate(
        SOURCES, "qaa", "qab", Sampling(max_new_tokens=8), progress=False)
    assert greedy == reference


# A completion prompt of the Marco-MT-Algharb layout (models.<name>.prompt.format), rendered as is.
FORMAT_PROMPT = {"format": "Human: Please translate the following text into {target_language}: \n{src}<|im_end|>\n"
                           "Assistant:"}


def test_a_format_prompt_decodes_as_in_the_transformers_backend(untied_model_dir, tmp_path):
    """Same text, tokenized with the tokenizer's defaults, same stop tokens: greedy output equals transformers'."""
    from algharb.prompts import PromptFormat

    greedy = {"temperature": 0.0, "max_new_tokens": 8}
    out = run_vllm(untied_model_dir, {"greedy": greedy}, tmp_path, prompt=FORMAT_PROMPT)["greedy"]
    assert [len(c) for c in out] == [1, 1, 1]
    reference = TransformersBackend(str(untied_model_dir), prompt=PromptFormat.from_dict(FORMAT_PROMPT)).translate(
        SOURCES, "qaa", "qab", Sampling(**greedy), progress=False)
    # A random model may stop inside a multi-byte character: vLLM's incremental detokenizer holds
    # those bytes back, transformers decodes them as U+FFFD.
    assert [[t.rstrip("\ufffd") for t in c] for c in out] == [[t.rstrip("\ufffd") for t in c] for c in reference]
    chat = TransformersBackend(str(untied_model_dir)).translate(SOURCES, "qaa", "qab", Sampling(**greedy),
                                                                progress=False)
    assert out != chat, "the format prompt must reach the model"
