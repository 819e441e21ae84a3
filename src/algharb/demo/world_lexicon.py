"""The seeded lexicon of the demo world: which English lemmas exist, how
frequent each is, and the invented qaa/qab words they translate to.

Everything here is a pure function of ``(seed, lexicon_size, n_ambiguous,
cognate_share)``, so the oracle can rebuild the exact lexicon that generated a
corpus. Frequency ranks are seeded too; how steeply frequency falls with rank
is the sampler's business (``zipf_exponent``, ``zipf_offset``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from algharb.demo import world_words as words

TARGET_LANGUAGES = ("qaa", "qab")

# Content-word categories in a fixed order; nouns are split by semantic class.
NOUN_CLASSES = tuple(words.NOUNS)
CATEGORIES = NOUN_CLASSES + ("vt", "vi", "adj", "adv")

# Fixed qab grammatical words; the seeded function words are kept apart from
# them so that no sentence can be misread.
QAB_RESERVED = frozenset({"et", "ke", "ne", "lo", "la", "le", "li"})

# Prepositions that qaa realises as case suffixes instead of postposition
# words; "with" is comitative (animate) here, its inanimate (instrumental)
# sense gets a postposition word when "with" is ambiguous.
QAA_CASE_PREPOSITIONS = {"in": "dA", "from": "dAn", "into": "A", "with": "lA"}


@dataclass(frozen=True)
class Phonology:
    """Syllable inventory of an invented language (pronounceable Latin script)."""

    onsets: tuple[str, ...]
    vowels: tuple[str, ...]
    codas: tuple[str, ...]  # "" entries make open syllables more likely

    def syllable(self, rng: random.Random, coda: bool = True) -> str:
        text = rng.choice(self.onsets) + rng.choice(self.vowels)
        return text + (rng.choice(self.codas) if coda else "")

    def word(self, rng: random.Random, syllables: int) -> str:
        # Codas only word-finally keep the CV rhythm that makes words readable.
        parts = [self.syllable(rng, coda=False) for _ in range(syllables - 1)]
        return "".join(parts) + self.syllable(rng)


PHONOLOGIES = {
    # qaa: plain CV(C) syllables, five vowels, vowel harmony in suffixes.
    "qaa": Phonology(
        onsets=tuple("ptkbdgmnslrvz"),
        vowels=tuple("aeiou"),
        codas=("", "", "", "n", "r", "l", "s", "k"),
    ),
    # qab: onset clusters, digraphs and diphthongs, so its words look unlike qaa's.
    "qab": Phonology(
        onsets=tuple("bdfghjklmnprstvwz")
        + ("br", "dr", "fr", "gr", "kr", "pr", "tr", "bl", "fl", "gl", "kl", "pl", "st", "sk", "sp", "sh", "th", "ch"),
        vowels=("a", "e", "i", "o", "u", "y", "ai", "ou", "ei"),
        codas=("", "", "n", "l", "r", "s", "th", "sh", "m", "x"),
    ),
}

# Function-word slots that get a seeded word in each language.
QAA_DETERMINER_SLOTS = ("a", "prox", "dist", "some", "every", "many")
QAB_DETERMINER_SLOTS = ("a", "prox", "dist", "some", "every", "many") + words.POSSESSIVES
QAA_PRONOUN_SLOTS = ("1sg", "2sg", "3sg", "1pl", "3pl")


@dataclass
class EnglishEntry:
    """One English content lemma with its category and word forms."""

    lemma: str
    category: str  # one of CATEGORIES
    forms: dict[str, str]  # form name ("sg", "pl", "base", "s", "past", "word") → surface

    @property
    def pos(self) -> str:
        return "noun" if self.category in NOUN_CLASSES else self.category

    @property
    def animate(self) -> bool:
        return self.category in words.ANIMATE_CLASSES


@dataclass
class Lexicon:
    """Lemmas in frequency-rank order per category, plus both target lexicons."""

    seed: int
    entries: dict[str, EnglishEntry]
    ranked: dict[str, list[str]]  # category → lemmas, most frequent first
    ambiguous: frozenset[str]
    prepositions: tuple[str, ...]
    # stems[lang][(lemma, sense)] → target stem; sense is "anim"/"inan" for
    # ambiguous lemmas and "" otherwise (prepositions and conjunctions too).
    stems: dict[str, dict[tuple[str, str], str]]
    function_words: dict[str, dict[str, str]]  # lang → slot → word
    qab_gender: dict[str, int] = field(default_factory=dict)  # noun lemma → 1, 2 or 3
    sound_laws: dict[str, "SoundLaws"] = field(default_factory=dict)  # lang → cognate maker

    def sense(self, lemma: str, animate_context: bool) -> str:
        """Which target lemma an English word takes given its context's animacy."""
        if lemma not in self.ambiguous:
            return ""
        return "anim" if animate_context else "inan"

    def stem(self, lang: str, lemma: str, animate_context: bool = False) -> str:
        return self.stems[lang][(lemma, self.sense(lemma, animate_context))]

    def lemma_count(self) -> int:
        return sum(len(v) for v in self.ranked.values())


