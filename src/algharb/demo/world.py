"""The demo world: seeded toy languages, an oracle translator and noisy corpora.

Without network access the workflow cannot fetch WMT data, so the demo
invents it. English-like sources (real English words, a small parseable
grammar) are translated by an oracle into two invented target languages:

* ``qaa`` — verb-final, agglutinative: case suffixes with animacy-dependent
  object case, vowel harmony, subject–verb and adjective agreement,
  possessive suffixes, postpositions, prenominal relative clauses;
* ``qab`` — verb-initial, prefixing: three arbitrary genders agreeing on
  determiners, adjectives and verbs, pro-drop with object clitics,
  definiteness-marked objects, fronting of the subordinate clause or PP.

Word choice is Zipfian over a seeded lexicon (``lexicon_size`` lemmas, a long
tail of rare words), and ``n_ambiguous`` English words translate differently
depending on the animacy of a context noun, so a model must use context.
The target is a deterministic function of the source: one reference, scored
with chrF against the oracle.

Typical use::

    summary = generate_world({"seed": 1, "pairs": ["en-qaa"]}, "results/demo/world")
    world = load_world({"seed": 1})
    source = world.sample_sentences(1, seed=0)[0]
    world.oracle_translate(source, "qaa")     # the reference
    world.omitted_content(source, hypothesis, "qaa")  # dropped content words

See :data:`DEFAULT_WORLD` for every key; the grammar is documented in
:mod:`algharb.demo.world_targets`.

Difficulty. The defaults were calibrated with the demo's own model: a
Qwen3 of hidden size 128 and 2 layers, byte-level BPE of 1,500 tokens,
trained from scratch for 1,000 steps (batch 32, lr 3e-3) on 15,000 clean
pairs per direction reaches chrF ≈ 62 (en-qaa) and ≈ 70 (en-qab) on the
test split, with wrong suffixes/agreement and dropped content words. The
main levers, easiest first: ``zipf_exponent`` up (2.0 → ≈ 61/71 even with
450 lemmas), ``lexicon_size`` down, ``max_relatives``/``max_subordinates``
to 0 (≈ +7 chrF), ``max_words`` down; the other way round makes it harder
(450 lemmas at exponent 1.2, offset 3: ≈ 30/35).
"""

from __future__ import annotations

import functools
import json
import random
import re
from pathlib import Path

from algharb.demo.world_grammar import EnglishParser, EnglishRenderer, GrammarRates, Sentence, SentenceSampler
from algharb.demo.world_lexicon import CATEGORIES, MIN_LEXICON_SIZE, POOL_SIZE, TARGET_LANGUAGES, build_lexicon
from algharb.demo.world_noise import LABELS, NOISE_KINDS, build_raw_corpus
from algharb.demo.world_targets import QaaRenderer, QabRenderer
from algharb.demo.world_words import AMBIGUOUS_CANDIDATES
from algharb.io import write_lines
from algharb.prompts import split_pair

SOURCE_LANGUAGE = "en"
LANGUAGES = (SOURCE_LANGUAGE,) + TARGET_LANGUAGES
SUPPORTED_PAIRS = tuple(f"{SOURCE_LANGUAGE}-{t}" for t in TARGET_LANGUAGES)

