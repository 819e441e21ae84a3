"""``eflomal``: a Bayesian IBM-style aligner that needs no pretrained model.

Candidates are aligned *jointly* with a clean reference corpus (the cleaned
training data, ``decode.align.reference_pairs`` of it), which gives the
sampler the lexical statistics it needs; only the candidates' links are read
back. eflomal seeds its Gibbs sampler from /dev/urandom and offers no seed
option; with ``seed`` set, a small preloaded shim (``eflomal_seed.c``,
compiled with ``cc`` on first use) feeds it bytes drawn from the seed
instead, and its samplers run on one thread (OpenMP scheduling would reorder
their draws), which makes the scores identical from run to run. Without
``seed`` they vary slightly.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from algharb.io import atomic_path, read_jsonl

from ..config import AlignConfig
from .base import ALIGNERS, AlignerInputs, Links, alignment_tokens, check_lengths, coverage


def parse_links(line: str) -> Links:
    """Pharaoh format ``"0-0 1-2"`` → {(0, 0), (1, 2)}."""
    links = set()
    for item in line.split():
        src, tgt = item.split("-")
        links.add((int(src), int(tgt)))
    return links


def symmetrize(forward: Links, reverse: Links, mode: str) -> Links:
    """Combine the two directional alignments (both given as (src, tgt) pairs)."""
    if mode == "intersection":
        return forward & reverse
    if mode == "union":
        return forward | reverse
    raise ValueError(f"symmetrize mode must be 'intersection' or 'union', got {mode!r}")


class EflomalAligner:
    """Coverage scores from eflomal alignments, computed jointly with a reference corpus.

    ``config`` gives ``symmetrize`` and ``seed``; the reference corpus is given as is.
    """

    def __init__(self, config: AlignConfig, reference_sources: Sequence[str] = (),
                 reference_targets: Sequence[str] = (), n_samplers: int = 3):
        if len(reference_sources) != len(reference_targets):
            raise ValueError(
                f"alignment reference corpus: {len(reference_sources)} sources "
                f"but {len(reference_targets)} targets"
            )
        self.reference = [
            (alignment_tokens(s), alignment_tokens(t)) for s, t in zip(reference_sources, reference_targets)
        ]
        self.reference = [(s, t) for s, t in self.reference if s and t]
        self.symmetrize_mode = config.symmetrize
        self.n_samplers = n_samplers
        self.seed = config.seed

    def score(self, sources: Sequence[str], hypotheses: Sequence[str]) -> list[float]:
        check_lengths(sources, hypotheses)
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


@ALIGNERS.register("eflomal")
def eflomal_aligner(config: AlignConfig, inputs: AlignerInputs) -> EflomalAligner:
    """An eflomal aligner over the first ``reference_pairs`` clean training pairs (none without a file)."""
    reference = read_jsonl(inputs.reference_path)[: config.reference_pairs] if inputs.reference_path else []
    return EflomalAligner(config, [r["src"] for r in reference], [r["tgt"] for r in reference])


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
