"""The two invented target languages: sentence tree → qaa / qab text.

qaa — verb-final and agglutinative:
  * order: [subordinate clause + conjunction,] subject adverb PPs object verb;
  * nouns: stem + plural + possessive + case; the direct object's case depends
    on animacy (animate ``-kA``, inanimate ``-I``); some prepositions become
    case suffixes ("in" locative, "from" ablative, "into" dative, animate "with"
    comitative), the others postposition words;
  * verbs: stem + negation + tense + subject person/number;
  * adjectives precede the noun and agree with its animacy and number;
  * relative clauses precede their noun as participles;
  * suffix vowels follow vowel harmony (``A`` → a/e, ``I`` → u/i after a
    back/front last vowel); vowel clashes take a ``y``, consonant clashes an
    ``I``. Stems never change, so a stem is always visible in its word.

qab — verb-initial with prefixes and three genders:
  * order: [fronted subordinate clause or first PP,] verb subject object adverb PPs;
  * subject pronouns are dropped, object pronouns are suffixed to the verb;
  * verbs: person/number prefix (third singular by the subject's gender) +
    tense prefix + stem;
  * determiners agree with gender/number; adjectives follow the noun with a
    gender/number prefix; plural nouns take the prefix ``i``;
  * definite objects are marked by the particle ``et``;
  * relative clauses follow their noun, introduced by ``ke``.
"""

from __future__ import annotations

from algharb.demo import world_words as words
from algharb.demo.world_grammar import Clause, NounPhrase, Relative, Sentence, agreement, finish_sentence, is_animate
from algharb.demo.world_lexicon import QAA_CASE_PREPOSITIONS, Lexicon

VOWELS = frozenset("aeiouy")

# ---- qaa suffix templates (A and I are harmonic vowels) ----
QAA_PLURAL = "lAr"
QAA_POSSESSIVE = {"my": "Im", "your": "In", "his": "sI", "our": "ImIz", "their": "sIz"}
QAA_OBJECT_CASE = {True: "kA", False: "I"}  # keyed by animacy of the object
QAA_ADJECTIVE_AGREEMENT = {(True, False): "In", (True, True): "lIn", (False, False): "", (False, True): "lA"}
QAA_NEGATION = "mA"
QAA_TENSE = {"pres": "Ir", "past": "dI", "fut": "AcAk"}
QAA_PERSON = {"1sg": "Im", "2sg": "sIn", "3sg": "", "1pl": "Iz", "3pl": "lAr"}
QAA_PARTICIPLE = "kAn"
QAA_DETERMINER_SLOT = {
    "a": "a",
    "this": "prox",
    "these": "prox",
    "that": "dist",
    "those": "dist",
    "some": "some",
    "every": "every",
    "many": "many",
}

# ---- qab prefixes ----
QAB_GENDER_VOWEL = {1: "o", 2: "a", 3: "e"}
QAB_PERSON = {"1sg": "mi", "2sg": "tu", "3sg.m": "yo", "3sg.f": "ya", "1pl": "nu", "3pl": "ri"}
QAB_THIRD_SINGULAR = {1: "yo", 2: "ya", 3: "ye"}  # by the subject noun's gender
QAB_TENSE = {"pres": "", "past": "sa", "fut": "vo"}
QAB_OBJECT_CLITIC = {"1sg": "ek", "2sg": "ut", "3sg.m": "on", "3sg.f": "an", "1pl": "us", "3pl": "ir"}
QAB_PLURAL = "i"
QAB_DEFINITE = frozenset({"the", "this", "that", "these", "those"} | set(words.POSSESSIVES))
# qab shares qaa's determiner slots and adds one per possessive.
QAB_DETERMINER_SLOT = {**QAA_DETERMINER_SLOT, **{p: p for p in words.POSSESSIVES}}


