"""Candidates of known quality for training the demo's COMET stand-ins.

Clean (source, reference) pairs become candidates with omissions, wrong
words, wrong suffixes, shuffles, garbage, repeats, copies and unrelated
sentences, labelled by chrF mixed with word-level F1 against the reference
(chrF alone rated appended garbage above a one-word omission). Step 2 of
:mod:`algharb.demo.comet_standin`.

Each candidate also carries the error spans its corruption made, in the
MQM-style annotation XCOMET was trained on ("xCOMET: Transparent Machine
Translation Evaluation through Fine-grained Error Detection", Guerreiro et
al. 2024, §3): character spans of the candidate with a severity, given by
what the edit did (``EDIT_SEVERITY``):

- a wrong word (a different word in its place) is ``major``: the meaning changed;
- a wrong suffix (stem kept, ending changed) is ``minor``: an agreement or
  inflection slip that keeps the meaning recoverable;
- words moved by a local shuffle are ``minor`` (word order);
- inserted garbage words are ``major`` (a hallucinated addition);
- a span repeated once more is ``minor``, repeated two or three more times
  ``major`` (the looping failure of LLM decoders); only the copies are marked;
- a copy of the source, an unrelated sentence and random words are one
  ``critical`` span over the whole candidate;
- omissions and truncation leave no span: an omitted word has no position in
  the candidate, and MQM-style span annotation (as in the WMT error-span
  data XCOMET learned from) marks target text only. The graded score still
  charges them, and a stand-in sees omissions only through that score.

Edits chained by ``combined`` keep the worse severity where they overlap.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Callable, Mapping, Sequence

import pandas as pd

# Relative frequency of each candidate kind. Mild errors dominate because the
# metrics mostly have to rank close candidates (MBR, RL rewards); the gross
# failures (copies, unrelated output) teach the QE filter what to throw away.
DEFAULT_CORRUPTION_WEIGHTS: dict[str, float] = {
    "reference": 0.10,
    "omit_word": 0.09,
    "omit_words": 0.09,
    "truncate": 0.07,
    "wrong_word": 0.11,
    "wrong_suffix": 0.08,
    "shuffle": 0.07,
    "garbage": 0.08,
    "repeat": 0.05,
    "combined": 0.12,
    "copy": 0.05,
    "unrelated": 0.06,
    "random_words": 0.03,
}
# Edits that "combined" chains (two of them) to fill in the middle of the scale.
_LOCAL_EDITS = ("omit_word", "omit_words", "truncate", "wrong_word", "wrong_suffix", "shuffle", "garbage", "repeat")
# XCOMET's error severities, mildest first (its ``error_labels``).
SEVERITIES = ("minor", "major", "critical")
# Severity of the span each kind of candidate carries (module docstring); omissions carry none.
EDIT_SEVERITY: dict[str, str | None] = {
    "omit_word": None,
    "omit_words": None,
    "truncate": None,
    "wrong_word": "major",
    "wrong_suffix": "minor",
    "shuffle": "minor",
    "garbage": "major",
    "repeat_once": "minor",
    "repeat_more": "major",
    "copy": "critical",
    "unrelated": "critical",
    "random_words": "critical",
}
# A word's error tag (one of SEVERITIES) or None, one per unit of a candidate.
Tags = list[str | None]


def make_graded_examples(
    pairs: Sequence[tuple[str, str]],
    seed: int,
    n_examples: int,
    corruption_weights: Mapping[str, float] | None = None,
    chrf_weight: float = 0.5,
    chrf_beta: float = 1.0,
) -> pd.DataFrame:
    """Graded candidates built from clean ``(source, reference)`` pairs.

    Each row takes a random pair and a random corruption of its reference (see
    ``DEFAULT_CORRUPTION_WEIGHTS``) and is labelled with :func:`graded_label`,
    so the reference itself scores 1.0 and copies of the source or unrelated
    sentences score near 0. Columns: ``src, mt, ref, score, corruption``
    (the kind of candidate, for analysis; COMET reads only the first four)
    and ``annotations``: the candidate's error spans as a JSON list of
    ``{"start", "end", "severity"}`` (character offsets into ``mt``, end
    exclusive; see the module docstring), the input of COMET's word-level
    tagging. Deterministic for a given ``seed``; the annotations draw no
    random numbers, so the other columns are those the generator made before
    it annotated.
    """
    pairs = _checked_pairs(pairs)
    if n_examples < 1:
        raise ValueError(f"make_graded_examples: n_examples must be >= 1, got {n_examples}")
    weights = dict(DEFAULT_CORRUPTION_WEIGHTS if corruption_weights is None else corruption_weights)
    unknown = sorted(set(weights) - set(DEFAULT_CORRUPTION_WEIGHTS))
    if unknown or not any(w > 0 for w in weights.values()) or any(w < 0 for w in weights.values()):
        raise ValueError(
            f"make_graded_examples: corruption_weights must be non-negative, not all zero, with keys "
            f"from {sorted(DEFAULT_CORRUPTION_WEIGHTS)}; got {dict(weights)}"
        )
    if not 0.0 <= chrf_weight <= 1.0:
        raise ValueError(f"make_graded_examples: chrf_weight must be in [0, 1], got {chrf_weight}")

    rng = random.Random(seed)
    vocabulary = sorted({unit for _, ref in pairs for unit in _split_units(ref)[0]})
    kinds, kind_weights = zip(*sorted(weights.items()))
    rows = []
    for _ in range(n_examples):
        pair_index = rng.randrange(len(pairs))
        source, reference = pairs[pair_index]
        kind = rng.choices(kinds, kind_weights)[0]
        candidate, kind, spans = _corrupt(kind, pair_index, pairs, vocabulary, rng)
        rows.append(
            {
                "src": source,
                "mt": candidate,
                "ref": reference,
                "score": graded_label(candidate, reference, chrf_weight, chrf_beta),
                "corruption": kind,
                "annotations": json.dumps(spans),
            }
        )
    return pd.DataFrame(rows, columns=["src", "mt", "ref", "score", "corruption", "annotations"])


def graded_label(candidate: str, reference: str, chrf_weight: float = 0.5, chrf_beta: float = 1.0) -> float:
    """Quality in [0, 1]: ``chrf_weight`` · chrF/100 + (1 − ``chrf_weight``) · word F1.

    chrF keeps partial credit for near-miss words (wrong endings); word-level
    F1 charges every missing or extra word. Standard chrF (β = 2) weights
    recall twice as much as precision and so rates a reference with appended
    garbage above a one-word omission; ``chrf_beta = 1`` charges additions
    (hallucinations) and omissions alike, as MQM counts both as accuracy errors.
    """
    chrf = _chrf(candidate, reference, chrf_beta)
    return chrf_weight * chrf + (1.0 - chrf_weight) * word_f1(candidate, reference)


def word_f1(candidate: str, reference: str) -> float:
    """F1 of the bags of words (characters for unspaced scripts) of candidate and reference."""
    hyp_units = Counter(_split_units(candidate)[0])
    ref_units = Counter(_split_units(reference)[0])
    overlap = sum((hyp_units & ref_units).values())
    if overlap == 0:
        return 0.0
    precision = overlap / sum(hyp_units.values())
    recall = overlap / sum(ref_units.values())
    return 2 * precision * recall / (precision + recall)


def _chrf(candidate: str, reference: str, beta: float) -> float:
    """Sentence chrF in [0, 1] (sacrebleu; character 6-grams, no word n-grams)."""
    from sacrebleu.metrics import CHRF

    if beta not in _CHRF_BY_BETA:
        _CHRF_BY_BETA[beta] = CHRF(beta=beta)
    return _CHRF_BY_BETA[beta].sentence_score(candidate, [reference]).score / 100.0


_CHRF_BY_BETA: dict = {}


def _checked_pairs(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    checked = []
    for index, pair in enumerate(pairs):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(t, str) for t in pair)):
            raise ValueError(f"make_graded_examples: pairs[{index}] must be a (source, reference) pair of strings")
        if not pair[0].strip() or not pair[1].strip():
            raise ValueError(f"make_graded_examples: pairs[{index}] has an empty source or reference")
        checked.append((pair[0], pair[1]))
    if len(checked) < 2:
        raise ValueError(f"make_graded_examples: pairs needs at least 2 pairs (got {len(checked)})")
    return checked


def _split_units(text: str) -> tuple[list[str], str]:
    """Words and the joiner that puts them back together.

    Scripts written without spaces (Chinese, Japanese) are edited and counted
    per character, otherwise a whole sentence would be one "word".
    """
    words = text.split()
    if len(words) == 1 and len(words[0]) > 1:
        return list(words[0]), ""
    return words, " "


def _corrupt(
    kind: str, pair_index: int, pairs: list[tuple[str, str]], vocabulary: list[str], rng: random.Random
) -> tuple[str, str, list[dict]]:
    """Apply corruption ``kind`` to the reference of ``pairs[pair_index]``.

    Returns the candidate, the kind actually applied and the candidate's
    error spans: an edit that cannot change a sentence (e.g. omitting from a
    one-word sentence) falls back to a wrong word, then to appended garbage,
    which always changes it.
    """
    source, reference = pairs[pair_index]
    units, joiner = _split_units(reference)
    if kind == "reference":
        return reference, kind, []
    if kind == "copy":
        return source, kind, _whole_text_span(source, kind)
    if kind == "unrelated":
        other = rng.randrange(len(pairs) - 1)
        candidate = pairs[other + (other >= pair_index)][1]
        return candidate, kind, _whole_text_span(candidate, kind)
    if kind == "random_words":
        candidate = joiner.join(rng.choice(vocabulary) for _ in units)
        return candidate, kind, _whole_text_span(candidate, kind)

    planned = rng.sample(_LOCAL_EDITS, 2) if kind == "combined" else [kind]
    for label, edits in ((kind, planned), ("wrong_word", ["wrong_word"])):
        edited, tags = units, [None] * len(units)
        for edit in edits:
            edited, tags = _EDITS[edit](edited, tags, vocabulary, rng) or (edited, tags)
        candidate = joiner.join(edited)
        if candidate.strip() and candidate != reference:
            return candidate, label, _spans(edited, tags, joiner)
    edited, tags = _garbage(units, [None] * len(units), vocabulary, rng)
    return joiner.join(edited), "garbage", _spans(edited, tags, joiner)


def _whole_text_span(text: str, kind: str) -> list[dict]:
    """One span over ``text`` without its outer whitespace (a copy, an unrelated sentence)."""
    start = len(text) - len(text.lstrip())
    return [{"start": start, "end": len(text.rstrip()), "severity": EDIT_SEVERITY[kind]}]


def _spans(units: list[str], tags: Tags, joiner: str) -> list[dict]:
    """Character spans of the tagged units in ``joiner.join(units)``; neighbours of one severity merge."""
    spans: list[dict] = []
    position = 0
    for unit, tag in zip(units, tags):
        start, end = position, position + len(unit)
        if tag is not None:
            if spans and spans[-1]["severity"] == tag and spans[-1]["end"] + len(joiner) == start:
                spans[-1]["end"] = end
            else:
                spans.append({"start": start, "end": end, "severity": tag})
        position = end + len(joiner)
    return spans


def _worse(tag: str | None, severity: str) -> str:
    """The more severe of an existing tag and a new one (chained edits of ``combined``)."""
    if tag is None:
        return severity
    return max(tag, severity, key=SEVERITIES.index)


# Every edit takes the units, their tags, the vocabulary and the generator and
# returns the edited units and tags, or None when it cannot change the units.
# The tags follow the random draws; they never draw numbers themselves, so the
# candidates are the same as without them.


def _omit_word(units: list[str], tags: Tags, vocabulary: list[str], rng: random.Random) -> tuple[list, Tags] | None:
    if len(units) < 2:
        return None
    drop = rng.randrange(len(units))
    return units[:drop] + units[drop + 1 :], tags[:drop] + tags[drop + 1 :]


def _omit_words(units: list[str], tags: Tags, vocabulary: list[str], rng: random.Random) -> tuple[list, Tags] | None:
    if len(units) < 3:
        return None
    n_drop = rng.randint(2, max(2, int(len(units) * 0.5)))
    keep = sorted(rng.sample(range(len(units)), len(units) - min(n_drop, len(units) - 1)))
    return [units[i] for i in keep], [tags[i] for i in keep]


def _truncate(units: list[str], tags: Tags, vocabulary: list[str], rng: random.Random) -> tuple[list, Tags] | None:
    if len(units) < 2:
        return None
    keep = max(1, int(len(units) * rng.uniform(0.3, 0.9)))
    return units[:keep], tags[:keep]


def _wrong_word(units: list[str], tags: Tags, vocabulary: list[str], rng: random.Random) -> tuple[list, Tags] | None:
    edited, marked = list(units), list(tags)
    for position in rng.sample(range(len(units)), min(len(units), rng.randint(1, 3))):
        word = rng.choice(vocabulary)
        if word != edited[position]:  # drawing the word already there is no error
            marked[position] = _worse(marked[position], EDIT_SEVERITY["wrong_word"])
        edited[position] = word
    return edited, marked


def _wrong_suffix(units: list[str], tags: Tags, vocabulary: list[str], rng: random.Random) -> tuple[list, Tags] | None:
    """Change word endings (agreement / inflection errors): keep the stem, swap the tail."""
    candidates = [i for i, unit in enumerate(units) if len(unit) >= 3]
    if not candidates:
        return None
    letters = sorted({ch for word in vocabulary for ch in word if ch.isalpha()}) or list("aeiou")
    edited, marked = list(units), list(tags)
    for position in rng.sample(candidates, min(len(candidates), rng.randint(1, 3))):
        word = edited[position]
        cut = rng.randint(1, min(3, len(word) - 1))
        edited[position] = word[:-cut] + "".join(rng.choice(letters) for _ in range(rng.randint(1, 3)))
        if edited[position] != word:
            marked[position] = _worse(marked[position], EDIT_SEVERITY["wrong_suffix"])
    return edited, marked


def _shuffle(units: list[str], tags: Tags, vocabulary: list[str], rng: random.Random) -> tuple[list, Tags] | None:
    """Shuffle one window of 2–4 neighbouring words (a local reordering error); moved words are marked."""
    if len(units) < 2:
        return None
    width = rng.randint(2, min(4, len(units)))
    start = rng.randrange(len(units) - width + 1)
    # Shuffling the window's positions draws the same numbers as shuffling its
    # words (random.shuffle depends on the length only) and says where each went.
    order = list(range(start, start + width))
    rng.shuffle(order)
    window = [units[i] for i in order]
    window_tags = [tags[i] for i in order]
    for offset, origin in enumerate(order):
        if units[origin] != units[start + offset]:
            window_tags[offset] = _worse(window_tags[offset], EDIT_SEVERITY["shuffle"])
    return units[:start] + window + units[start + width :], tags[:start] + window_tags + tags[start + width :]


def _garbage(units: list[str], tags: Tags, vocabulary: list[str], rng: random.Random) -> tuple[list, Tags] | None:
    """Append or insert words that do not belong (hallucinated additions)."""
    extra = [rng.choice(vocabulary) for _ in range(rng.randint(1, max(1, len(units) // 2 + 1)))]
    position = len(units) if rng.random() < 0.6 else rng.randrange(len(units) + 1)
    extra_tags = [EDIT_SEVERITY["garbage"]] * len(extra)
    return units[:position] + extra + units[position:], tags[:position] + extra_tags + tags[position:]


def _repeat(units: list[str], tags: Tags, vocabulary: list[str], rng: random.Random) -> tuple[list, Tags] | None:
    """Repeat a span 1–3 extra times (the looping failure of LLM decoders); the copies are marked."""
    width = rng.randint(1, min(3, len(units)))
    start = rng.randrange(len(units) - width + 1)
    span = units[start : start + width]
    times = rng.randint(1, 3)
    severity = EDIT_SEVERITY["repeat_once" if times == 1 else "repeat_more"]
    copy_tags = [_worse(tag, severity) for tag in tags[start : start + width]] * times
    end = start + width
    return units[:end] + span * times + units[end:], tags[:end] + copy_tags + tags[end:]


_EDITS: dict[str, Callable[[list[str], Tags, list[str], random.Random], tuple[list[str], Tags] | None]] = {
    "omit_word": _omit_word,
    "omit_words": _omit_words,
    "truncate": _truncate,
    "wrong_word": _wrong_word,
    "wrong_suffix": _wrong_suffix,
    "shuffle": _shuffle,
    "garbage": _garbage,
    "repeat": _repeat,
}