DEFAULT_WORLD: dict = {
    # Master seed: lexicon, sentences and noise all derive from it.
    "seed": 1234,
    # Translation directions to write; any of "en-qaa", "en-qab".
    "pairs": ["en-qaa", "en-qab"],
    # Lines of each pair's noisy raw training corpus (noise included).
    "n_train": 12000,
    # Clean dev / test pairs; the English side is shared by all pairs.
    "n_dev": 200,
    "n_test": 200,
    # Monolingual source sentences for RL (rl/en.txt).
    "n_rl": 300,
    # Clean pairs per pair to train the teacher stand-in.
    "n_teacher": 15000,
    # Clean pairs per pair to build metric-model training data.
    "n_metric": 4000,
    # A specialised domain (Collab-MT experts): pairs of it to write, and its
    # train / dev / test sizes. Its frequent words are the general text's
    # rarest (the Zipf ranking reversed), so general models seldom saw them.
    "domain_pairs": [],
    "n_domain_train": 2000,
    "n_domain_dev": 100,
    "n_domain_test": 100,
    # Sentences per language for language-ID training / validation.
    "n_lid": 3000,
    "n_lid_valid": 300,
    # English sentence length range in words (uniform target length).
    "min_words": 4,
    "max_words": 16,
    # Content lemmas (nouns, verbs, adjectives, adverbs) in the world;
    # at most the size of the English pools (788).
    "lexicon_size": 200,
    # Word choice ~ 1/(rank + zipf_offset)**zipf_exponent within each
    # category (exponent 0 = uniform; an offset flattens the head). The
    # default gives a frequent core and a long tail of rare words.
    "zipf_exponent": 1.8,
    "zipf_offset": 0.0,
    # English words whose translation depends on the animacy of a context noun.
    "n_ambiguous": 10,
    # Share of content lemmas whose target stem is a cognate: the English
    # word under seeded sound laws (learnable, guessable when rare); the
    # rest are unrelated invented stems (must be memorised).
    "cognate_share": 0.0,
    # Chance that a noun phrase is a pronoun / that a noun is plural.
    "p_pronoun": 0.15,
    "p_plural": 0.3,
    # Chance of a negated clause; of past and future tense (the rest: present).
    "p_negation": 0.12,
    "p_past": 0.35,
    "p_future": 0.15,
    # Limits on optional structure: adjectives per noun, PPs per clause,
    # relative clauses per sentence, subordinate clauses per sentence (0 or 1).
    "max_adjectives": 2,
    "max_pps": 2,
    "max_relatives": 1,
    "max_subordinates": 1,
    # Share of raw-corpus lines per noise kind (the rest is clean).
    "noise": {
        "misaligned": 0.03,
        "untranslated_copy": 0.02,
        "wrong_language": 0.03,
        "length_outlier": 0.02,
        "non_alphabetic": 0.03,
        "truncated": 0.03,
        "duplicate": 0.04,
        "near_duplicate": 0.02,
    },
}

_COUNT_KEYS = ("n_train", "n_dev", "n_test", "n_rl", "n_teacher", "n_metric", "n_lid", "n_lid_valid",
               "n_domain_train", "n_domain_dev", "n_domain_test")
DOMAIN_SPLITS = ("train", "dev", "test")
_PROBABILITY_KEYS = ("p_pronoun", "p_plural", "p_negation", "p_past", "p_future")
_SHARE_KEYS = ("cognate_share",)
_LIMIT_KEYS = ("max_adjectives", "max_pps", "max_relatives", "max_subordinates")


# --------------------------------------------------------------------------
# Configuration


def resolve_config(config: dict | None) -> dict:
    """``DEFAULT_WORLD`` updated with ``config``; ``ValueError`` names any bad key."""
    config = dict(config or {})
    for key in config:
        if key not in DEFAULT_WORLD:
            raise ValueError(f"unknown demo world key {key!r}; known keys: {', '.join(DEFAULT_WORLD)}")
    resolved = {**DEFAULT_WORLD, **config}
    resolved["noise"] = _resolve_noise(config.get("noise", {}))
    _check_values(resolved)
    resolved["pairs"] = list(resolved["pairs"])
    resolved["domain_pairs"] = list(resolved["domain_pairs"])
    return resolved