def harmony_back(word: str) -> bool:
    """Whether the last vowel of ``word`` is a back vowel (a, o, u)."""
    for char in reversed(word):
        if char in "aou":
            return True
        if char in "ei":
            return False
    return True


def attach(word: str, template: str) -> str:
    """Append a qaa suffix template with vowel harmony and clash repair."""
    if not template:
        return word
    back = harmony_back(word)
    suffix = template.replace("A", "a" if back else "e").replace("I", "u" if back else "i")
    if word[-1] in VOWELS and suffix[0] in VOWELS:
        return word + "y" + suffix
    if word[-1] not in VOWELS and suffix[0] not in VOWELS:
        return word + ("u" if back else "i") + suffix
    return word + suffix


class _TargetRenderer:
    """A target language's stems and function words, looked up by the renderer."""

    language = ""

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        self.stems = lexicon.stems[self.language]
        self.function = lexicon.function_words[self.language]


class QaaRenderer(_TargetRenderer):
    """Sentence tree → qaa text."""

    language = "qaa"

    def render(self, sentence: Sentence) -> str:
        tokens = []
        if sentence.sub:
            tokens += self.clause(sentence.sub)
            tokens.append(self.stems[(sentence.conj, "")] + ",")
        tokens += self.clause(sentence.main)
        return finish_sentence(tokens)

    def clause(self, clause: Clause) -> list[str]:
        tokens = self.noun_phrase(clause.subj, "")
        if clause.adv:
            tokens.append(self.lexicon.stem("qaa", clause.adv))
        for prep, np in clause.pps:
            tokens += self.prepositional(prep, np)
        if clause.obj:
            tokens += self.noun_phrase(clause.obj, QAA_OBJECT_CASE[is_animate(self.lexicon, clause.obj)])
        verb = self.verb_stem(clause.verb, clause.obj)
        if clause.neg:
            verb = attach(verb, QAA_NEGATION)
        verb = attach(attach(verb, QAA_TENSE[clause.tense]), QAA_PERSON[agreement(clause.subj)[:3]])
        return tokens + [verb]

    def verb_stem(self, verb: str, obj: NounPhrase | None) -> str:
        return self.lexicon.stem("qaa", verb, is_animate(self.lexicon, obj))

    def prepositional(self, prep: str, np: NounPhrase) -> list[str]:
        sense = self.lexicon.sense(prep, is_animate(self.lexicon, np))
        if prep in QAA_CASE_PREPOSITIONS and sense != "inan":
            return self.noun_phrase(np, QAA_CASE_PREPOSITIONS[prep])
        return self.noun_phrase(np, "") + [self.stems[(prep, sense)]]

    def noun_phrase(self, np: NounPhrase, case: str) -> list[str]:
        if np.person:
            return [attach(self.function[f"pron:{np.person[:3]}"], case)]
        tokens = self.relative(np.rel) if np.rel else []
        if np.det in QAA_DETERMINER_SLOT:
            tokens.append(self.function[f"det:{QAA_DETERMINER_SLOT[np.det]}"])
        animate = self.lexicon.entries[np.noun].animate
        agreement_suffix = QAA_ADJECTIVE_AGREEMENT[(animate, np.plural)]
        tokens += [attach(self.lexicon.stem("qaa", adj, animate), agreement_suffix) for adj in np.adjs]
        noun = self.lexicon.stem("qaa", np.noun)
        if np.plural:
            noun = attach(noun, QAA_PLURAL)
        if np.det in QAA_POSSESSIVE:
            noun = attach(noun, QAA_POSSESSIVE[np.det])
        return tokens + [attach(noun, case)]

    def relative(self, rel: Relative) -> list[str]:
        tokens = []
        if rel.obj:
            tokens = self.noun_phrase(rel.obj, QAA_OBJECT_CASE[is_animate(self.lexicon, rel.obj)])
        verb = attach(self.verb_stem(rel.verb, rel.obj), QAA_TENSE[rel.tense])
        return tokens + [attach(verb, QAA_PARTICIPLE)]


