"""English word pools and English morphology for the demo world.

The source language uses real English words so that prompts look natural, but
each word form has exactly one analysis (no word is both a noun and a verb, no
verb's past equals its base form), which keeps every generated sentence
parseable by :mod:`algharb.demo.world_grammar` and hence translatable by the
oracle. ``tests/test_world.py`` checks that no two forms collide.

Irregular forms are written ``base/form`` (plural for nouns, past for verbs).
"""

from __future__ import annotations

# Nouns by semantic class; persons and animals are animate, which drives the
# object case of qaa and the sense of ambiguous words.
NOUNS = {
    "person": """
        man/men woman/women child/children boy girl farmer teacher doctor student king
        queen soldier baker sailor driver singer dancer writer painter hunter
        fisherman/fishermen merchant priest judge nurse guard thief/thieves friend neighbor
        stranger traveler shepherd miller tailor carpenter blacksmith poet prince princess
        mother father brother sister uncle aunt cousin grandmother grandfather baby lady
        guest pilot clerk lawyer miner weaver servant captain scholar monk widow orphan
        rider worker musician artist chief wizard witch giant dwarf/dwarves knight bishop
        beggar pupil hero/heroes maid nephew niece duke emperor
    """,
    "animal": """
        dog cat horse cow goat pig bird wolf/wolves fox bear lion tiger mouse/mice rabbit
        duck goose/geese chicken snake frog bee ant spider owl eagle crow donkey camel
        elephant monkey whale dolphin shark turtle lizard parrot swan bull ox/oxen hen
        rooster puppy kitten mule hawk beetle butterfly squirrel badger otter lamb
        calf/calves pony crab zebra giraffe penguin pigeon sparrow raven hedgehog bat
    """,
    "object": """
        book table chair cup bottle knife/knives spoon plate bowl box bag key door window
        lamp candle clock coin ring hat coat shoe shirt dress rope basket bucket ladder
        hammer nail needle thread stone stick ball drum flute guitar letter map pen pencil
        paper picture mirror bed blanket pillow cart wagon boat ship wheel sword shield
        arrow axe shovel net kettle pot pan jar jug brush comb towel umbrella wallet ticket
        card flag bell tent trumpet violin statue vase barrel chain lock glove boot scarf
        belt button feather crown sack purse saddle anchor lantern compass broom carpet
        curtain
    """,
    "food": """
        bread apple cheese milk egg rice soup cake meat orange banana grape pear plum cherry
        onion carrot potato/potatoes tomato/tomatoes bean pie cookie honey butter salt sugar
        tea coffee wine beer juice nut lemon melon pepper olive sausage pancake noodle peach
        mushroom cabbage biscuit porridge
    """,
    "place": """
        house garden river forest mountain village city market school church bridge road
        field lake sea castle tower farm kitchen room hall library shop harbor island valley
        hill beach cave palace temple station street square park desert meadow barn mill inn
        hospital office prison cellar garage museum theater bakery orchard swamp canyon
    """,
    "abstract": """
        idea story song dream plan question answer secret law rule problem lesson word name
        promise message poem joke game journey gift price reason decision mistake memory
        wish rumor riddle tale speech prayer habit chance choice duty legend fortune mystery
        opinion theory
    """,
}

ANIMATE_CLASSES = ("person", "animal")

TRANSITIVE_VERBS = """
    see/saw find/found take/took make/made buy/bought sell/sold bring/brought carry
    hold/held keep/kept catch/caught teach/taught build/built write/wrote eat/ate
    drink/drank like love hate want need watch follow help visit call open close clean
    wash paint push pull kick touch hide/hid fix fill count ask thank greet chase hunt
    feed/fed meet/met leave/left lose/lost forget/forgot remember know/knew believe admire
    praise blame forgive/forgave protect warn invite obey serve trust miss kiss hug/hugged
    wake/woke steal/stole borrow lend/lent send/sent mend polish draw/drew throw/threw
    drop/dropped lift raise move pack plant pick gather collect deliver describe explain
    study learn understand/understood examine measure weigh sing/sang play tell/told
    hear/heard taste cover burn boil bake roast fry break/broke choose/chose
    prefer/preferred rent order accept refuse offer prepare drag/dragged shake/shook
    bite/bit scare tease bless rescue save attack defeat destroy repair wrap/wrapped load
    bury dig/dug climb cross search seek/sought bend/bent win/won grab/grabbed pour
    stir/stirred carve sweep/swept fold ride/rode lead/led feel/felt smell envy pay/paid
    copy marry hire fetch release punish reward train heal comfort welcome stop/stopped
    rob/robbed shave chop/chopped scrub/scrubbed
"""

INTRANSITIVE_VERBS = """
    sleep/slept run/ran walk swim/swam laugh cry smile dance jump sit/sat stand/stood
    arrive wait fall/fell rest shout whisper travel/traveled work breathe cough sneeze
    yawn wander hurry rise/rose kneel/knelt pray fly/flew grow/grew frown shiver tremble
    vanish appear hesitate complain argue succeed fail listen sigh nod/nodded blink return
    stay live die float sink/sank relax stumble limp sweat weep/wept shine/shone bloom glow
    hum/hummed lean march pause rejoice retire settle shrug/shrugged snore sulk wink crawl
    hop/hopped skip/skipped slide/slid struggle vote
"""

