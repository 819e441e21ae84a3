"""Labelled noise for the raw training corpus of the demo world.

Each kind imitates a real defect of web-crawled parallel data, so that each
cleaning filter has something to catch and the labels can score it:

* ``misaligned`` — the target belongs to another pair (caught by QE);
* ``untranslated_copy`` — target = source (copy filter);
* ``wrong_language`` — target in the other invented language, or an
  unrelated English sentence (language ID);
* ``length_outlier`` — target repeated 4–7 times, or a 1–2-word fragment of
  a long sentence (length-ratio filter);
* ``non_alphabetic`` — both sides mostly digits, punctuation, URLs, markup;
* ``truncated`` — target keeps only its first ≤70% of words (an omission; QE);
* ``duplicate`` — exact repeat of an earlier clean pair (dedup filter);
* ``near_duplicate`` — an earlier clean pair again with other casing and
  punctuation (near-duplicate filter).
"""

from __future__ import annotations

import math
import random
from typing import Callable

NOISE_KINDS = (
    "misaligned",
    "untranslated_copy",
    "wrong_language",
    "length_outlier",
    "non_alphabetic",
    "truncated",
    "duplicate",
    "near_duplicate",
)
LABELS = ("clean",) + NOISE_KINDS

MIN_TRUNCATED_WORDS = 4  # shorter targets cannot lose 30% and keep a word
MIN_FRAGMENT_SOURCE_WORDS = 10


def assign_kinds(rng: random.Random, n_lines: int, rates: dict[str, float]) -> list[str]:
    """Exactly ``round(rate * n)`` lines of each kind at random positions.

    Line 1 is always clean so that every duplicate has an earlier original.
    """
    kinds = []
    for kind in NOISE_KINDS:
        kinds += [kind] * round(rates[kind] * n_lines)
    kinds = kinds[: max(0, n_lines - 1)]
    kinds += ["clean"] * (n_lines - len(kinds))
    rng.shuffle(kinds)
    if kinds and kinds[0] != "clean":
        first_clean = kinds.index("clean")
        kinds[0], kinds[first_clean] = kinds[first_clean], kinds[0]
    return kinds


def junk_line(rng: random.Random) -> str:
    """A line of crawl debris: numbers, punctuation, URLs, markup."""

    def digits(low: int, high: int) -> str:
        return str(rng.randint(10**low, 10**high))

    templates = (
        lambda: "| " + " | ".join(f"{digits(1, 3)}.{digits(0, 2)}" for _ in range(rng.randint(3, 6))) + " |",
        lambda: "".join(f"<td>{digits(1, 4)}</td>" for _ in range(rng.randint(2, 4))),
        lambda: f"http://{digits(1, 2)}.{digits(1, 2)}.{digits(1, 2)}.{digits(1, 2)}:{digits(3, 4)}/{digits(3, 6)}?id={digits(3, 6)}",
        lambda: f"+{digits(1, 2)} ({digits(0, 1)}) {digits(2, 3)} {digits(3, 4)}-{digits(3, 4)} / {rng.randint(1990, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        lambda: " *** ".join(digits(1, 5) for _ in range(rng.randint(3, 5))),
        lambda: " ".join(f"[{digits(0, 2)}]" for _ in range(rng.randint(2, 4)))
        + f" {digits(1, 2)}.{digits(0, 1)} % — {digits(1, 2)} %",
    )
    return rng.choice(templates)()


def truncate(target: str, rng: random.Random) -> str:
    """A strict word prefix of ``target`` missing at least 30% of its words."""
    tokens = target.split()
    keep_max = math.floor(0.7 * len(tokens))
    keep_min = max(1, math.ceil(0.4 * len(tokens)))
    return " ".join(tokens[: rng.randint(min(keep_min, keep_max), keep_max)])


def length_outlier(source: str, target: str, rng: random.Random) -> str:
    """A 1–2-word fragment of a long sentence, else the target repeated 4–7 times."""
    tokens = target.split()
    if len(source.split()) >= MIN_FRAGMENT_SOURCE_WORDS and len(tokens) >= 3 and rng.random() < 0.5:
        width = rng.randint(1, 2)
        start = rng.randint(1, len(tokens) - width)
        return " ".join(tokens[start : start + width])
    return " ".join([target] * rng.randint(4, 7))


