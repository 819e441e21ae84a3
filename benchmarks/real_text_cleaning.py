"""Real-text check of the rule filters: genuine human translations kept, injected noise caught.

The rule filters were first calibrated on the demo world's invented
languages. This check runs them on real parallel text that ships offline: the
Unicode CLDR locale data inside Babel, whose names of territories, languages,
scripts, currencies and units were translated by people, per language. For
every direction of the paper's config (``config/wmt25.yaml``: en→zh, ja, ko,
arz, bho, cs, et, ru, uk, sr_Latn; cs→de, uk; ja→zh) it builds

* the **genuine pairs**: the same CLDR entry in both languages, normalised as
  the workflow normalises, deduplicated; entries spelt identically in both
  languages are left out (counted): no copy rule can tell "Chile → Chile"
  from an untranslated copy;
* **injected noise** of every kind a rule exists to catch, ``--per-kind`` lines
  each, seeded: ``untranslated_copy`` (target = source), ``non_alphabetic``
  (crawl debris on both sides, the demo world's generator), ``length_outlier``
  (the target repeated until it is six times the source's length, the way a
  failed sentence split glues segments together: the demo world's 4-7
  repetitions of a sentence give ratios of 4-7, while for one-word names a
  repetition must be longer to be an outlier at all), ``duplicate`` (an earlier
  genuine pair again) and ``near_duplicate`` (one again with other casing and
  punctuation, the demo world's generator);

runs the paper config's rule filters (``clean.filters`` and its
``per_pair`` overrides; without ``language_id``, whose real model, fastText's
lid.176, cannot be downloaded here) with :func:`algharb.data.clean.apply_rule_filters`,
and reports per direction the share of genuine pairs kept (target ≥ 98 %) and
the recall of each noise kind (target ≥ 0.99), with the reasons genuine pairs
were lost.

    .venv/bin/python benchmarks/real_text_cleaning.py                  # the table
    .venv/bin/python benchmarks/real_text_cleaning.py --show-lost 5    # and lost pairs
    .venv/bin/python benchmarks/real_text_cleaning.py --calibrate      # CHARS_PER_WORD from CLDR

``--calibrate`` derives the characters per English word of the languages
written without spaces from CLDR's multi-word phrases (relative date fields,
unit names and patterns, list patterns), the numbers behind
``algharb.data.textstats.CHARS_PER_WORD``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from algharb.data.clean import apply_rule_filters  # noqa: E402
from algharb.data.config import CleanConfig  # noqa: E402
from algharb.data.ingest import ParallelCorpus  # noqa: E402
from algharb.data.normalize import base_language, normalize  # noqa: E402
from algharb.data.textstats import CHARS_PER_WORD, make_length_counter  # noqa: E402
from algharb.demo.filter_quality import CLEAN, filter_quality  # noqa: E402
from algharb.demo.world_noise import junk_line, near_copy  # noqa: E402

PAPER_CONFIG = ROOT / "config" / "wmt25.yaml"
# The paper's language codes → CLDR locales (Egyptian Arabic has no CLDR
# locale of its own: Arabic as used in Egypt stands in).
CLDR_LOCALES = {"en": "en", "zh": "zh_Hans", "ja": "ja", "ko": "ko", "arz": "ar_EG", "bho": "bho", "cs": "cs",
                "et": "et", "ru": "ru", "uk": "uk", "sr_Latn": "sr_Latn", "de": "de"}
NAME_FIELDS = ("territories", "languages", "scripts", "currency_names")
PHRASE_FIELDS = ("date_fields", "unit_patterns", "unit_display_names", "compound_unit_patterns", "list_patterns")
NOISE_KINDS = ("untranslated_copy", "non_alphabetic", "length_outlier", "duplicate", "near_duplicate")
OUTLIER_FACTOR = 6
TARGET_KEPT, TARGET_RECALL = 0.98, 0.99
_PLACEHOLDER = re.compile(r"\{\d+\}")
_ASCII_RUN = re.compile(r"[0-9A-Za-z]+")


def _locale_data(lang: str):
    from babel import Locale  # dev dependency: only this check needs it

    return Locale.parse(CLDR_LOCALES.get(lang, lang))._data


def _flatten(value, key=()):
    """(key path, text) for every string of a nested CLDR mapping."""
    if isinstance(value, str):
        yield key, value
    elif hasattr(value, "items"):
        for sub_key, sub_value in value.items():
            yield from _flatten(sub_value, key + (str(sub_key),))
    elif isinstance(value, (list, tuple)):
        for index, sub_value in enumerate(value):
            yield from _flatten(sub_value, key + (str(index),))


def cldr_names(lang: str) -> dict[tuple, str]:
    """Entry → name: territories, languages, scripts, currencies and (long) unit names of ``lang``."""
    data = _locale_data(lang)
    names = {(field, key): text for field in NAME_FIELDS for key, text in data[field].items()}
    for key, forms in data["unit_display_names"].items():
        if hasattr(forms, "get") and isinstance(forms.get("long"), str):
            names[("unit", key)] = forms["long"]
    return names


def genuine_pairs(src_lang: str, tgt_lang: str) -> tuple[list[tuple[str, str]], int]:
    """The direction's genuine pairs (normalised, distinct, sorted) and how many identical ones were left out."""
    src_names, tgt_names = cldr_names(src_lang), cldr_names(tgt_lang)
    pairs, identical = set(), set()
    for key in src_names.keys() & tgt_names.keys():
        src, tgt = normalize(src_names[key], src_lang), normalize(tgt_names[key], tgt_lang)
        if src and tgt:
            (identical if src == tgt else pairs).add((src, tgt))
    return sorted(pairs), len(identical)


