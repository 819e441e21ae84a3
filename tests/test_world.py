"""Tests of the demo world: files, noise labels, oracle, grammar, config checks."""

from __future__ import annotations

import collections
import filecmp
import re
from pathlib import Path

import pytest

from algharb.demo import world_words as words
from algharb.demo.world import (
    DEFAULT_WORLD,
    _maximum_matching,
    LANGUAGES,
    World,
    generate_world,
    load_world,
    omitted_content,
    oracle_translate,
    resolve_config,
)
from algharb.demo.world_grammar import Clause, NounPhrase, Sentence
from algharb.demo.world_lexicon import ENGLISH_POOLS, english_entry
from algharb.demo.world_noise import NOISE_KINDS
from algharb.demo.world_targets import QAA_OBJECT_CASE, attach
from algharb.io import read_lines

SMALL = {
    "seed": 7,
    "pairs": ["en-qaa", "en-qab"],
    "n_train": 2000,
    "n_dev": 40,
    "n_test": 40,
    "n_rl": 30,
    "n_teacher": 300,
    "n_metric": 100,
    "n_lid": 60,
    "n_lid_valid": 20,
}
RATES = DEFAULT_WORLD["noise"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One small world written to disk, with its summary."""
    out = tmp_path_factory.mktemp("world")
    return out, generate_world(SMALL, out), World(SMALL)


def raw_corpus(out: Path, pair: str):
    tgt = pair.split("-")[1]
    src_lines = read_lines(out / pair / "raw" / "train.en")
    tgt_lines = read_lines(out / pair / "raw" / f"train.{tgt}")
    label_rows = read_lines(out / pair / "raw" / "noise_labels.tsv")
    return src_lines, tgt_lines, label_rows


def labelled_lines(out: Path, pair: str) -> list[tuple[str, str, str]]:
    src_lines, tgt_lines, label_rows = raw_corpus(out, pair)
    kinds = [row.split("\t")[1] for row in label_rows[1:]]
    return list(zip(src_lines, tgt_lines, kinds))


def all_files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


# ---------------------------------------------------------------- files


def test_same_seed_gives_identical_files_and_other_seed_differs(built, tmp_path):
    out, _, _ = built
    again = tmp_path / "again"
    generate_world(SMALL, again)
    assert all_files(out) == all_files(again)
    for rel in all_files(out):
        assert filecmp.cmp(out / rel, again / rel, shallow=False), rel
    other = tmp_path / "other"
    generate_world({**SMALL, "seed": 8}, other)
    assert read_lines(other / "en-qaa" / "test.en") != read_lines(out / "en-qaa" / "test.en")
    assert read_lines(other / "en-qaa" / "raw" / "train.qaa") != read_lines(out / "en-qaa" / "raw" / "train.qaa")


def test_expected_files_and_counts(built):
    out, summary, _ = built
    for pair in SMALL["pairs"]:
        tgt = pair.split("-")[1]
        for split, n in (("dev", 40), ("test", 40), ("teacher", 300), ("metric", 100)):
            assert len(read_lines(out / pair / f"{split}.en")) == n
            assert len(read_lines(out / pair / f"{split}.{tgt}")) == n
        assert summary["pairs"][pair]["train"] == SMALL["n_train"]
    assert len(read_lines(out / "rl" / "en.txt")) == 30
    assert summary["lid"] == {"train": 3 * 60, "valid": 3 * 20}
    from algharb.demo.layout import WORLD, world_files

    listed = {Path(f).relative_to(WORLD) for f in world_files(SMALL["pairs"])}
    assert {Path("rl/en-qaa.qaa"), Path("rl/en-qab.qab")} <= listed
    assert listed <= set(all_files(out))


def test_rl_references_are_the_worlds_translations_of_the_rl_sources(built):
    out, _, _ = built
    sources = read_lines(out / "rl" / "en.txt")
    for pair in SMALL["pairs"]:
        tgt = pair.split("-")[1]
        references = read_lines(out / "rl" / f"{pair}.{tgt}")
        assert len(references) == len(sources)
        assert references[:10] == [oracle_translate(src, tgt, SMALL) for src in sources[:10]]


def test_splits_are_disjoint_by_source(built):
    out, _, _ = built
    held_out = {
        "dev": set(read_lines(out / "en-qaa" / "dev.en")),
        "test": set(read_lines(out / "en-qaa" / "test.en")),
        "rl": set(read_lines(out / "rl" / "en.txt")),
    }
    training = set()
    for pair in SMALL["pairs"]:
        assert set(read_lines(out / pair / "dev.en")) == held_out["dev"]  # shared across pairs
        for split in ("teacher", "metric"):
            training |= set(read_lines(out / pair / f"{split}.en"))
        training |= set(read_lines(out / pair / "raw" / "train.en"))
    names = list(held_out)
    for i, a in enumerate(names):
        assert not held_out[a] & training, a
        for b in names[i + 1 :]:
            assert not held_out[a] & held_out[b], (a, b)
    teacher_a = set(read_lines(out / "en-qaa" / "teacher.en"))
    assert not teacher_a & set(read_lines(out / "en-qaa" / "metric.en"))


def test_raw_files_are_line_aligned_with_labels(built):
    out, _, _ = built
    for pair in SMALL["pairs"]:
        src_lines, tgt_lines, label_rows = raw_corpus(out, pair)
        assert label_rows[0] == "line\tkind"
        assert len(src_lines) == len(tgt_lines) == len(label_rows) - 1 == SMALL["n_train"]
        for number, row in enumerate(label_rows[1:], start=1):
            line, kind = row.split("\t")
            assert int(line) == number
            assert kind in ("clean",) + NOISE_KINDS


def test_lid_files_are_fasttext_lines_for_every_language(built):
    out, _, world = built
    lines = read_lines(out / "lid" / "train.txt")
    labels = collections.Counter(re.match(r"__label__(\S+) \S", line).group(1) for line in lines)
    assert labels == {lang: SMALL["n_lid"] for lang in LANGUAGES}
    for line in lines:
        label, text = line.split(" ", 1)
        if label == "__label__en":
            world.parse(text)  # a sentence of the world
        else:
            assert re.fullmatch(r"[A-Z][a-z ,]+\.", text), line  # invented languages: Latin script


# ---------------------------------------------------------------- noise


def test_each_noise_kind_has_its_configured_rate(built):
    out, summary, _ = built
    for pair in SMALL["pairs"]:
        counts = collections.Counter(kind for _, _, kind in labelled_lines(out, pair))
        for kind in NOISE_KINDS:
            assert counts[kind] == round(RATES[kind] * SMALL["n_train"]), (pair, kind)
            assert summary["pairs"][pair]["noise"][kind] == counts[kind]


def is_english(world: World, text: str) -> bool:
    try:
        world.parse(text)
    except ValueError:
        return False
    return True


def word_list(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def alphabetic_share(text: str) -> float:
    chars = [c for c in text if not c.isspace()]
    return sum(c.isalpha() for c in chars) / len(chars)


@pytest.mark.parametrize("pair", ["en-qaa", "en-qab"])
def test_each_noise_kind_is_what_its_label_says(built, pair):
    out, _, world = built
    tgt, other = pair.split("-")[1], {"qaa": "qab", "qab": "qaa"}[pair.split("-")[1]]
    lines = labelled_lines(out, pair)
    english_sources = {src for src, _, kind in lines if kind not in ("non_alphabetic", "near_duplicate")}
    oracle_targets = {world.oracle_translate(src, tgt) for src in english_sources}
    seen_pairs = set()
    fragments = repetitions = 0
    for src, hyp, kind in lines:
        if kind == "non_alphabetic":
            assert alphabetic_share(src) < 0.5 and alphabetic_share(hyp) < 0.5, (src, hyp)
            continue
        if kind == "near_duplicate":
            # Same words as an earlier clean pair, other casing/punctuation: not a parsable sentence.
            assert (src, hyp) not in seen_pairs
            assert any(word_list(src) == word_list(s) and word_list(hyp) == word_list(t) for s, t in seen_pairs), (src, hyp)
            seen_pairs.add((src, hyp))
            continue
        reference = world.oracle_translate(src, tgt)
        if kind == "clean":
            assert hyp == reference
        elif kind == "misaligned":
            assert hyp != reference and hyp in oracle_targets
        elif kind == "untranslated_copy":
            assert hyp == src
        elif kind == "wrong_language":
            assert hyp == world.oracle_translate(src, other) or (hyp != src and is_english(world, hyp))
        elif kind == "length_outlier":
            n_hyp, n_ref = len(hyp.split()), len(reference.split())
            fragments += n_hyp <= 2 and len(src.split()) >= 10
            repetitions += n_hyp >= 4 * n_ref and reference in hyp
            assert (n_hyp <= 2 and len(src.split()) >= 10) or n_hyp >= 4 * n_ref
        elif kind == "truncated":
            ref_words, hyp_words = reference.split(), hyp.split()
            assert reference.startswith(hyp) and hyp_words == ref_words[: len(hyp_words)]
            assert 1 <= len(hyp_words) <= 0.7 * len(ref_words)
        elif kind == "duplicate":
            assert (src, hyp) in seen_pairs
        seen_pairs.add((src, hyp))
    assert fragments > 0 and repetitions > 0


def test_clean_lines_are_unique(built):
    out, _, _ = built
    clean = [(s, t) for s, t, kind in labelled_lines(out, "en-qaa") if kind == "clean"]
    assert len(set(clean)) == len(clean)


def test_noise_can_be_switched_off(tmp_path):
    config = {**SMALL, "pairs": ["en-qab"], "n_train": 200, "noise": {k: 0.0 for k in NOISE_KINDS}}
    summary = generate_world(config, tmp_path)
    assert summary["pairs"]["en-qab"]["noise"]["clean"] == 200


# ---------------------------------------------------------------- oracle


def test_oracle_reproduces_the_written_references(built):
    out, _, _ = built
    for pair in SMALL["pairs"]:
        tgt = pair.split("-")[1]
        for src, ref in zip(read_lines(out / pair / "test.en"), read_lines(out / pair / f"test.{tgt}")):
            assert oracle_translate(src, tgt, SMALL) == ref


def test_parse_inverts_rendering_on_sampled_sentences():
    world = load_world(SMALL)
    for tree in world.sample_trees(400, seed=3):
        assert world.parse(world.render(tree, "en")) == tree


def test_sentence_lengths_stay_in_range():
    world = World({**SMALL, "min_words": 6, "max_words": 12})
    lengths = [len(s.split()) for s in world.sample_sentences(300, seed=1)]
    assert min(lengths) >= 6 and max(lengths) <= 12
    assert len(set(lengths)) >= 5  # spread over the range, not stuck at one end


def test_structure_limits_are_respected():
    world = World({**SMALL, "max_relatives": 0, "max_subordinates": 0, "max_pps": 1, "max_adjectives": 1})
    for tree in world.sample_trees(300, seed=2):
        assert tree.sub is None and len(tree.main.pps) <= 1
        phrases = [tree.main.subj, tree.main.obj] + [np for _, np in tree.main.pps]
        assert all(np is None or (np.rel is None and len(np.adjs) <= 1) for np in phrases)


def test_unreachable_length_range_is_an_error():
    world = World({**SMALL, "p_pronoun": 1.0, "max_pps": 0, "max_subordinates": 0, "min_words": 9, "max_words": 12})
    with pytest.raises(ValueError, match="min_words"):
        world.sample_sentences(1, seed=0)


def test_oracle_rejects_text_outside_the_world():
    world = load_world(SMALL)
    for text in ("Colorless purple ideas sleepz furiously.", "The the.", "He sleeps", ""):
        with pytest.raises(ValueError) as err:
            world.oracle_translate(text, "qaa")
        assert repr(text) in str(err.value)
    with pytest.raises(ValueError, match="target language"):
        world.oracle_translate(world.sample_sentences(1, seed=0)[0], "fr")


def test_agreement_errors_are_rejected():
    world = load_world(SMALL)
    verb = world.lexicon.ranked["vi"][0]
    forms = world.lexicon.entries[verb].forms
    world.oracle_translate(f"He {forms['s']}.", "qab")
    with pytest.raises(ValueError, match="agree"):
        world.oracle_translate(f"He {forms['base']}.", "qab")


# ---------------------------------------------------------------- omissions


def test_omitted_content_is_empty_for_the_reference_and_finds_a_deleted_word():
    world = load_world(SMALL)
    for source in world.sample_sentences(50, seed=11):
        for lang in ("qaa", "qab"):
            reference = world.oracle_translate(source, lang)
            assert omitted_content(source, reference, lang, SMALL) == []
            word, stem = world.content_stems(source, lang)[-1]
            tokens = reference.split()
            hit = next(i for i in reversed(range(len(tokens))) if stem in tokens[i].lower())
            damaged = " ".join(tokens[:hit] + tokens[hit + 1 :])
            assert word in world.omitted_content(source, damaged, lang)


def test_omitted_content_is_empty_for_many_references():
    world = load_world(SMALL)
    for source in world.sample_sentences(500, seed=13):
        for lang in ("qaa", "qab"):
            assert world.omitted_content(source, world.oracle_translate(source, lang), lang) == []


def test_matching_lets_no_stem_steal_another_words_slot():
    # Item 0's stem occurs in words 0 and 1, item 1's only in word 0.
    assert _maximum_matching([[0, 1], [0]], 2) == {0, 1}
    assert _maximum_matching([[0], [0]], 1) == {0}


def test_omitted_content_tolerates_wrong_suffixes():
    world = load_world(SMALL)
    source = next(s for s in world.sample_sentences(50, seed=12) if len(s.split()) > 6)
    reference = world.oracle_translate(source, "qaa")
    mangled = " ".join(token + "zz" for token in reference.split())
    assert world.omitted_content(source, mangled, "qaa") == []
    assert len(world.omitted_content(source, "", "qaa")) == len(world.content_stems(source, "qaa"))


# ---------------------------------------------------------------- grammar


def pick(world: World, category: str, ambiguous: bool = False) -> str:
    return next(lemma for lemma in world.lexicon.ranked[category] if (lemma in world.lexicon.ambiguous) == ambiguous)


def simple(subject: NounPhrase, verb: str, obj: NounPhrase | None = None, **extra) -> Sentence:
    return Sentence(Clause(subject, verb, "pres", obj=obj, **extra))


def test_qaa_object_case_depends_on_animacy():
    world = load_world(SMALL)
    verb = pick(world, "vt")
    for noun_class, animate in (("person", True), ("animal", True), ("object", False), ("place", False)):
        noun = pick(world, noun_class)
        tree = simple(NounPhrase(person="1sg"), verb, NounPhrase(noun=noun, det="the"))
        qaa = world.render(tree, "qaa").rstrip(".").split()
        assert qaa[-2] == attach(world.lexicon.stem("qaa", noun), QAA_OBJECT_CASE[animate])
        assert qaa[-1].startswith(world.lexicon.stem("qaa", verb))  # verb-final
    assert QAA_OBJECT_CASE[True] != QAA_OBJECT_CASE[False]


def test_qaa_verbs_agree_with_subject_person_and_number():
    world = load_world(SMALL)
    verb = pick(world, "vi")
    forms = {
        person: world.render(simple(NounPhrase(person=person), verb), "qaa").rstrip(".").split()[-1]
        for person in ("1sg", "2sg", "3sg.m", "1pl", "3pl")
    }
    assert len(set(forms.values())) == 5
    noun = pick(world, "person")
    singular = world.render(simple(NounPhrase(noun=noun, det="the"), verb), "qaa")
    plural = world.render(simple(NounPhrase(noun=noun, det="the", plural=True), verb), "qaa")
    assert singular.rstrip(".").split()[-1] == forms["3sg.m"]
    assert plural.rstrip(".").split()[-1] == forms["3pl"]


def test_adjectives_agree_in_both_languages():
    world = load_world(SMALL)
    adj, verb = pick(world, "adj"), pick(world, "vi")
    animate_noun, inanimate_noun = pick(world, "animal"), pick(world, "food")
    qaa_forms = set()
    for noun in (animate_noun, inanimate_noun):
        for plural in (False, True):
            tree = simple(NounPhrase(noun=noun, det="the", adjs=[adj], plural=plural), verb)
            qaa_forms.add(world.render(tree, "qaa").split()[0].lower())
    assert len(qaa_forms) == 4
    genders = world.lexicon.qab_gender
    by_gender = {}
    for lemma in world.lexicon.ranked["object"] + world.lexicon.ranked["food"]:
        by_gender.setdefault(genders[lemma], lemma)
    qab_adjectives = set()
    for noun in by_gender.values():
        words_ = world.render(simple(NounPhrase(noun=noun, det="the", adjs=[adj]), verb), "qab").rstrip(".").split()
        qab_adjectives.add(words_[-1])
        assert words_[1] == {1: "lo", 2: "la", 3: "le"}[genders[noun]]
    assert len(qab_adjectives) == len(by_gender) == 3


def test_qab_is_verb_initial_pro_drop_and_fronts_pps():
    world = load_world(SMALL)
    verb, noun = pick(world, "vt"), pick(world, "object")
    stem = world.lexicon.stem("qab", verb)
    plain = world.render(simple(NounPhrase(person="1sg"), verb, NounPhrase(noun=noun, det="the")), "qab")
    assert plain.split()[0].lower() == "mi" + stem  # person prefix + stem; pronoun dropped
    assert plain.split()[1] == "et"  # definite object marker
    clitic = world.render(simple(NounPhrase(person="1sg"), verb, NounPhrase(person="3pl")), "qab")
    assert clitic.lower().rstrip(".") == "mi" + stem + ("h" if stem[-1] in "aeiouy" else "") + "ir"
    prep = next(p for p in world.lexicon.prepositions if p not in world.lexicon.ambiguous)
    fronted = world.render(
        simple(
            NounPhrase(person="1sg"),
            verb,
            NounPhrase(noun=noun, det="a"),
            pps=[(prep, NounPhrase(noun=noun, det="the"))],
        ),
        "qab",
    )
    assert fronted.lower().startswith(world.lexicon.stems["qab"][(prep, "")] + " ")
    assert "," in fronted


def test_ambiguous_words_depend_on_context_animacy():
    world = load_world({**SMALL, "n_ambiguous": len(words.AMBIGUOUS_CANDIDATES)})
    verb = next(v for v in world.lexicon.ranked["vt"] if v in world.lexicon.ambiguous)
    animate_obj = NounPhrase(noun=pick(world, "person"), det="the")
    inanimate_obj = NounPhrase(noun=pick(world, "object"), det="the")
    for lang in ("qaa", "qab"):
        with_person = world.render(simple(NounPhrase(person="1sg"), verb, animate_obj), lang)
        with_thing = world.render(simple(NounPhrase(person="1sg"), verb, inanimate_obj), lang)
        assert world.lexicon.stem(lang, verb, True) in with_person.lower()
        assert world.lexicon.stem(lang, verb, False) in with_thing.lower()
        assert world.lexicon.stem(lang, verb, True) != world.lexicon.stem(lang, verb, False)


def test_word_choice_is_zipfian(built):
    out, _, world = built
    counts = collections.Counter()
    nouns = {f: lemma for lemma, e in world.lexicon.entries.items() if e.pos == "noun" for f in e.forms.values()}
    for line in read_lines(out / "en-qaa" / "teacher.en") + read_lines(out / "en-qab" / "teacher.en"):
        counts.update(nouns[t] for t in line.rstrip(".").lower().split() if t in nouns)
    frequencies = sorted(counts.values(), reverse=True)
    assert frequencies[0] >= 10 * frequencies[len(frequencies) // 2]
    assert sum(1 for lemma in set(nouns.values()) if counts[lemma] <= 2) > 20  # a long tail of rare nouns


def test_lexicon_has_hundreds_of_pronounceable_unique_stems():
    assert load_world(SMALL).lexicon.lemma_count() == DEFAULT_WORLD["lexicon_size"] >= 200
    world = load_world({**SMALL, "lexicon_size": 450})
    for lang in ("qaa", "qab"):
        stems = [
            world.lexicon.stem(lang, lemma) for lemma in world.lexicon.entries if lemma not in world.lexicon.ambiguous
        ]
        assert len(set(stems)) == len(stems) >= 400
        assert all(re.fullmatch(r"[a-z]{5,}", stem) for stem in stems)
        assert all(re.search(r"[aeiouy]", stem) for stem in stems)
    qaa = {world.lexicon.stem("qaa", lemma) for lemma in world.lexicon.entries}
    qab = {world.lexicon.stem("qab", lemma) for lemma in world.lexicon.entries}
    assert len(qaa & qab) < 5  # two different lexicons


def cognate_fraction(world: World, lang: str) -> float:
    lexicon = world.lexicon
    lemmas = [lemma for lemma in lexicon.entries if lemma not in lexicon.ambiguous]
    laws = lexicon.sound_laws[lang]
    return sum(lexicon.stem(lang, lemma).startswith(laws.apply(lemma)) for lemma in lemmas) / len(lemmas)


def test_cognate_share_controls_sound_law_stems():
    for lang in ("qaa", "qab"):
        assert cognate_fraction(World({**SMALL, "cognate_share": 1.0}), lang) > 0.8
        assert cognate_fraction(World({**SMALL, "cognate_share": 0.0}), lang) < 0.05
    laws = World({**SMALL, "cognate_share": 1.0}).lexicon.sound_laws["qaa"]
    assert laws.apply("farm") == laws.apply("farm") and laws.apply("farm") != laws.apply("barn")


def test_english_word_forms_have_one_analysis_each():
    seen: dict[str, str] = {word: "function" for word in words.FUNCTION_WORDS}
    seen.update({prep: "prep" for prep, _ in words.parse_pool(words.PREPOSITIONS)})
    for category, pool in ENGLISH_POOLS.items():
        for lemma, irregular in pool:
            entry = english_entry(lemma, irregular, category)
            surfaces = set(entry.forms.values())
            assert len(surfaces) == len(entry.forms), (lemma, entry.forms)
            for surface in surfaces:
                assert surface not in seen, (surface, lemma, seen.get(surface))
                seen[surface] = lemma


# ---------------------------------------------------------------- config


def test_unknown_keys_and_bad_values_name_the_key():
    with pytest.raises(ValueError, match="'n_trian'"):
        resolve_config({"n_trian": 5})
    with pytest.raises(ValueError, match="noise.typo"):
        resolve_config({"noise": {"typo": 0.1}})
    with pytest.raises(ValueError, match="noise.truncated"):
        resolve_config({"noise": {"truncated": 1.5}})
    with pytest.raises(ValueError, match="max_words"):
        resolve_config({"min_words": 10, "max_words": 8})
    with pytest.raises(ValueError, match="lexicon_size"):
        resolve_config({"lexicon_size": 10_000})
    with pytest.raises(ValueError, match="pairs"):
        resolve_config({"pairs": ["en-fr"]})
    with pytest.raises(ValueError, match="n_dev"):
        resolve_config({"n_dev": -1})
    with pytest.raises(ValueError, match="max_subordinates"):
        resolve_config({"max_subordinates": 2})
    with pytest.raises(ValueError, match="cognate_share"):
        resolve_config({"cognate_share": -0.1})
    with pytest.raises(ValueError, match="p_plural"):
        resolve_config({"p_plural": 2})
    with pytest.raises(ValueError, match="zipf_exponent"):
        generate_world({"zipf_exponent": "steep"}, "/nonexistent")


def test_defaults_cover_every_key():
    resolved = resolve_config({})
    assert set(resolved) == set(DEFAULT_WORLD)
    assert set(resolved["noise"]) == set(NOISE_KINDS)
    partial = resolve_config({"noise": {"duplicate": 0.0}})
    assert partial["noise"]["duplicate"] == 0.0 and partial["noise"]["truncated"] == RATES["truncated"]


# ---------------------------------------------------------------- domain


def test_a_domain_adds_its_splits_and_changes_no_other_file(built, tmp_path):
    out, _, _ = built
    with_domain = tmp_path / "domain"
    summary = generate_world({**SMALL, "domain_pairs": ["en-qaa"], "n_domain_train": 200, "n_domain_dev": 20,
                              "n_domain_test": 20}, with_domain)
    assert summary["domain"] == {"en-qaa": {"train": 200, "dev": 20, "test": 20}}
    for rel in all_files(out):
        assert filecmp.cmp(out / rel, with_domain / rel, shallow=False), rel
    domain = with_domain / "domain" / "en-qaa"
    assert {p.name for p in domain.iterdir()} == {f"{s}.{l}" for s in ("train", "dev", "test") for l in ("en", "qaa")}
    general = {line for rel in all_files(out) if rel.suffix == ".en" for line in read_lines(out / rel)}
    splits = {split: set(read_lines(domain / f"{split}.en")) for split in ("train", "dev", "test")}
    assert not (splits["train"] | splits["dev"] | splits["test"]) & general
    assert not splits["test"] & splits["train"] and not splits["dev"] & splits["train"]
    world = World(SMALL)
    assert read_lines(domain / "test.qaa") == [world.oracle_translate(s, "qaa") for s in read_lines(domain / "test.en")]


def test_the_domain_is_written_with_the_general_texts_rarest_words(built, tmp_path):
    out, _, world = built
    generate_world({**SMALL, "domain_pairs": ["en-qab"], "n_domain_train": 300}, tmp_path)
    nouns = {f: lemma for lemma, e in world.lexicon.entries.items() if e.pos == "noun" for f in e.forms.values()}

    def noun_counts(lines):
        return collections.Counter(nouns[t] for line in lines for t in line.rstrip(".").lower().split() if t in nouns)

    general = noun_counts(read_lines(out / "en-qab" / "teacher.en"))
    domain = noun_counts(read_lines(tmp_path / "domain" / "en-qab" / "train.en"))
    top_domain = [lemma for lemma, _ in domain.most_common(5)]
    top_general = [lemma for lemma, _ in general.most_common(5)]

    def share(counts, lemmas):
        return sum(counts[lemma] for lemma in lemmas) / sum(counts.values())

    # The domain's five commonest nouns are a third of its nouns and nearly absent from the general text.
    assert share(domain, top_domain) > 0.3 and share(general, top_domain) < 0.01
    assert share(general, top_general) > 0.3 and share(domain, top_general) < 0.01


def test_domain_pairs_are_checked():
    with pytest.raises(ValueError, match="domain_pairs: unsupported pair 'en-xx'"):
        World({**SMALL, "domain_pairs": ["en-xx"]})
