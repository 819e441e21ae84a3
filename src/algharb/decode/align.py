"""Word-alignment faithfulness score ``S_align(x, y)`` for hybrid decoding.

The score follows the WSPAlign repository's sentence-pair coverage::

    S_align = (aligned_src / |src| + aligned_tgt / |tgt|) / 2

so a candidate that drops source content (an omission) leaves source words
unaligned and scores lower. Backends, keyed by config name:

- ``eflomal``: a Bayesian IBM-style aligner that needs no pretrained model.
  Candidates are aligned *jointly* with a clean reference corpus (the cleaned
  training data), which gives the sampler the lexical statistics it needs;
  only the candidates' links are read back. eflomal seeds its Gibbs sampler
  from /dev/urandom and offers no seed option; with ``seed`` set, a small
  preloaded shim (``eflomal_seed.c``, compiled with ``cc`` on first use)
  feeds it bytes drawn from the seed instead, and its samplers run on one
  thread (OpenMP scheduling would reorder their draws), which makes the
  scores identical from run to run. Without ``seed`` they vary slightly.
- ``wspalign``: the paper's aligner. Word alignment as span prediction with a
  WSPAlign checkpoint through transformers' question-answering pipeline: each
  word, marked with ``¶`` in its sentence, is the question and the other
  sentence the context; both directions; a link is kept when the two
  directions' span scores (each divided by the span's word count) sum above
  ``threshold`` (0.1, as in the WSPAlign inference code).

Tokenisation for alignment: whitespace words with punctuation split off for
spaced scripts; characters for Chinese, Japanese and Korean script runs
(never whitespace, which would make a whole clause one "word").
Punctuation tokens are left out of the coverage denominators.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from algharb.io import atomic_path

_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\s{_CJK}\W]+|[^\w\s]", re.UNICODE)
_WORD = re.compile(r"\w", re.UNICODE)

Links = set[tuple[int, int]]


def alignment_tokens(text: str) -> list[str]:
    """Lower-cased tokens; each CJK character is its own token."""
    return _TOKEN.findall(text.lower())


def is_word(token: str) -> bool:
    return bool(_WORD.search(token))


def parse_links(line: str) -> Links:
    """Pharaoh format ``"0-0 1-2"`` → {(0, 0), (1, 2)}."""
    links = set()
    for item in line.split():
        src, tgt = item.split("-")
        links.add((int(src), int(tgt)))
    return links


def symmetrize(forward: Links, reverse: Links, mode: str = "intersection") -> Links:
    """Combine the two directional alignments (both given as (src, tgt) pairs)."""
    if mode == "intersection":
        return forward & reverse
    if mode == "union":
        return forward | reverse
    raise ValueError(f"symmetrize mode must be 'intersection' or 'union', got {mode!r}")


def coverage(links: Links, src_tokens: Sequence[str], tgt_tokens: Sequence[str]) -> float:
    """WSPAlign-style coverage of the content (non-punctuation) tokens on both sides."""
    src_words = [i for i, t in enumerate(src_tokens) if is_word(t)]
    tgt_words = [j for j, t in enumerate(tgt_tokens) if is_word(t)]
    if not src_words or not tgt_words:
        return 0.0
    aligned_src = {i for i, _ in links}
    aligned_tgt = {j for _, j in links}
    src_share = sum(i in aligned_src for i in src_words) / len(src_words)
    tgt_share = sum(j in aligned_tgt for j in tgt_words) / len(tgt_words)
    return (src_share + tgt_share) / 2


class EflomalAligner:
    """Coverage scores from eflomal alignments, computed jointly with a reference corpus."""

    def __init__(self, reference_sources: Sequence[str] = (), reference_targets: Sequence[str] = (),
                 symmetrize_mode: str = "intersection", n_samplers: int = 3, seed: int | None = None):
        if len(reference_sources) != len(reference_targets):
            raise ValueError(
                f"alignment reference corpus: {len(reference_sources)} sources "
                f"but {len(reference_targets)} targets"
            )
        self.reference = [
            (alignment_tokens(s), alignment_tokens(t)) for s, t in zip(reference_sources, reference_targets)
        ]
        self.reference = [(s, t) for s, t in self.reference if s and t]
        self.symmetrize_mode = symmetrize_mode
        self.n_samplers = n_samplers
        self.seed = seed

    def score(self, sources: Sequence[str], hypotheses: Sequence[str]) -> list[float]:
        if len(sources) != len(hypotheses):
            raise ValueError(f"{len(sources)} sources but {len(hypotheses)} hypotheses")
        pairs = [(alignment_tokens(s), alignment_tokens(h)) for s, h in zip(sources, hypotheses)]
        alignable = [i for i, (s, h) in enumerate(pairs) if s and h]
        links = self._align([pairs[i] for i in alignable])
        scores = [0.0] * len(pairs)  # an empty side covers nothing
        for i, pair_links in zip(alignable, links):
            scores[i] = coverage(pair_links, *pairs[i])
        return scores

    def _align(self, pairs: list[tuple[list[str], list[str]]]) -> list[Links]:
        import eflomal

        if not pairs:
            return []
        corpus = self.reference + pairs
        aligner = eflomal.Aligner(n_samplers=self.n_samplers)
        with tempfile.TemporaryDirectory() as tmp, seeded_eflomal(self.seed, Path(tmp)):
            fwd, rev = Path(tmp) / "fwd", Path(tmp) / "rev"
            aligner.align(
                [" ".join(s) for s, _ in corpus],
                [" ".join(t) for _, t in corpus],
                links_filename_fwd=str(fwd),
                links_filename_rev=str(rev),
            )
            fwd_lines = fwd.read_text(encoding="utf-8").splitlines()
            rev_lines = rev.read_text(encoding="utf-8").splitlines()
        start = len(self.reference)
        return [
            symmetrize(parse_links(f), parse_links(r), self.symmetrize_mode)
            for f, r in zip(fwd_lines[start:], rev_lines[start:])
        ]


@contextlib.contextmanager
def seeded_eflomal(seed: int | None, work_dir: Path):
    """Environment under which the eflomal binary draws its randomness from ``seed`` (None: untouched)."""
    if seed is None:
        yield
        return
    seed_bytes = work_dir / "seed.bin"
    seed_bytes.write_bytes(np.random.default_rng(seed).bytes(4096))
    settings = {
        "LD_PRELOAD": " ".join(filter(None, [str(_seed_shim()), os.environ.get("LD_PRELOAD", "")])),
        "ALGHARB_SEED_BYTES": str(seed_bytes),
        "OMP_NUM_THREADS": "1",
    }
    saved = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _seed_shim() -> Path:
    """The compiled shim, built once per source version into the user cache."""
    source = Path(__file__).with_name("eflomal_seed.c")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    target = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "algharb" / f"eflomal_seed-{digest}.so"
    if target.exists():
        return target
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise RuntimeError("decode.align.seed: making eflomal reproducible needs a C compiler (cc) to build "
                           f"{source.name}; install one or set decode.align.seed: null (scores then vary slightly)")
    with atomic_path(target) as tmp:
        subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(tmp), str(source), "-ldl"], check=True,
                       capture_output=True)
    return target


WORD_SPAN = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+", re.UNICODE)
MARK = " \u00b6 "  # WSPAlign marks the query word with pilcrows


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the words of ``text`` (CJK characters one by one)."""
    return [m.span() for m in WORD_SPAN.finditer(text)]