def _resolve_noise(noise) -> dict:
    if not isinstance(noise, dict):
        raise ValueError(f"noise must be a mapping of kind → rate, got {noise!r}")
    for kind, rate in noise.items():
        if kind not in NOISE_KINDS:
            raise ValueError(f"unknown noise kind 'noise.{kind}'; known kinds: {', '.join(NOISE_KINDS)}")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"noise.{kind} must be a rate in [0, 1], got {rate!r}")
    resolved = {**DEFAULT_WORLD["noise"], **noise}
    if sum(resolved.values()) > 0.9:
        raise ValueError(f"noise rates sum to {sum(resolved.values()):.2f}; keep them at most 0.9 (key 'noise')")
    return resolved


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_values(c: dict) -> None:
    if not _is_int(c["seed"]):
        raise ValueError(f"seed must be an integer, got {c['seed']!r}")
    for key in _COUNT_KEYS + _LIMIT_KEYS:
        if not _is_int(c[key]) or c[key] < 0:
            raise ValueError(f"{key} must be a non-negative integer, got {c[key]!r}")
    if c["max_subordinates"] > 1:
        raise ValueError(f"max_subordinates must be 0 or 1, got {c['max_subordinates']!r}")
    if c["n_train"] < 2:
        raise ValueError(f"n_train must be at least 2, got {c['n_train']!r}")
    for key in _PROBABILITY_KEYS + _SHARE_KEYS:
        if isinstance(c[key], bool) or not isinstance(c[key], (int, float)) or not 0 <= c[key] <= 1:
            raise ValueError(f"{key} must be a probability in [0, 1], got {c[key]!r}")
    if c["p_past"] + c["p_future"] > 1:
        raise ValueError("p_past + p_future must be at most 1 (keys 'p_past', 'p_future')")
    if not _is_int(c["min_words"]) or c["min_words"] < 2:
        raise ValueError(f"min_words must be an integer ≥ 2, got {c['min_words']!r}")
    if not _is_int(c["max_words"]) or c["max_words"] < max(c["min_words"], 5):
        raise ValueError(f"max_words must be an integer ≥ max(min_words, 5), got {c['max_words']!r}")
    if not _is_int(c["lexicon_size"]) or not MIN_LEXICON_SIZE <= c["lexicon_size"] <= POOL_SIZE:
        raise ValueError(
            f"lexicon_size must be an integer in [{MIN_LEXICON_SIZE}, {POOL_SIZE}], got {c['lexicon_size']!r}"
        )
    if not _is_int(c["n_ambiguous"]) or not 0 <= c["n_ambiguous"] <= len(AMBIGUOUS_CANDIDATES):
        raise ValueError(
            f"n_ambiguous must be an integer in [0, {len(AMBIGUOUS_CANDIDATES)}], got {c['n_ambiguous']!r}"
        )
    for key in ("zipf_exponent", "zipf_offset"):
        if isinstance(c[key], bool) or not isinstance(c[key], (int, float)) or c[key] < 0:
            raise ValueError(f"{key} must be a number ≥ 0, got {c[key]!r}")
    _check_pairs(c["pairs"])
    _check_pairs(c["domain_pairs"], key="domain_pairs", allow_empty=True)


def _check_pairs(pairs, key: str = "pairs", allow_empty: bool = False) -> None:
    if not isinstance(pairs, (list, tuple)) or not (pairs or allow_empty):
        raise ValueError(f"{key} must be a non-empty list like ['en-qaa'], got {pairs!r}")
    for pair in pairs:
        if pair not in SUPPORTED_PAIRS:
            raise ValueError(f"{key}: unsupported pair {pair!r}; the demo world has {', '.join(SUPPORTED_PAIRS)}")
    if len(set(pairs)) != len(pairs):
        raise ValueError(f"{key} lists a pair twice: {pairs!r}")


# --------------------------------------------------------------------------
# The world


class World:
    """Lexicon, grammar and oracle of one seeded world."""

    def __init__(self, config: dict | None = None):
        self.config = resolve_config(config)
        c = self.config
        self.lexicon = build_lexicon(c["seed"], c["lexicon_size"], c["n_ambiguous"], c["cognate_share"])
        self.parser = EnglishParser(self.lexicon)
        self.english = EnglishRenderer(self.lexicon)
        self.targets = {"qaa": QaaRenderer(self.lexicon), "qab": QabRenderer(self.lexicon)}
        rates = GrammarRates(**{key: c[key] for key in _PROBABILITY_KEYS + _LIMIT_KEYS})
        zipf = (c["zipf_exponent"], c["zipf_offset"])
        self.sampler = SentenceSampler(self.lexicon, rates, zipf, c["min_words"], c["max_words"])
        self.domain_sampler = SentenceSampler(self.lexicon, rates, zipf, c["min_words"], c["max_words"],
                                              tail_first=True)

    # -- sentences -----------------------------------------------------------

    def sample_trees(self, n: int, seed: int) -> list[Sentence]:
        """``n`` sentence trees (repeats possible) from a stream seeded by ``seed``."""
        rng = random.Random(f"{self.config['seed']}:sample:{seed}")
        return [self.sampler.sample(rng) for _ in range(n)]

    def sample_sentences(self, n: int, seed: int) -> list[str]:
        """``n`` English source sentences (repeats possible)."""
        return [self.english.render(tree) for tree in self.sample_trees(n, seed)]

    def render(self, tree: Sentence, lang: str) -> str:
        """A tree in any of the world's languages."""
        if lang == SOURCE_LANGUAGE:
            return self.english.render(tree)
        return self._target_renderer(lang).render(tree)

    def parse(self, source: str) -> Sentence:
        """English sentence → tree; ``ValueError`` quoting the sentence if it is not one."""
        return self.parser.parse(source)

    # -- oracle --------------------------------------------------------------

    def oracle_translate(self, source: str, tgt_lang: str) -> str:
        """The one reference translation of an English sentence of this world."""
        renderer = self._target_renderer(tgt_lang)
        return renderer.render(self.parse(source))

    def content_stems(self, source: str, tgt_lang: str) -> list[tuple[str, str]]:
        """``(english word, target stem)`` for each content word of ``source``, in order."""
        self._target_renderer(tgt_lang)
        pairs = []
        for token, tag in self.english.tagged(self.parse(source)):
            if tag is not None:
                lemma, animate_context = tag
                pairs.append((token, self.lexicon.stem(tgt_lang, lemma, animate_context)))
        return pairs

    def omitted_content(self, source: str, hypothesis: str, tgt_lang: str) -> list[str]:
        """Source content words whose target stem is missing from ``hypothesis``.

        A stem counts as present when it occurs inside a hypothesis word, so
        wrong suffixes, prefixes or agreement do not count as omissions. Each
        hypothesis word accounts for one content word at most, chosen by a
        maximum matching: a stem that happens to appear across another word's
        stem and suffix cannot steal that word's match.
        """
        tokens = [t for t in re.split(r"[^a-z]+", hypothesis.lower()) if t]
        content = self.content_stems(source, tgt_lang)
        candidates = [[k for k, token in enumerate(tokens) if stem in token] for _, stem in content]
        matched = _maximum_matching(candidates, len(tokens))
        return [word for i, (word, _) in enumerate(content) if i not in matched]

    def _target_renderer(self, lang: str):
        if lang not in self.targets:
            raise ValueError(f"unknown target language {lang!r}; the demo world has {', '.join(TARGET_LANGUAGES)}")
        return self.targets[lang]

    def describe(self) -> dict:
        """Lexicon sizes per category and the ambiguous words (for logs)."""
        counts = {cat: len(self.lexicon.ranked[cat]) for cat in CATEGORIES}
        return {
            "lemmas": self.lexicon.lemma_count(),
            "per_category": counts,
            "ambiguous": sorted(self.lexicon.ambiguous),
        }


