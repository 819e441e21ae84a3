import copy
from pathlib import Path

import pytest
import yaml

from algharb.config import ConfigError, load_config, validate_config
from algharb.data.config import CleanConfig

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


def test_preference_methods_are_registered_names(demo):
    bad = copy.deepcopy(demo)
    bad["rl"]["compare"].append(["cpo", "ppo"])
    invalid(bad, r"'rl\.compare\[5\]\[1\]': unknown preference method 'ppo'; registered: cpo, dpo, cpo_noised")
    bad = copy.deepcopy(demo)
    bad["rl"]["stages"] = ["cop"]
    invalid(bad, r"'rl\.stages\[0\]': unknown preference method 'cop'")


def test_pair_scorers_are_models_and_m2po_needs_an_aligner(demo):
    bad = copy.deepcopy(demo)
    bad["rl"]["pairs"]["scorers"] = {"qe": 0.5, "kiwi_xxl": 0.5}
    invalid(bad, r"'rl\.pairs\.scorers\.kiwi_xxl' names no entry of 'models'")
    bad = copy.deepcopy(demo)
    bad["rl"]["pairs"]["scorers"] = {"qe": 0}
    invalid(bad, r"'rl\.pairs\.scorers\.qe': 0 is less than or equal to the minimum of 0")
    bad = copy.deepcopy(demo)
    bad["decode"]["align"]["backend"] = "none"
    invalid(bad, r"'rl' trains m2po.*'decode\.align\.backend' is 'none'")
    without_m2po = copy.deepcopy(bad)
    without_m2po["rl"]["compare"] = [c for c in bad["rl"]["compare"] if c != ["m2po"]]
    validate_config(without_m2po, check_paths=False)


def test_a_chain_compared_twice_is_an_error(demo):
    from algharb.config.sections import WorkflowConfig

    config = copy.deepcopy(demo)
    config["rl"]["compare"].append(["dpo"])
    with pytest.raises(ConfigError, match="rl.compare lists a chain twice"):
        WorkflowConfig.parse(config)


def test_chains_share_their_prefixes(demo):
    from algharb.config.sections import WorkflowConfig

    rl = WorkflowConfig.parse(demo).rl
    assert rl.chains() == [["cpo"], ["cpo", "dynamic"], ["dpo"], ["cpo_noised"], ["m2po"]]
    assert rl.methods() == {"cpo", "dynamic", "dpo", "cpo_noised", "m2po"}


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


def _section_classes():
    """Schema path → the typed section parsing it (every object of the schema with fixed keys)."""
    from algharb.collab.config import CollabConfig
    from algharb.config import sections as cs
    from algharb.data.config import CleanConfig, NormalizeConfig, QEConfig
    from algharb.decode.config import AlignConfig, CandidatesConfig, MBRConfig
    from algharb.train.config import CPOConfig, DPOConfig, DynamicConfig, M2POConfig, SFTConfig

    return {
        (): cs.WorkflowConfig,
        ("data",): cs.DataConfig,
        ("demo",): cs.DemoConfig,
        ("demo", "tokenizer"): cs.DemoTokenizerConfig,
        ("demo", "base_model"): cs.DemoBaseModelConfig,
        ("demo", "teacher"): cs.DemoTeacherConfig,
        ("demo", "lid"): cs.DemoLidConfig,
        ("demo", "comet"): cs.DemoCometConfig,
        ("clean",): CleanConfig,
        ("clean", "normalize"): NormalizeConfig,
        ("clean", "qe"): QEConfig,
        ("distill",): cs.DistillConfig,
        ("sft",): cs.SFTSteps,
        ("sft", "step1"): SFTConfig,
        ("sft", "step2"): SFTConfig,
        ("rl",): cs.RLConfig,
        ("rl", "pool"): cs.PoolConfig,
        ("rl", "pairs"): cs.PairsConfig,
        ("rl", "pairs", "noise"): cs.NoiseConfig,
        ("rl", "cpo"): CPOConfig,
        ("rl", "dpo"): DPOConfig,
        ("rl", "dynamic"): DynamicConfig,
        ("rl", "m2po"): M2POConfig,
        ("decode",): cs.DecodeConfig,
        ("decode", "candidates"): CandidatesConfig,
        ("decode", "mbr"): MBRConfig,
        ("decode", "align"): AlignConfig,
        ("evaluate",): cs.EvaluateConfig,
        ("resources",): cs.ResourcesConfig,
        ("collab",): CollabConfig,
        ("collab", "finetune"): SFTConfig,
    }


def _subschema(schema, path):
    node = schema
    for key in path:
        node = node["properties"][key]
        while "$ref" in node:
            node = schema["definitions"][node["$ref"].split("/")[-1]]
    return node


@pytest.mark.parametrize("path", list(_section_classes()), ids=lambda p: ".".join(p) or "top")
def test_schema_and_typed_sections_list_the_same_keys(path):
    """Schema and typed sections cannot drift: same keys, and every default passes the schema."""
    from jsonschema import Draft7Validator

    from algharb.config import load_schema
    from algharb.config.section import Section, nested_section

    schema = load_schema()
    node = _subschema(schema, path)
    section = _section_classes()[path]
    set_by_workflow = set(getattr(section, "WORKFLOW_KEYS", ()))
    assert set(node["properties"]) == set(section.keys()) - set_by_workflow
    assert node.get("additionalProperties") is False
    # Defaults of plain values must be valid config values (None, {} and [] mean "unset").
    import dataclasses

    nested = {f.name for f in dataclasses.fields(section) if nested_section(f)}
    defaults = {
        key: value
        for key, value, _ in section.describe()
        if value not in (None, {}, []) and key not in nested and key not in set_by_workflow
        and not isinstance(value, Section)
    }
    resolver_schema = {**node, "definitions": schema["definitions"]}
    errors = [e.message for e in Draft7Validator(resolver_schema).iter_errors(defaults)
              if e.validator != "required"]
    assert not errors, f"{'.'.join(path)}: defaults the schema rejects: {errors}"
    assert all(help for _, _, help in section.describe()), "every option says what it means"


