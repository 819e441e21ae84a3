import copy
from pathlib import Path

import pytest
import yaml

from algharb.config import ConfigError, load_config, validate_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo():
    return load_config(ROOT / "config" / "config.yaml")


def test_both_shipped_configs_validate():
    load_config(ROOT / "config" / "config.yaml")
    paper = yaml.safe_load((ROOT / "config" / "wmt25.yaml").read_text())
    # The paper's corpora live on the user's cluster, not here.
    validate_config(paper, check_paths=False)
    assert len(paper["pairs"]) == 13
    assert paper["decode"]["candidates"]["n"] == 100
    assert paper["decode"]["lambda"] == 0.5


def invalid(config, match):
    with pytest.raises(ConfigError, match=match):
        validate_config(config, check_paths=False)


def test_misspelled_key_is_named_with_a_suggestion(demo):
    bad = copy.deepcopy(demo)
    bad["decode"]["lamda"] = bad["decode"].pop("lambda")
    invalid(bad, r"unknown key 'decode\.lamda' \(did you mean 'lambda'\?\)")


def test_wrongly_typed_value_is_named(demo):
    bad = copy.deepcopy(demo)
    bad["rl"]["cpo"]["lora_r"] = "sixty-four"
    invalid(bad, r"'rl\.cpo\.lora_r': 'sixty-four' is not of type 'integer'")


def test_top_level_typo(demo):
    bad = copy.deepcopy(demo)
    bad["pair"] = bad.pop("pairs")
    invalid(bad, r"unknown key 'pair' \(did you mean 'pairs'\?\)")


def test_model_needs_exactly_one_of_path_or_hub(demo):
    bad = copy.deepcopy(demo)
    bad["models"]["qe"]["hub"] = "Unbabel/wmt23-cometkiwi-da-xxl"
    invalid(bad, r"'models\.qe' must have exactly one of 'path' or 'hub'")


def test_pair_without_corpus(demo):
    bad = copy.deepcopy(demo)
    bad["pairs"].append("en-zh")
    invalid(bad, r"'data\.corpora' has no entry for pair 'en-zh'")


def test_missing_model_path_named(demo, tmp_path):
    bad = copy.deepcopy(demo)
    bad["models"]["base"] = {"path": str(tmp_path / "nowhere")}
    with pytest.raises(ConfigError, match=r"'models\.base\.path': path .*nowhere does not exist"):
        validate_config(bad)


def test_generated_paths_need_not_exist_yet(demo):
    assert demo["models"]["base"]["path"].startswith("results/")
    validate_config(copy.deepcopy(demo))


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_schema_trainer_keys_are_the_trainers_hyperparameters():
    """The schema documents exactly the keys each trainer accepts (no drift)."""
    from algharb.config import load_schema
    from algharb.train.cpo import CPO_DEFAULTS
    from algharb.train.dynamic import DYNAMIC_DEFAULTS
    from algharb.train.sft import SFT_DEFAULTS

    props = load_schema()["properties"]
    set_by_workflow = {"seed", "threads"}
    sft = set(props["sft"]["properties"]["step1"]["properties"])
    cpo = set(props["rl"]["properties"]["cpo"]["properties"]) - {"margin"}
    dynamic = set(props["rl"]["properties"]["dynamic"]["properties"])
    assert sft == set(SFT_DEFAULTS) - set_by_workflow
    assert cpo == set(CPO_DEFAULTS) - set_by_workflow
    assert dynamic == set(DYNAMIC_DEFAULTS) - set_by_workflow


def test_corpus_spec_errors_name_the_key(demo):
    bad = copy.deepcopy(demo)
    bad["data"]["corpora"]["en-qaa"] = {"tsv": "corpus.tsv", "src": "x"}
    invalid(bad, r"data\.corpora\.en-qaa")
    bad["data"]["corpora"]["en-qaa"] = {"format": "tmx", "src": "a", "tgt": "b"}
    invalid(bad, r"'data\.corpora\.en-qaa\.format': 'tmx' is not one of")


def test_other_corpus_formats_validate(demo):
    good = copy.deepcopy(demo)
    good["data"]["corpora"]["en-qaa"] = {"tsv": "results/raw/en-qaa.tsv.gz", "src_col": 2, "tgt_col": 3}
    good["data"]["test"]["en-qaa"] = {"xml": "results/raw/wmttest2024.en-qaa.xml", "translator": "A"}
    good["data"]["test"]["en-qab"] = {"jsonl": "results/raw/wmt25.jsonl", "doc_prefix": "en-qab", "reference": "refA"}
    validate_config(good, check_paths=False)


def test_clean_filters_are_checked_per_direction(demo):
    bad = copy.deepcopy(demo)
    bad["clean"]["per_pair"] = {"en-qab": {"near_duplicate": {"side": "both"}}}
    invalid(bad, r"near_duplicate\.side: 'both' is not one of pair, src, tgt \(pair en-qab\)")
    bad["clean"]["per_pair"] = {"en-qab": {"lenght": {}}}
    invalid(bad, r"unknown filter 'lenght'")