def _maximum_matching(candidates: list[list[int]], n_slots: int) -> set[int]:
    """Indices of the items that get a slot in a maximum bipartite matching (Kuhn's algorithm).

    ``candidates[i]`` lists the slots item ``i`` may take; items are served
    in order, so with ties the earlier items keep their slots.
    """
    owner = [-1] * n_slots

    def assign(item: int, visited: set[int]) -> bool:
        for slot in candidates[item]:
            if slot in visited:
                continue
            visited.add(slot)
            if owner[slot] == -1 or assign(owner[slot], visited):
                owner[slot] = item
                return True
        return False

    return {item for item in range(len(candidates)) if assign(item, set())}


@functools.lru_cache(maxsize=8)
def _cached_world(key: str) -> World:
    return World(json.loads(key))


def load_world(config: dict | None = None) -> World:
    """The world of ``config``, cached by its resolved configuration."""
    return _cached_world(json.dumps(resolve_config(config), sort_keys=True))


def oracle_translate(source: str, tgt_lang: str, config: dict | None = None) -> str:
    """Reference translation of ``source`` in the world of ``config``."""
    return load_world(config).oracle_translate(source, tgt_lang)


def omitted_content(source: str, hypothesis: str, tgt_lang: str, config: dict | None = None) -> list[str]:
    """Content words of ``source`` whose translation is missing from ``hypothesis``."""
    return load_world(config).omitted_content(source, hypothesis, tgt_lang)


def sample_sentences(n: int, seed: int, config: dict | None = None) -> list[str]:
    """``n`` English sentences of the world of ``config``."""
    return load_world(config).sample_sentences(n, seed)


# --------------------------------------------------------------------------
# Corpus generation


class _Pool:
    """Unique source sentences with cached translations."""

    def __init__(self, world: World, rng: random.Random):
        self.world = world
        self.rng = rng
        self.trees: dict[str, Sentence] = {}
        self.cache: dict[tuple[str, str], str] = {}

    def draw(self, n: int, sampler: SentenceSampler | None = None) -> list[str]:
        """``n`` sentences never drawn before (by English string), from the general sampler unless told."""
        sampler = sampler or self.world.sampler
        drawn = []
        attempts = 0
        while len(drawn) < n:
            attempts += 1
            if attempts > 20 * n + 10_000:
                raise ValueError(
                    f"only {len(self.trees)} distinct sentences found; raise max_words or lexicon_size, or lower the n_* counts"
                )
            tree = sampler.sample(self.rng)
            english = self.world.english.render(tree)
            if english not in self.trees:
                self.trees[english] = tree
                drawn.append(english)
        return drawn

    def translate(self, english: str, lang: str) -> str:
        if lang == SOURCE_LANGUAGE:
            return english
        key = (english, lang)
        if key not in self.cache:
            self.cache[key] = self.world.render(self.trees[english], lang)
        return self.cache[key]