def length_outlier(src: str, tgt: str, src_lang: str, tgt_lang: str) -> str:
    """The target repeated until it is ``OUTLIER_FACTOR`` times the source's length in word equivalents."""
    src_length = make_length_counter(src_lang, "auto")(src)
    tgt_length = max(make_length_counter(tgt_lang, "auto")(tgt), 1e-9)
    copies = max(2, -int(-OUTLIER_FACTOR * max(src_length, 1) // tgt_length))
    return " ".join([tgt] * copies)


def noisy_corpus(pairs: list[tuple[str, str]], src_lang: str, tgt_lang: str, per_kind: int,
                 seed: int) -> tuple[list[tuple[str, str]], list[str]]:
    """The genuine pairs, then ``per_kind`` lines of each noise kind; returns (pairs, labels), seeded.

    The noise comes after every genuine pair, so that a (near) duplicate is
    the repeat of a line already seen, as dedup (first occurrence kept) sees it.
    """
    rng = random.Random(f"{seed}/{src_lang}-{tgt_lang}")
    noise = []
    for kind in NOISE_KINDS:
        for src, tgt in rng.sample(pairs, min(per_kind, len(pairs))):
            if kind == "untranslated_copy":
                noise.append(((src, src), kind))
            elif kind == "non_alphabetic":
                junk = junk_line(rng)
                noise.append(((junk, junk if rng.random() < 0.5 else junk_line(rng)), kind))
            elif kind == "length_outlier":
                noise.append(((src, length_outlier(src, tgt, src_lang, tgt_lang)), kind))
            elif kind == "duplicate":
                noise.append(((src, tgt), kind))
            else:
                noise.append(((near_copy(src, rng), near_copy(tgt, rng)), kind))
    rng.shuffle(noise)
    rows = [(pair, CLEAN) for pair in pairs] + noise
    return [pair for pair, _ in rows], [kind for _, kind in rows]


def paper_rules(pair: str) -> dict:
    """The paper config's rule filters for ``pair`` (per_pair applied), without language ID."""
    clean = yaml.safe_load(PAPER_CONFIG.read_text(encoding="utf-8"))["clean"]
    settings = CleanConfig.from_dict(clean, where="clean").rule_settings(pair)
    filters = {name: options for name, options in settings["filters"].items() if name != "language_id"}
    return {"filters": filters, "normalize": settings["normalize"]}


def measure(pair: str, per_kind: int = 200, seed: int = 1) -> dict:
    """Genuine pairs kept and recall per noise kind for one direction, with the lost pairs."""
    src_lang, tgt_lang = pair.split("-")
    pairs, identical = genuine_pairs(src_lang, tgt_lang)
    lines, labels = noisy_corpus(pairs, src_lang, tgt_lang, per_kind, seed)
    decisions = apply_rule_filters(ParallelCorpus.from_pairs(lines, origin=f"CLDR {pair}"), src_lang, tgt_lang,
                                   paper_rules(pair), progress=False)
    label_table = pd.DataFrame({"line": decisions["line"], "kind": labels})
    quality = filter_quality(decisions, label_table)
    lost = decisions[(~decisions["kept"]) & (label_table["kind"] == CLEAN)]
    return {
        "pair": pair, "genuine": len(pairs), "identical_left_out": identical,
        "kept": 1.0 - float(quality.loc[CLEAN, "rejected_share"]) if CLEAN in quality.index else float("nan"),
        "recall": {kind: float(quality.loc[kind, "rejected_share"]) for kind in NOISE_KINDS if kind in quality.index},
        "lost_by": lost["reason"].value_counts().to_dict(),
        "lost": list(zip(lost["src"], lost["tgt"], lost["reason"])),
    }


def paper_pairs() -> list[str]:
    return yaml.safe_load(PAPER_CONFIG.read_text(encoding="utf-8"))["pairs"]


def calibrate(langs=tuple(CHARS_PER_WORD)) -> dict[str, dict]:
    """Characters per English word, pooled over CLDR's multi-word phrases, per unspaced language."""
    english = {key: text for field in PHRASE_FIELDS for key, text in _flatten(_locale_data("en").get(field, {}),
                                                                               (field,))}
    results = {}
    for lang in langs:
        other = {key: text for field in PHRASE_FIELDS
                 for key, text in _flatten(_locale_data(lang).get(field, {}), (field,))}
        chars = words = phrases = 0
        for key in english.keys() & other.keys():
            english_words = _PLACEHOLDER.sub(" ", english[key]).split()
            text = _PLACEHOLDER.sub("", other[key])
            own_chars = len(text) - text.count(" ") - sum(map(len, _ASCII_RUN.findall(text)))
            if len(english_words) >= 2 and own_chars > 0:
                chars, words, phrases = chars + own_chars, words + len(english_words), phrases + 1
        results[lang] = {"phrases": phrases, "chars_per_word": round(chars / words, 2) if words else None,
                         "table": CHARS_PER_WORD.get(base_language(lang))}
    return results


def markdown(results: list[dict]) -> str:
    header = "| direction | genuine | identical, left out | kept | " + " | ".join(NOISE_KINDS) + " | lost by |"
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for row in results:
        recalls = " | ".join(f"{row['recall'].get(kind, float('nan')):.3f}" for kind in NOISE_KINDS)
        lost_by = ", ".join(f"{reason} {count}" for reason, count in row["lost_by"].items()) or "–"
        lines.append(f"| {row['pair']} | {row['genuine']} | {row['identical_left_out']} | {row['kept']:.3f} | "
                     f"{recalls} | {lost_by} |")
    return "\n".join(lines)


def targets_met(results: list[dict]) -> bool:
    return all(row["kept"] >= TARGET_KEPT and all(value >= TARGET_RECALL for value in row["recall"].values())
               for row in results)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", nargs="*", help="directions (default: the paper config's)")
    parser.add_argument("--per-kind", type=int, default=200, help="injected lines per noise kind and direction")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show-lost", type=int, default=0, help="print up to N lost genuine pairs per direction")
    parser.add_argument("--calibrate", action="store_true", help="print CHARS_PER_WORD as measured on CLDR")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.calibrate:
        for lang, row in calibrate().items():
            print(f"{lang}: {row['chars_per_word']} characters per English word over {row['phrases']} phrases "
                  f"(table: {row['table']})")
        return []
    results = [measure(pair, args.per_kind, args.seed) for pair in (args.pairs or paper_pairs())]
    print(markdown(results))
    print(f"\ntargets (kept >= {TARGET_KEPT}, recall >= {TARGET_RECALL}): "
          f"{'met' if targets_met(results) else 'NOT met'}")
    for row in results:
        for src, tgt, reason in row["lost"][: args.show_lost]:
            print(f"  {row['pair']} lost ({reason}): {src!r} -> {tgt!r}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