def near_copy(text: str, rng: random.Random) -> str:
    """``text`` with different casing and punctuation, same words (never equal to ``text``)."""
    words = text.rstrip(".!?").split()
    style = rng.randrange(3)
    if style == 0:
        varied = " ".join(words).lower() + rng.choice(["", "!", " ..."])
    elif style == 1:
        varied = " ".join(words).upper()
    else:
        varied = '"' + " , ".join(words[:1] + [" ".join(words[1:])]).strip(" ,") + '"'
    return varied if varied != text else varied + "!"


def build_raw_corpus(
    rng: random.Random,
    sources: list[str],
    translate: Callable[[str, str], str],
    tgt_lang: str,
    other_lang: str,
    rates: dict[str, float],
) -> tuple[list[str], list[str], list[str]]:
    """Source lines, target lines and labels of one pair's noisy corpus.

    ``translate(source, lang)`` is the oracle; ``sources`` is reordered in
    place where a kind needs a long enough sentence.
    """
    kinds = assign_kinds(rng, len(sources), rates)
    _move_long_sentences_to_truncations(kinds, sources, lambda i: translate(sources[i], tgt_lang))
    # Borrowed sentences come from lines that keep their own source, so every
    # borrowed text also appears, aligned, elsewhere in the corpus.
    copies = ("non_alphabetic", "duplicate", "near_duplicate")
    donors = [j for j, kind in enumerate(kinds) if kind not in copies]
    src_lines, tgt_lines = [], []
    clean_so_far: list[int] = []
    for i, kind in enumerate(kinds):
        source = sources[i]
        target = "" if kind in copies else translate(source, tgt_lang)
        if kind == "misaligned":
            target = _misaligned_target(rng, target, donors, i, lambda j: translate(sources[j], tgt_lang))
        elif kind == "untranslated_copy":
            target = source
        elif kind == "wrong_language":
            target = translate(source, other_lang) if rng.random() < 0.75 else sources[_donor(rng, donors, i)]
        elif kind == "length_outlier":
            target = length_outlier(source, target, rng)
        elif kind == "non_alphabetic":
            source = junk_line(rng)
            target = source if rng.random() < 0.5 else junk_line(rng)
        elif kind == "truncated":
            target = truncate(target, rng)
        elif kind == "duplicate":
            j = rng.choice(clean_so_far)
            source, target = src_lines[j], tgt_lines[j]
        elif kind == "near_duplicate":
            j = rng.choice(clean_so_far)
            source, target = near_copy(src_lines[j], rng), near_copy(tgt_lines[j], rng)
        else:
            clean_so_far.append(i)
        src_lines.append(source)
        tgt_lines.append(target)
    return src_lines, tgt_lines, kinds


def _donor(rng: random.Random, donors: list[int], i: int) -> int:
    """A random line other than ``i`` whose sentence can be borrowed."""
    while True:
        j = donors[rng.randrange(len(donors))]
        if j != i or len(donors) == 1:
            return j


def _misaligned_target(
    rng: random.Random, target: str, donors: list[int], i: int, target_of: Callable[[int], str]
) -> str:
    """The target of another random line, guaranteed to differ from ``target``."""
    for _ in range(100):
        other = target_of(_donor(rng, donors, i))
        if other != target:
            return other
    raise ValueError("cannot misalign: the corpus holds almost only identical targets; raise n_train")


def _move_long_sentences_to_truncations(kinds: list[str], sources: list[str], target_of: Callable[[int], str]) -> None:
    """Swap sources so that every truncated line has a target worth truncating."""
    candidates = (j for j, kind in enumerate(kinds) if kind == "clean")
    for i, kind in enumerate(kinds):
        if kind != "truncated" or len(target_of(i).split()) >= MIN_TRUNCATED_WORDS:
            continue
        for j in candidates:
            if len(target_of(j).split()) >= MIN_TRUNCATED_WORDS:
                sources[i], sources[j] = sources[j], sources[i]
                break
        else:
            raise ValueError("too few long sentences to truncate; raise max_words or lower noise.truncated")