def generate_world(config: dict | None, out_dir) -> dict:
    """Write every file of the demo world under ``out_dir``; return counts.

    Per pair ``{s}-{t}``: ``raw/train.{s|t}`` (noisy), ``raw/noise_labels.tsv``
    (evaluation only), clean ``dev``/``test``/``teacher``/``metric`` pairs;
    plus ``rl/{s}.txt`` with ``rl/{s}-{t}.{t}`` (their references) and ``lid/{train,valid}.txt``. Dev, test and RL
    sentences are drawn first, so they stay the same when only the other
    counts change, and every split is disjoint from every other by source.
    """
    world = World(config)
    c = world.config
    out = Path(out_dir)
    pool = _Pool(world, random.Random(f"{c['seed']}:sentences"))
    dev, test, rl = pool.draw(c["n_dev"]), pool.draw(c["n_test"]), pool.draw(c["n_rl"])
    summary = {"world": world.describe(), "pairs": {}, "rl": {SOURCE_LANGUAGE: len(rl)}}
    write_lines(out / "rl" / f"{SOURCE_LANGUAGE}.txt", rl)
    for pair in c["pairs"]:
        summary["pairs"][pair] = _write_pair(pair, pool, c, out, dev, test)
        # The RL sources' references (ALMA-R's triplets hold the reference); translation draws nothing.
        tgt = split_pair(pair)[1]
        write_lines(out / "rl" / f"{pair}.{tgt}", [pool.translate(s, tgt) for s in rl])
    summary["lid"] = _write_lid(pool, c, out)
    # Drawn last, so that adding a domain changes none of the files above.
    for pair in c["domain_pairs"]:
        summary.setdefault("domain", {})[pair] = _write_domain(pair, pool, c, out)
    return summary


def _write_domain(pair: str, pool: _Pool, c: dict, out: Path) -> dict:
    """Clean train/dev/test pairs of the specialised domain under ``domain/{pair}/`` (disjoint from all else)."""
    src, tgt = split_pair(pair)
    counts = {}
    for split in DOMAIN_SPLITS:
        sources = pool.draw(c[f"n_domain_{split}"], sampler=pool.world.domain_sampler)
        write_lines(out / "domain" / pair / f"{split}.{src}", sources)
        write_lines(out / "domain" / pair / f"{split}.{tgt}", [pool.translate(s, tgt) for s in sources])
        counts[split] = len(sources)
    return counts


def _write_pair(pair: str, pool: _Pool, c: dict, out: Path, dev: list[str], test: list[str]) -> dict:
    src, tgt = split_pair(pair)
    base = out / pair
    train, teacher, metric = pool.draw(c["n_train"]), pool.draw(c["n_teacher"]), pool.draw(c["n_metric"])
    other = next(lang for lang in TARGET_LANGUAGES if lang != tgt)
    noise_rng = random.Random(f"{c['seed']}:noise:{pair}")
    src_lines, tgt_lines, kinds = build_raw_corpus(noise_rng, train, pool.translate, tgt, other, c["noise"])
    write_lines(base / "raw" / f"train.{src}", src_lines)
    write_lines(base / "raw" / f"train.{tgt}", tgt_lines)
    write_lines(base / "raw" / "noise_labels.tsv", ["line\tkind"] + [f"{i}\t{k}" for i, k in enumerate(kinds, 1)])
    counts = {"train": len(src_lines), "noise": {kind: kinds.count(kind) for kind in LABELS}}
    for split, sources in (("dev", dev), ("test", test), ("teacher", teacher), ("metric", metric)):
        write_lines(base / f"{split}.{src}", sources)
        write_lines(base / f"{split}.{tgt}", [pool.translate(s, tgt) for s in sources])
        counts[split] = len(sources)
    return counts


def _write_lid(pool: _Pool, c: dict, out: Path) -> dict:
    """fastText lines ``__label__{lang} text``; each language gets its own sentences."""
    rng = random.Random(f"{c['seed']}:lid")
    files = {}
    for split, n in (("train", c["n_lid"]), ("valid", c["n_lid_valid"])):
        lines = []
        for lang in LANGUAGES:
            lines += [f"__label__{lang} {pool.translate(s, lang)}" for s in pool.draw(n)]
        rng.shuffle(lines)
        write_lines(out / "lid" / f"{split}.txt", lines)
        files[split] = len(lines)
    return files