def _english_pools() -> dict[str, list[tuple[str, str | None]]]:
    pools = {cls: words.parse_pool(text) for cls, text in words.NOUNS.items()}
    pools["vt"] = words.parse_pool(words.TRANSITIVE_VERBS)
    pools["vi"] = words.parse_pool(words.INTRANSITIVE_VERBS)
    pools["adj"] = words.parse_pool(words.ADJECTIVES)
    pools["adv"] = words.parse_pool(words.ADVERBS)
    return pools


ENGLISH_POOLS = _english_pools()
POOL_SIZE = sum(len(pool) for pool in ENGLISH_POOLS.values())
MIN_LEXICON_SIZE = 4 * len(CATEGORIES)


def english_entry(lemma: str, irregular: str | None, category: str) -> EnglishEntry:
    """Word forms of one pool entry."""
    if category in NOUN_CLASSES:
        forms = {"sg": lemma, "pl": irregular or words.plural(lemma)}
    elif category in ("vt", "vi"):
        forms = {"base": lemma, "s": words.third_singular(lemma), "past": irregular or words.past(lemma)}
    else:
        forms = {"word": lemma}
    return EnglishEntry(lemma, category, forms)


def category_quotas(lexicon_size: int) -> dict[str, int]:
    """Split ``lexicon_size`` over categories in proportion to the pools (largest remainder)."""
    shares = {cat: lexicon_size * len(ENGLISH_POOLS[cat]) / POOL_SIZE for cat in CATEGORIES}
    quotas = {cat: max(2, int(share)) for cat, share in shares.items()}
    by_remainder = sorted(CATEGORIES, key=lambda cat: (int(shares[cat]) - shares[cat], CATEGORIES.index(cat)))
    for cat in by_remainder:
        if sum(quotas.values()) >= lexicon_size:
            break
        quotas[cat] += 1
    return quotas


def _choose_lemmas(rng: random.Random, lexicon_size: int, ambiguous: set[str]) -> dict[str, list[str]]:
    """Per category: the chosen lemmas in a seeded frequency-rank order.

    Ambiguous lemmas are always kept, at a random rank, so that some of them
    are rare (hard) and some frequent.
    """
    ranked = {}
    for cat, quota in category_quotas(lexicon_size).items():
        pool = [lemma for lemma, _ in ENGLISH_POOLS[cat]]
        forced = [lemma for lemma in pool if lemma in ambiguous]
        others = [lemma for lemma in pool if lemma not in ambiguous]
        chosen = forced + rng.sample(others, max(0, min(len(others), quota - len(forced))))
        rng.shuffle(chosen)
        ranked[cat] = chosen
    return ranked


