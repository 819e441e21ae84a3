"""Sentence trees of the demo world: sampling, English rendering, English parsing.

A sentence is a main clause, optionally followed by a subordinate clause
(``conj`` + clause). A clause is subject, verb group, object (transitive verbs
only), optional adverb and prepositional phrases. Noun phrases may carry
adjectives and one subject relative clause ("the man who sells fish").

English is designed to be parsed deterministically from left to right: every
word form has one analysis, transitivity is lexical (a transitive verb always
has an object) and relative clauses hold only a verb and its object, so the
oracle can rebuild the exact tree from the English string alone.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass, field

from algharb.demo import world_words as words
from algharb.demo.world_lexicon import NOUN_CLASSES, Lexicon


@dataclass(slots=True)
class Relative:
    """Subject relative clause: the head noun is its subject."""

    verb: str
    tense: str  # "pres" or "past"
    obj: "NounPhrase | None" = None


@dataclass(slots=True)
class NounPhrase:
    """A pronoun (``person`` set) or a common noun with determiner and modifiers."""

    noun: str | None = None
    person: str | None = None
    det: str | None = None
    adjs: list[str] = field(default_factory=list)
    plural: bool = False
    rel: Relative | None = None


@dataclass(slots=True)
class Clause:
    subj: NounPhrase
    verb: str
    tense: str
    neg: bool = False
    obj: NounPhrase | None = None
    adv: str | None = None
    pps: list[tuple[str, NounPhrase]] = field(default_factory=list)


@dataclass(slots=True)
class Sentence:
    main: Clause
    conj: str | None = None
    sub: Clause | None = None


def agreement(np: NounPhrase) -> str:
    """Person/number key of a noun phrase as a subject ("3sg.m", "3pl", ...)."""
    if np.person:
        return np.person
    return "3pl" if np.plural else "3sg"


def is_animate(lexicon: Lexicon, np: NounPhrase | None) -> bool:
    """Pronouns refer to people; nouns by their semantic class."""
    if np is None:
        return False
    return np.person is not None or lexicon.entries[np.noun].animate


# --------------------------------------------------------------------------
# Sampling


@dataclass(frozen=True)
class GrammarRates:
    """Probabilities and limits of optional structure (config keys of the same names)."""

    p_pronoun: float
    p_plural: float
    p_negation: float
    p_past: float
    p_future: float
    max_adjectives: int
    max_pps: int
    max_relatives: int
    max_subordinates: int


# Relative weights of the ways a sentence grows towards its target length.
EXPANSION_WEIGHTS = {"adjective": 3.0, "adverb": 1.5, "pp": 2.5, "relative": 1.2, "subordinate": 1.0}
P_ANIMATE_SUBJECT = 0.8
# A length range the structure limits cannot reach fails after this many draws.
MAX_SAMPLE_ATTEMPTS = 1000
SINGULAR_DET_WEIGHTS = (0.35, 0.2, 0.07, 0.07, 0.05, 0.06, 0.05, 0.05, 0.05, 0.05)
PLURAL_DET_WEIGHTS = (0.3, 0.07, 0.07, 0.1, 0.08, 0.05, 0.05, 0.05, 0.05, 0.05, 0.13)


class _Weighted:
    """Weighted draws by bisection (``random.choices`` is slow in this hot loop)."""

    def __init__(self, items, weights):
        self.items = list(items)
        self.cum_weights = list(itertools.accumulate(weights))
        self.total = self.cum_weights[-1]

    def draw(self, rng: random.Random):
        return self.items[bisect.bisect(self.cum_weights, rng.random() * self.total)]


def _zipf(items: list[str], exponent: float, offset: float) -> _Weighted:
    """Zipf–Mandelbrot: probability proportional to ``1 / (rank + offset)**exponent``.

    The offset flattens the head (no single word dominates its category)
    while the tail keeps its power-law decay.
    """
    return _Weighted(items, (1.0 / (rank + offset) ** exponent for rank in range(1, len(items) + 1)))


class SentenceSampler:
    """Samples sentence trees whose English length lies in ``[min_words, max_words]``."""

    def __init__(
        self, lexicon: Lexicon, rates: GrammarRates, zipf: tuple[float, float], min_words: int, max_words: int,
        tail_first: bool = False,
    ):
        """``zipf`` is ``(exponent, offset)`` of the word-choice distribution.

        ``tail_first`` reverses every content class's ranking (prepositions
        keep theirs): the rarest lemmas of the general text become the most
        frequent, which is how the world's specialised domain is written.
        """
        self.lexicon = lexicon
        self.rates = rates
        self.min_words = min_words
        self.max_words = max_words
        ranked = {cls: list(reversed(lemmas)) for cls, lemmas in lexicon.ranked.items()} if tail_first else lexicon.ranked
        # Interleaving the class lists by rank keeps every class's head frequent.
        self.zipf = {
            "animate": _zipf(_interleave(ranked["person"], ranked["animal"]), *zipf),
            "noun": _zipf(_interleave(*(ranked[cls] for cls in NOUN_CLASSES)), *zipf),
            "vt": _zipf(ranked["vt"], *zipf),
            "vi": _zipf(ranked["vi"], *zipf),
            "adj": _zipf(ranked["adj"], *zipf),
            "adv": _zipf(ranked["adv"], *zipf),
            "prep": _zipf(list(lexicon.prepositions), *zipf),
        }
        self.singular_det = _Weighted(words.SINGULAR_DETERMINERS, SINGULAR_DET_WEIGHTS)
        self.plural_det = _Weighted(words.PLURAL_DETERMINERS, PLURAL_DET_WEIGHTS)

    # -- pieces --------------------------------------------------------

    def _tense(self, rng: random.Random, allow_future: bool = True) -> str:
        roll = rng.random()
        if roll < self.rates.p_past:
            return "past"
        if allow_future and roll < self.rates.p_past + self.rates.p_future:
            return "fut"
        return "pres"

    def _noun_phrase(self, rng: random.Random, animate: bool = False) -> NounPhrase:
        if rng.random() < self.rates.p_pronoun:
            return NounPhrase(person=_pick(rng, words.PERSONS))
        noun = self.zipf["animate" if animate else "noun"].draw(rng)
        plural = rng.random() < self.rates.p_plural
        det = (self.plural_det if plural else self.singular_det).draw(rng)
        return NounPhrase(noun=noun, det=det, plural=plural)

    def _verb(self, rng: random.Random) -> tuple[str, bool]:
        """A verb lemma and whether it is transitive (transitives are twice as common)."""
        transitive = rng.random() < 2 / 3
        return self.zipf["vt" if transitive else "vi"].draw(rng), transitive

    def _clause(self, rng: random.Random) -> Clause:
        subj = self._noun_phrase(rng, animate=rng.random() < P_ANIMATE_SUBJECT)
        verb, transitive = self._verb(rng)
        obj = self._noun_phrase(rng) if transitive else None
        return Clause(subj, verb, self._tense(rng), rng.random() < self.rates.p_negation, obj)

    def _relative(self, rng: random.Random) -> Relative:
        verb, transitive = self._verb(rng)
        return Relative(verb, self._tense(rng, allow_future=False), self._noun_phrase(rng) if transitive else None)

    # -- growth --------------------------------------------------------

    def sample(self, rng: random.Random) -> Sentence:
        """One sentence; lengths are spread uniformly over the configured range."""
        for _ in range(MAX_SAMPLE_ATTEMPTS):
            sentence = Sentence(self._clause(rng))
            length = sentence_length(sentence)
            if length > self.max_words:
                continue
            length = self._grow(rng, sentence, length, rng.randint(self.min_words, self.max_words))
            if length >= self.min_words:
                return sentence
        raise ValueError(
            f"no sentence of {self.min_words}-{self.max_words} words in {MAX_SAMPLE_ATTEMPTS} tries; "
            "widen min_words/max_words or allow more structure (max_pps, max_relatives, p_pronoun, ...)"
        )

    def _grow(self, rng: random.Random, sentence: Sentence, length: int, target: int) -> int:
        """Add optional structure until ``target`` words; returns the final length.

        An expansion that would overshoot ``max_words`` is dropped; after a
        few such misses the sentence stays as it is.
        """
        sites = _Sites(self.rates)
        sites.add_clause(sentence.main)
        failures = 0
        while length < target and failures < 6:
            options = sites.options(sentence)
            if not options:
                break
            added = self._expand(rng, sentence, sites, _draw_option(rng, options), self.max_words - length)
            if added:
                length += added
            else:
                failures += 1
        return length

    def _expand(self, rng: random.Random, sentence: Sentence, sites: "_Sites", kind: str, room: int) -> int:
        """Apply one expansion if it fits in ``room`` words; return the words added (0 = none)."""
        if kind == "adjective":
            np = _pick(rng, sites.adjectivable)
            adj = self.zipf["adj"].draw(rng)
            if adj in np.adjs or room < 1:
                return 0
            np.adjs.append(adj)
            if len(np.adjs) >= self.rates.max_adjectives:
                sites.adjectivable.remove(np)
            return 1
        if kind == "adverb":
            if room < 1:
                return 0
            clause = _pick(rng, sites.adverbless)
            clause.adv = self.zipf["adv"].draw(rng)
            sites.adverbless.remove(clause)
            return 1
        if kind == "pp":
            np = self._noun_phrase(rng)
            added = 1 + np_length(np)
            if added > room:
                return 0
            clause = _pick(rng, sites.pp_hosts)
            clause.pps.append((self.zipf["prep"].draw(rng), np))
            if len(clause.pps) >= self.rates.max_pps:
                sites.pp_hosts.remove(clause)
            sites.add_phrase(np)
            return added
        if kind == "relative":
            rel = self._relative(rng)
            added = 2 + (np_length(rel.obj) if rel.obj else 0)
            if added > room:
                return 0
            sites.add_relative(_pick(rng, sites.relative_heads), rel)
            return added
        sub = self._clause(rng)
        added = 1 + clause_length(sub)
        if added > room:
            return 0
        sentence.conj, sentence.sub = _pick(rng, words.CONJUNCTIONS), sub
        sites.add_clause(sub)
        return added


def _pick(rng: random.Random, items):
    """Uniform choice; cheaper than ``rng.choice`` in the sampling loop."""
    return items[int(rng.random() * len(items))]


def _draw_option(rng: random.Random, options: list[str]) -> str:
    """One expansion kind, by ``EXPANSION_WEIGHTS``."""
    roll = rng.random() * sum(EXPANSION_WEIGHTS[o] for o in options)
    for option in options:
        roll -= EXPANSION_WEIGHTS[option]
        if roll < 0:
            return option
    return options[-1]


class _Sites:
    """Where a growing sentence can still take each kind of expansion.

    Kept up to date by the expansions themselves, so that growth does not
    re-walk the tree at every step.
    """

    def __init__(self, rates: GrammarRates):
        self.rates = rates
        self.adjectivable: list[NounPhrase] = []
        self.adverbless: list[Clause] = []
        self.pp_hosts: list[Clause] = []
        self.relative_heads: list[NounPhrase] = []
        self.relatives = 0

    def add_clause(self, clause: Clause) -> None:
        if clause.adv is None:
            self.adverbless.append(clause)
        if len(clause.pps) < self.rates.max_pps:
            self.pp_hosts.append(clause)
        self.add_phrase(clause.subj)
        if clause.obj:
            self.add_phrase(clause.obj)

    def add_phrase(self, np: NounPhrase, can_head_relative: bool = True) -> None:
        if np.noun is None:
            return
        if len(np.adjs) < self.rates.max_adjectives:
            self.adjectivable.append(np)
        if can_head_relative:
            self.relative_heads.append(np)

    def add_relative(self, head: NounPhrase, rel: Relative) -> None:
        head.rel = rel
        self.relative_heads.remove(head)
        self.relatives += 1
        if rel.obj:
            self.add_phrase(rel.obj, can_head_relative=False)

    def options(self, sentence: Sentence) -> list[str]:
        options = []
        if self.adjectivable:
            options.append("adjective")
        if self.adverbless:
            options.append("adverb")
        if self.pp_hosts:
            options.append("pp")
        if self.relative_heads and self.relatives < self.rates.max_relatives:
            options.append("relative")
        if sentence.sub is None and self.rates.max_subordinates > 0:
            options.append("subordinate")
        return options


def _interleave(*lists: list[str]) -> list[str]:
    merged = []
    for group in itertools.zip_longest(*lists):
        merged.extend(item for item in group if item is not None)
    return merged


def _clauses(sentence: Sentence) -> list[Clause]:
    return [sentence.main] + ([sentence.sub] if sentence.sub else [])


def np_length(np: NounPhrase) -> int:
    if np.person:
        return 1
    length = (1 if np.det else 0) + len(np.adjs) + 1
    if np.rel:
        length += 2 + (np_length(np.rel.obj) if np.rel.obj else 0)
    return length


def _verb_group_length(clause: Clause) -> int:
    if clause.neg:
        return 3  # does not walk / did not walk / will not walk
    return 2 if clause.tense == "fut" else 1


def clause_length(clause: Clause) -> int:
    length = np_length(clause.subj) + _verb_group_length(clause)
    length += np_length(clause.obj) if clause.obj else 0
    length += 1 if clause.adv else 0
    for _, np in clause.pps:
        length += 1 + np_length(np)
    return length


def sentence_length(sentence: Sentence) -> int:
    """Number of English words (what ``min_words``/``max_words`` bound)."""
    length = clause_length(sentence.main)
    return length + (1 + clause_length(sentence.sub) if sentence.sub else 0)


# --------------------------------------------------------------------------
# English rendering


class EnglishRenderer:
    """Tree → English tokens, each content token tagged with its lexicon key.

    The tag ``(lemma, animate_context)`` lets ``omitted_content`` find the
    target stem a content word must appear as.
    """

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon

    def render(self, sentence: Sentence) -> str:
        return finish_sentence([token for token, _ in self.tagged(sentence)])

    def tagged(self, sentence: Sentence) -> list[tuple[str, tuple[str, bool] | None]]:
        out: list[tuple[str, tuple[str, bool] | None]] = []
        self._clause(sentence.main, out)
        if sentence.sub:
            out.append((sentence.conj, None))
            self._clause(sentence.sub, out)
        return out

    def _clause(self, clause: Clause, out: list) -> None:
        self._np(clause.subj, out, subject=True)
        self._verb_group(clause, out)
        if clause.obj:
            self._np(clause.obj, out, subject=False)
        if clause.adv:
            out.append((clause.adv, (clause.adv, False)))
        for prep, np in clause.pps:
            out.append((prep, None))
            self._np(np, out, subject=False)

    def _verb_group(self, clause: Clause, out: list) -> None:
        forms = self.lexicon.entries[clause.verb].forms
        tag = (clause.verb, is_animate(self.lexicon, clause.obj))
        third = agreement(clause.subj).startswith("3sg")
        if clause.tense == "fut":
            out.append(("will", None))
            if clause.neg:
                out.append(("not", None))
            out.append((forms["base"], tag))
        elif clause.neg:
            aux = "did" if clause.tense == "past" else ("does" if third else "do")
            out.extend([(aux, None), ("not", None), (forms["base"], tag)])
        elif clause.tense == "past":
            out.append((forms["past"], tag))
        else:
            out.append((forms["s"] if third else forms["base"], tag))

    def _np(self, np: NounPhrase, out: list, subject: bool) -> None:
        if np.person:
            table = words.SUBJECT_PRONOUNS if subject else words.OBJECT_PRONOUNS
            out.append((table[np.person], None))
            return
        entry = self.lexicon.entries[np.noun]
        if np.det:
            first = np.adjs[0] if np.adjs else np.noun
            det = ("an" if first[0] in "aeiou" else "a") if np.det == "a" else np.det
            out.append((det, None))
        for adj in np.adjs:
            out.append((adj, (adj, entry.animate)))
        out.append((entry.forms["pl" if np.plural else "sg"], (np.noun, False)))
        if np.rel:
            self._relative(np, out)

    def _relative(self, head: NounPhrase, out: list) -> None:
        rel = head.rel
        forms = self.lexicon.entries[rel.verb].forms
        out.append((words.RELATIVE_PRONOUNS[is_animate(self.lexicon, head)], None))
        form = forms["past"] if rel.tense == "past" else forms["base" if head.plural else "s"]
        out.append((form, (rel.verb, is_animate(self.lexicon, rel.obj))))
        if rel.obj:
            self._np(rel.obj, out, subject=False)


def finish_sentence(tokens: list[str]) -> str:
    """Join tokens, capitalise the first letter and add the full stop."""
    text = " ".join(tokens)
    return text[:1].upper() + text[1:] + "."


# --------------------------------------------------------------------------
# English parsing


class EnglishParser:
    """English string → sentence tree; ``ValueError`` (quoting the text) if it is not one."""

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        self.forms: dict[str, tuple] = {}
        for lemma, entry in lexicon.entries.items():
            for form_name, surface in entry.forms.items():
                self.forms[surface] = (entry.pos, lemma, form_name)
        for prep in lexicon.prepositions:
            self.forms[prep] = ("prep", prep, "")
        self.subject_pronouns = {w.lower(): p for p, w in words.SUBJECT_PRONOUNS.items()}
        self.object_pronouns = {w: p for p, w in words.OBJECT_PRONOUNS.items()}

    def parse(self, text: str) -> Sentence:
        return _ParseRun(self, text).sentence()


class _ParseRun:
    """State of one parse: the tokens and the read position."""

    def __init__(self, parser: EnglishParser, text: str):
        self.p = parser
        self.lexicon = parser.lexicon
        self.text = text
        stripped = text.strip()
        if not stripped.endswith("."):
            self.fail("it does not end with a full stop")
        self.tokens = [t.lower() for t in stripped[:-1].split()]
        self.pos = 0

    def fail(self, why: str):
        raise ValueError(f"cannot translate {self.text!r}: {why}")

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            self.fail("the sentence ends too early")
        self.pos += 1
        return token

    def analysis(self, token: str | None) -> tuple:
        return self.p.forms.get(token, (None, None, None)) if token else (None, None, None)

    # -- structure -------------------------------------------------------

    def sentence(self) -> Sentence:
        result = Sentence(self.clause())
        if self.peek() in words.CONJUNCTIONS:
            result.conj = self.take()
            result.sub = self.clause()
        if self.peek() is not None:
            self.fail(f"unexpected word {self.peek()!r}")
        return result

    def clause(self) -> Clause:
        subj = self.noun_phrase(subject=True)
        verb, tense, neg = self.verb_group(agreement(subj))
        clause = Clause(subj, verb, tense, neg)
        if self.lexicon.entries[verb].category == "vt":
            clause.obj = self.noun_phrase(subject=False)
        pos, lemma, _ = self.analysis(self.peek())
        if pos == "adv":
            clause.adv = lemma
            self.take()
        while self.analysis(self.peek())[0] == "prep":
            prep = self.take()
            clause.pps.append((prep, self.noun_phrase(subject=False)))
        return clause

    def verb_group(self, person: str) -> tuple[str, str, bool]:
        third = person.startswith("3sg")
        token = self.take()
        if token in ("do", "does", "did"):
            if token != "did" and (token == "does") != third:
                self.fail(f"{token!r} does not agree with the subject")
            if self.take() != "not":
                self.fail(f"{token!r} must be followed by 'not'")
            return self.verb_form("base"), "past" if token == "did" else "pres", True
        if token == "will":
            neg = self.peek() == "not"
            if neg:
                self.take()
            return self.verb_form("base"), "fut", neg
        self.pos -= 1
        pos, lemma, form = self.analysis(self.take())
        if pos not in ("vt", "vi"):
            self.fail(f"expected a verb, got {token!r}")
        if form == "past":
            return lemma, "past", False
        if (form == "s") != third:
            self.fail(f"verb {token!r} does not agree with the subject")
        return lemma, "pres", False

    def verb_form(self, wanted: str) -> str:
        token = self.take()
        pos, lemma, form = self.analysis(token)
        if pos not in ("vt", "vi") or form != wanted:
            self.fail(f"expected a verb's {wanted} form, got {token!r}")
        return lemma

    def noun_phrase(self, subject: bool, allow_relative: bool = True) -> NounPhrase:
        token = self.peek()
        pronouns = self.p.subject_pronouns if subject else self.p.object_pronouns
        if token in pronouns:
            self.take()
            return NounPhrase(person=pronouns[token])
        det = None
        if token in words.DETERMINER_WORDS:
            self.take()
            det = "a" if token == "an" else token
        adjs = []
        while self.analysis(self.peek())[0] == "adj":
            adjs.append(self.take())
        noun_token = self.take()
        pos, lemma, form = self.analysis(noun_token)
        if pos != "noun":
            self.fail(f"expected a noun, got {noun_token!r}")
        np = NounPhrase(noun=lemma, det=det, adjs=adjs, plural=form == "pl")
        allowed = words.PLURAL_DETERMINERS if np.plural else words.SINGULAR_DETERMINERS
        if det not in allowed:
            self.fail(f"determiner {det!r} does not fit noun {noun_token!r}")
        if allow_relative and self.peek() in ("who", "which"):
            np.rel = self.relative(np)
        return np

    def relative(self, head: NounPhrase) -> Relative:
        pronoun = self.take()
        if pronoun != words.RELATIVE_PRONOUNS[is_animate(self.lexicon, head)]:
            self.fail(f"{pronoun!r} does not fit the head noun {head.noun!r}")
        token = self.take()
        pos, lemma, form = self.analysis(token)
        if pos not in ("vt", "vi"):
            self.fail(f"expected a verb after {pronoun!r}, got {token!r}")
        if form == "base" and not head.plural or form == "s" and head.plural:
            self.fail(f"verb {token!r} does not agree with {head.noun!r}")
        rel = Relative(lemma, "past" if form == "past" else "pres")
        if pos == "vt":
            rel.obj = self.noun_phrase(subject=False, allow_relative=False)
        return rel