def test_typed_config_reads_every_value_once(demo):
    from algharb.config.sections import WorkflowConfig

    cfg = WorkflowConfig.parse(demo)
    assert cfg.decode.lambda_ == demo["decode"]["lambda"]
    assert cfg.clean.qe.threshold == demo["clean"]["qe"]["threshold"]
    # Run-wide values reach the stages that need them.
    assert cfg.sft.step1.seed == cfg.rl.dynamic.seed == demo["seed"]
    assert cfg.decode.align.seed == demo["seed"]
    # Defaults come from the section when the config is silent.
    assert cfg.distill.refilter is True and cfg.rl.cpo.loss_type == "sigmoid"


def test_typed_section_names_an_unknown_key():
    from algharb.decode.config import MBRConfig

    with pytest.raises(ConfigError, match=r"unknown key 'decode\.mbr\.utilty' \(did you mean 'utility'\?\)"):
        MBRConfig.from_dict({"utilty": "chrf"}, where="decode.mbr")


def test_schema_ships_with_the_package():
    from algharb.config import SCHEMA_PATH

    # Located beside the package's own modules, not through a source checkout.
    assert SCHEMA_PATH.is_file()
    assert SCHEMA_PATH.parent.name == "config" and SCHEMA_PATH.parent.parent.name == "algharb"


def test_corpus_spec_errors_name_the_key(demo):
    bad = copy.deepcopy(demo)
    bad["data"]["corpora"]["en-qaa"] = {"tsv": "corpus.tsv", "src": "x"}
    invalid(bad, r"data\.corpora\.en-qaa")
    bad["data"]["corpora"]["en-qaa"] = {"format": "tmx", "src": "a", "tgt": "b"}
    invalid(bad, r"data\.corpora\.en-qaa.*'tmx'")


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


@pytest.mark.parametrize("value", [1.5, -0.1, "1%"])
def test_malformed_budget_is_a_share_named_by_its_key(demo, value):
    bad = copy.deepcopy(demo)
    bad["clean"]["max_malformed_share"] = value
    invalid(bad, r"clean\.max_malformed_share")
    with pytest.raises(ConfigError, match=r"clean\.max_malformed_share: expected a share in \[0, 1\]"):
        CleanConfig.from_dict({"max_malformed_share": value}, where="clean")


@pytest.mark.parametrize("key, value, registry", [
    (("evaluate", "metrics"), ["chrf", "comet-kiwi-typo"], "evaluation metric"),
    (("decode", "mbr", "utility"), "chrff", "MBR utility"),
    (("decode", "align", "backend"), "giza", "aligner"),
    (("decode", "backend"), "ctranslate2", "generation backend"),
    (("models", "teacher", "backend"), "ctranslate2", "generation backend"),
])
def test_method_names_are_checked_against_their_registry(demo, key, value, registry):
    """The registries, not the schema, list the methods: an unregistered name fails before any job."""
    bad = copy.deepcopy(demo)
    node = bad
    for part in key[:-1]:
        node = node[part]
    node[key[-1]] = value
    shown = value[-1] if isinstance(value, list) else value
    invalid(bad, rf"unknown {registry} '{shown}'; registered: ")


def test_a_registered_metric_passes_validation_without_a_schema_edit(demo):
    from algharb.metrics import METRICS

    @METRICS.register("toy_config_metric")
    class ToyMetric:
        def __init__(self, inputs):
            pass

    good = copy.deepcopy(demo)
    good["evaluate"]["metrics"].append("toy_config_metric")
    try:
        validate_config(good, check_paths=False)
    finally:
        METRICS.unregister("toy_config_metric")


def test_a_metric_with_a_model_of_its_own_needs_that_models_entry(demo):
    bad = copy.deepcopy(demo)
    del bad["collab"], bad["models"]["bertscore"]
    bad["evaluate"]["metrics"].append("bertscore")
    invalid(bad, r"models\.bertscore: missing, but evaluate\.metrics names a metric that scores with it")
    bad["models"]["bertscore"] = {"path": "results/demo/models/bert", "options": {"num_layers": 2}}
    validate_config(bad, check_paths=False)


def test_comet_stand_in_budgets_are_one_number_or_per_kind(demo):
    from algharb.config.sections import DemoCometConfig

    assert DemoCometConfig.from_dict({"max_steps": 40}).steps_for("qe") == 40
    per_kind = DemoCometConfig.from_dict({"max_steps": {"ref": 500}})
    assert (per_kind.steps_for("ref"), per_kind.steps_for("qe")) == (500, None)  # None: the kind's default
    bad = copy.deepcopy(demo)
    bad["demo"]["comet"]["max_steps"] = {"kiwi": 3}
    invalid(bad, r"demo\.comet\.max_steps")