# English spelling → rough sound classes, applied before the sound laws.
_SPELLING = (
    ("ck", "k"),
    ("ph", "f"),
    ("qu", "kw"),
    ("x", "ks"),
    ("wh", "w"),
    ("gh", ""),
    ("sh", "S"),
    ("ch", "C"),
    ("th", "T"),
    ("ng", "N"),
)
_ENGLISH_CONSONANTS = "bcdfghjklmnprstvwyzSCTN"
_ENGLISH_VOWELS = "aeiou"


class SoundLaws:
    """Seeded regular sound correspondences English → one target language.

    A cognate keeps the English word's skeleton with every sound replaced
    by a fixed counterpart, so a model can learn the correspondences and
    guess rare cognates, but not rare non-cognates (see ``cognate_share``).
    """

    def __init__(self, lang: str, rng: random.Random):
        phonology = PHONOLOGIES[lang]
        consonants = [o for o in phonology.onsets if len(o) == 1 or lang == "qab"]
        self.consonants = {c: rng.choice(consonants) for c in _ENGLISH_CONSONANTS}
        self.vowels = {v: rng.choice(phonology.vowels) for v in _ENGLISH_VOWELS}
        self.onset = rng.choice([o for o in phonology.onsets if len(o) == 1])
        self.ending = phonology.syllable(rng, coda=False)

    def apply(self, english: str) -> str:
        """The cognate of an English word (before any clash repair)."""
        word = self._map(english_sounds(english))
        if not word or word[0] in "aeiouy":
            word = self.onset + word
        return word if len(word) >= 5 else word + self.ending

    def _map(self, sounds: str) -> str:
        vowels = set(self.vowels.values())
        out: list[str] = []
        last_vowel = self.vowels["u"]
        for sound in sounds:
            if sound in _ENGLISH_VOWELS:
                if out and out[-1] in vowels:
                    continue  # no vowel sequences
                last_vowel = self.vowels[sound]
                out.append(last_vowel)
            elif sound in self.consonants:
                mapped = self.consonants[sound]
                if out and out[-1] == mapped:
                    continue  # no geminates
                if out and out[-1] not in vowels:
                    out.append(last_vowel)  # epenthesis: one consonant unit per onset
                out.append(mapped)
        return "".join(out)


def english_sounds(english: str) -> str:
    """Rough sound string of an English word: digraphs folded, silent e dropped."""
    text = english.lower()
    for spelling, sound in _SPELLING:
        text = text.replace(spelling, sound)
    if len(text) > 3 and text.endswith("e") and text[-2] not in _ENGLISH_VOWELS:
        text = text[:-1]
    return text[:1] + text[1:].replace("y", "i")


class _WordMaker:
    """Draws unique invented words of one language.

    Content stems never contain one another, so a stem found inside a
    hypothesis token (see ``omitted_content``) points at one lemma.
    """

    def __init__(self, lang: str, rng: random.Random):
        self.phonology = PHONOLOGIES[lang]
        self.rng = rng
        self.laws = SoundLaws(lang, rng)
        self.stems: list[str] = []
        self.taken: set[str] = set(QAB_RESERVED)

    def _free(self, candidate: str) -> bool:
        if len(candidate) < 5 or candidate in self.taken:
            return False
        return not any(candidate in old or old in candidate for old in self.stems)

    def _take(self, candidate: str) -> str:
        self.stems.append(candidate)
        self.taken.add(candidate)
        return candidate

    def stem(self) -> str:
        """A fresh invented stem."""
        while True:
            candidate = self.phonology.word(self.rng, self.rng.choice((2, 2, 2, 3)))
            if self._free(candidate):
                return self._take(candidate)

    def cognate(self, english: str) -> str:
        """The sound-law image of ``english``, or a fresh stem if that clashes."""
        candidate = self.laws.apply(english)
        for extra in ("", self.laws.ending):
            if self._free(candidate + extra):
                return self._take(candidate + extra)
        return self.stem()

    def function_word(self, closed: bool = False) -> str:
        """A short word; ``closed`` ones end in a consonant (qab determiner bases)."""
        while True:
            candidate = self.phonology.syllable(self.rng, coda=not closed)
            if closed:
                candidate += self.rng.choice(("n", "r", "s", "v", "t", "m", "d"))
            if len(candidate) < 2 or candidate in self.taken or len(candidate) > 4:
                continue
            self.taken.add(candidate)
            return candidate