class QabRenderer(_TargetRenderer):
    """Sentence tree → qab text."""

    language = "qab"

    def render(self, sentence: Sentence) -> str:
        main = sentence.main
        if sentence.sub:
            front = [self.stems[(sentence.conj, "")]] + self.clause(sentence.sub)
            tokens = _with_comma(front) + self.clause(main)
        elif main.pps:
            # Without a subordinate clause the first PP is fronted instead.
            prep, np = main.pps[0]
            tokens = _with_comma(self.prepositional(prep, np)) + self.clause(main, skip_pps=1)
        else:
            tokens = self.clause(main)
        return finish_sentence(tokens)

    def clause(self, clause: Clause, skip_pps: int = 0) -> list[str]:
        tokens = ["ne"] if clause.neg else []
        tokens.append(self.verb(clause.verb, clause.tense, self.person_prefix(clause.subj), clause.obj))
        if not clause.subj.person:
            tokens += self.noun_phrase(clause.subj)
        tokens += self.object(clause.obj)
        if clause.adv:
            tokens.append(self.lexicon.stem("qab", clause.adv))
        for prep, np in clause.pps[skip_pps:]:
            tokens += self.prepositional(prep, np)
        return tokens

    def person_prefix(self, subj: NounPhrase) -> str:
        if subj.person:
            return QAB_PERSON[subj.person]
        if subj.plural:
            return QAB_PERSON["3pl"]
        return QAB_THIRD_SINGULAR[self.lexicon.qab_gender[subj.noun]]

    def verb(self, lemma: str, tense: str, person_prefix: str, obj: NounPhrase | None) -> str:
        stem = self.lexicon.stem("qab", lemma, is_animate(self.lexicon, obj))
        word = person_prefix + QAB_TENSE[tense] + stem
        if obj is not None and obj.person:
            clitic = QAB_OBJECT_CLITIC[obj.person]
            word += ("h" if word[-1] in VOWELS else "") + clitic
        return word

    def object(self, obj: NounPhrase | None) -> list[str]:
        """Object noun phrase with its definiteness marker (pronouns are verb suffixes)."""
        if obj is None or obj.person:
            return []
        return (["et"] if obj.det in QAB_DEFINITE else []) + self.noun_phrase(obj)

    def prepositional(self, prep: str, np: NounPhrase) -> list[str]:
        sense = self.lexicon.sense(prep, is_animate(self.lexicon, np))
        return [self.stems[(prep, sense)]] + self.noun_phrase(np)

    def noun_phrase(self, np: NounPhrase) -> list[str]:
        if np.person:
            return [self.function[f"pron:{np.person}"]]
        gender = self.lexicon.qab_gender[np.noun]
        vowel = "i" if np.plural else QAB_GENDER_VOWEL[gender]
        tokens = []
        if np.det == "the":
            tokens.append("l" + vowel)
        elif np.det:
            tokens.append(self.function[f"det:{QAB_DETERMINER_SLOT[np.det]}"] + vowel)
        noun = self.lexicon.stem("qab", np.noun)
        tokens.append(QAB_PLURAL + noun if np.plural else noun)
        animate = self.lexicon.entries[np.noun].animate
        prefix = QAB_GENDER_VOWEL[gender] + ("s" if np.plural else "")
        tokens += [prefix + self.lexicon.stem("qab", adj, animate) for adj in np.adjs]
        if np.rel:
            tokens += self.relative(np, gender)
        return tokens

    def relative(self, head: NounPhrase, gender: int) -> list[str]:
        rel = head.rel
        prefix = QAB_PERSON["3pl"] if head.plural else QAB_THIRD_SINGULAR[gender]
        return ["ke", self.verb(rel.verb, rel.tense, prefix, rel.obj)] + self.object(rel.obj)


def _with_comma(tokens: list[str]) -> list[str]:
    return tokens[:-1] + [tokens[-1] + ","]