def marked_queries(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """One query per word: the sentence with that word wrapped in pilcrows."""
    return [text[:a] + MARK + text[a:b] + MARK + text[b:] for a, b in spans]


def words_in_span(start: int, end: int, spans: list[tuple[int, int]]) -> list[int]:
    """Indices of the words lying entirely inside the predicted character span."""
    return [i for i, (a, b) in enumerate(spans) if a >= start and b <= end]


def merge_directions(forward: list[dict], backward: list[dict], src_spans, tgt_spans,
                     threshold: float = 0.1) -> Links:
    """WSPAlign's bidirectional rule on QA predictions ({start, end, score}).

    A source word's prediction spreads its score over the target words of its
    span (so long spans do not dominate); the reverse direction adds to pairs
    the forward direction proposed; pairs whose summed score exceeds
    ``threshold`` are links (src index, tgt index).
    """
    scores: dict[tuple[int, int], float] = {}
    for i, pred in enumerate(forward):
        hits = words_in_span(pred["start"], pred["end"], tgt_spans)
        for j in hits:
            scores[(i, j)] = pred["score"] / len(hits)
    for j, pred in enumerate(backward):
        hits = words_in_span(pred["start"], pred["end"], src_spans)
        for i in hits:
            if (i, j) in scores:
                scores[(i, j)] += pred["score"] / len(hits)
    return {pair for pair, score in scores.items() if score > threshold}


class WSPAlignAligner:
    """Coverage scores from WSPAlign span-prediction alignments (both directions)."""

    def __init__(self, model: str, threshold: float = 0.1, batch_size: int = 64, device: int | str | None = None):
        from transformers import pipeline

        if device is None:
            import torch

            device = 0 if torch.cuda.is_available() else -1
        self.pipe = pipeline("question-answering", model=model, tokenizer=model, device=device)
        self.threshold = threshold
        self.batch_size = batch_size

    def score(self, sources: Sequence[str], hypotheses: Sequence[str]) -> list[float]:
        if len(sources) != len(hypotheses):
            raise ValueError(f"{len(sources)} sources but {len(hypotheses)} hypotheses")
        return [self._score_pair(s, h) for s, h in zip(sources, hypotheses)]

    def _score_pair(self, source: str, hypothesis: str) -> float:
        src_spans, tgt_spans = word_spans(source), word_spans(hypothesis)
        if not src_spans or not tgt_spans:
            return 0.0
        forward = self._predict(marked_queries(source, src_spans), hypothesis)
        backward = self._predict(marked_queries(hypothesis, tgt_spans), source)
        links = merge_directions(forward, backward, src_spans, tgt_spans, self.threshold)
        src_tokens = [source[a:b] for a, b in src_spans]
        tgt_tokens = [hypothesis[a:b] for a, b in tgt_spans]
        return coverage(links, src_tokens, tgt_tokens)

    def _predict(self, questions: list[str], context: str) -> list[dict]:
        out = self.pipe(question=questions, context=[context] * len(questions), batch_size=self.batch_size,
                        handle_impossible_answer=False)
        return out if isinstance(out, list) else [out]


ALIGNERS = {"eflomal": EflomalAligner, "wspalign": WSPAlignAligner}