def _target_lexicon(
    lang: str, rng: random.Random, ranked: dict[str, list[str]], ambiguous: frozenset[str], cognate_share: float
):
    """Stems for every (lemma, sense) and the seeded function words of one language.

    A ``cognate_share`` of the unambiguous content lemmas are cognates (sound
    laws applied to the English word); the rest, and both senses of every
    ambiguous word, are unrelated invented stems.
    """
    maker = _WordMaker(lang, rng)
    stems: dict[tuple[str, str], str] = {}
    for cat in CATEGORIES:
        for lemma in ranked[cat]:
            if lemma in ambiguous:
                stems[(lemma, "anim")], stems[(lemma, "inan")] = maker.stem(), maker.stem()
            elif rng.random() < cognate_share:
                stems[(lemma, "")] = maker.cognate(lemma)
            else:
                stems[(lemma, "")] = maker.stem()
    for prep in words.parse_pool(words.PREPOSITIONS):
        senses = ("anim", "inan") if prep[0] in ambiguous else ("",)
        for sense in senses:
            stems[(prep[0], sense)] = maker.function_word()
    for conj in words.CONJUNCTIONS:
        stems[(conj, "")] = maker.function_word()
    if lang == "qaa":
        slots = {f"det:{s}": maker.function_word() for s in QAA_DETERMINER_SLOTS}
        slots.update({f"pron:{p}": maker.stem() for p in QAA_PRONOUN_SLOTS})
    else:
        slots = {f"det:{s}": maker.function_word(closed=True) for s in QAB_DETERMINER_SLOTS}
        slots.update({f"pron:{p}": maker.function_word() for p in words.PERSONS})
    return stems, slots, maker.laws


def build_lexicon(seed: int, lexicon_size: int, n_ambiguous: int, cognate_share: float = 0.0) -> Lexicon:
    """The whole lexicon for one world; each piece has its own seeded stream."""
    if not MIN_LEXICON_SIZE <= lexicon_size <= POOL_SIZE:
        raise ValueError(f"lexicon_size must be in [{MIN_LEXICON_SIZE}, {POOL_SIZE}], got {lexicon_size}")
    if not 0 <= n_ambiguous <= len(words.AMBIGUOUS_CANDIDATES):
        raise ValueError(f"n_ambiguous must be in [0, {len(words.AMBIGUOUS_CANDIDATES)}], got {n_ambiguous}")
    ambiguous = frozenset(random.Random(f"{seed}:ambiguous").sample(words.AMBIGUOUS_CANDIDATES, n_ambiguous))
    ranked = _choose_lemmas(random.Random(f"{seed}:lemmas"), lexicon_size, set(ambiguous))
    entries = {}
    for cat in CATEGORIES:
        irregular = dict(ENGLISH_POOLS[cat])
        for lemma in ranked[cat]:
            entries[lemma] = english_entry(lemma, irregular[lemma], cat)
    stems, function_words, laws = {}, {}, {}
    for lang in TARGET_LANGUAGES:
        lang_rng = random.Random(f"{seed}:{lang}")
        stems[lang], function_words[lang], laws[lang] = _target_lexicon(
            lang, lang_rng, ranked, ambiguous, cognate_share
        )
    gender_rng = random.Random(f"{seed}:gender")
    qab_gender = {lemma: gender_rng.choice((1, 2, 3)) for cat in NOUN_CLASSES for lemma in ranked[cat]}
    prepositions = tuple(lemma for lemma, _ in words.parse_pool(words.PREPOSITIONS))
    return Lexicon(seed, entries, ranked, ambiguous, prepositions, stems, function_words, qab_gender, laws)