ADJECTIVES = """
    big small old young new happy sad tall short long red blue green white black brown
    yellow heavy light bright dark warm cold hot dirty rich poor strong weak quiet loud
    brave clever foolish kind cruel honest lazy busy hungry thirsty tired angry calm gentle
    proud shy wild tame sweet bitter sour fresh ripe rotten empty full wet dry soft hard
    smooth rough sharp dull round flat thin thick wide narrow deep shallow strange famous
    beautiful ugly pretty plain simple rare cheap expensive golden silver wooden broken sick
    healthy lucky careful silent noisy ancient modern tiny huge fat slim pale holy royal
    humble fierce loyal polite rude jealous patient nervous gray pink purple cheerful gloomy
    clumsy graceful eager ordinary precious sleepy stubborn wise bold brisk
"""

ADVERBS = """
    quickly slowly quietly loudly happily sadly carefully often rarely sometimes again
    early gently badly suddenly silently eagerly proudly bravely kindly calmly angrily
    politely patiently softly firmly gladly secretly openly easily honestly nervously
    warmly rudely freely wisely boldly briskly lazily cheerfully gracefully clumsily
    hastily loyally fiercely humbly stubbornly sleepily twice together alone
"""

PREPOSITIONS = """
    in on near under behind with without from into across beside above through toward
    around along inside among against beyond below onto within
"""

# Subordinating conjunctions; none doubles as a preposition, so a clause
# boundary is always visible from the word itself.
CONJUNCTIONS = "because when while although if unless until".split()

# Words whose translation depends on the animacy of a context noun: verbs on
# their object, adjectives on their noun, prepositions on their object. The
# world's ``n_ambiguous`` of them (seeded choice) get two target lemmas.
AMBIGUOUS_CANDIDATES = (
    "take hold keep raise catch carry lose call draw play lead old light fresh warm " "strong with against behind"
).split()

# Determiners: which noun numbers they combine with. ``None`` (no determiner)
# is the bare plural ("dogs bark").
SINGULAR_DETERMINERS = ("the", "a", "this", "that", "every", "my", "your", "his", "our", "their")
PLURAL_DETERMINERS = ("the", "these", "those", "some", "many", "my", "your", "his", "our", "their", None)
POSSESSIVES = ("my", "your", "his", "our", "their")
DETERMINER_WORDS = ("the", "a", "an", "this", "that", "these", "those", "some", "every", "many") + POSSESSIVES

# Pronouns by person key. "you" is always singular so that agreement in the
# targets is decidable from the English source.
PERSONS = ("1sg", "2sg", "3sg.m", "3sg.f", "1pl", "3pl")
SUBJECT_PRONOUNS = {"1sg": "I", "2sg": "you", "3sg.m": "he", "3sg.f": "she", "1pl": "we", "3pl": "they"}
OBJECT_PRONOUNS = {"1sg": "me", "2sg": "you", "3sg.m": "him", "3sg.f": "her", "1pl": "us", "3pl": "them"}

RELATIVE_PRONOUNS = {True: "who", False: "which"}  # keyed by animacy of the head noun

FUNCTION_WORDS = frozenset(
    DETERMINER_WORDS
    + tuple(CONJUNCTIONS)
    + tuple(w.lower() for w in SUBJECT_PRONOUNS.values())
    + tuple(OBJECT_PRONOUNS.values())
    + ("who", "which", "do", "does", "did", "not", "will")
)


def parse_pool(text: str) -> list[tuple[str, str | None]]:
    """``"man/men dog"`` → ``[("man", "men"), ("dog", None)]`` in written order."""
    entries = []
    for item in text.split():
        base, _, irregular = item.partition("/")
        entries.append((base, irregular or None))
    return entries


def _ends_sibilant(word: str) -> bool:
    return word.endswith(("s", "x", "z", "ch", "sh"))


def _consonant_y(word: str) -> bool:
    return len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou"


def plural(noun: str) -> str:
    """Regular English plural (irregulars are listed in the pools)."""
    if _ends_sibilant(noun):
        return noun + "es"
    if _consonant_y(noun):
        return noun[:-1] + "ies"
    return noun + "s"


def third_singular(verb: str) -> str:
    """Present tense, third person singular ("carries", "watches", "plays")."""
    if _ends_sibilant(verb) or verb.endswith("o"):
        return verb + "es"
    if _consonant_y(verb):
        return verb[:-1] + "ies"
    return verb + "s"


def past(verb: str) -> str:
    """Regular past tense (doubling and irregular pasts are listed in the pools)."""
    if verb.endswith("e"):
        return verb + "d"
    if _consonant_y(verb):
        return verb[:-1] + "ied"
    return verb + "ed"
