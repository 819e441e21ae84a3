"""Load and validate a workflow configuration before any job runs.

The JSON schema (``schema.yaml``, shipped inside this package) forbids unknown keys everywhere, so a
typo fails at once; this module turns jsonschema's errors into one message
per problem that names the key (``decode.lambda``) and suggests the closest
allowed key. Cross-field checks the schema cannot express (every pair has a
corpus, a declared model path exists) follow.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml

from algharb.config.section import ConfigError

SCHEMA_PATH = Path(__file__).with_name("schema.yaml")

# Paths under this prefix are produced by the workflow itself (the demo's
# stand-ins), so they need not exist before the run.
GENERATED_PREFIX = "results/"


def load_schema(path: str | Path = SCHEMA_PATH) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_config(path: str | Path) -> dict:
    """Read a YAML config file and validate it."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist")
    with open(path, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    validate_config(config, source=str(path))
    return config


def validate_config(config: dict, schema: dict | None = None, source: str = "config",
                    check_paths: bool = True) -> dict:
    """Raise :class:`ConfigError` listing every problem; return ``config`` when valid."""
    from jsonschema import Draft7Validator

    schema = schema or load_schema()
    validator = Draft7Validator(schema)
    problems = [_describe(error, schema) for error in validator.iter_errors(config)]
    if not problems:
        problems = _cross_checks(config, check_paths)
    if problems:
        raise ConfigError(f"{source} is invalid:\n" + "\n".join(f"  - {p}" for p in sorted(set(problems))))
    return config


def _key(path) -> str:
    return ".".join(str(part) for part in path) or "(top level)"


def _describe(error, schema: dict) -> str:
    """One readable line for a jsonschema error, naming the key."""
    where = _key(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        lines = []
        for key in unknown:
            full = f"{where}.{key}" if error.absolute_path else key
            hint = difflib.get_close_matches(key, allowed, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            lines.append(f"unknown key '{full}'{suggestion}; allowed here: {', '.join(allowed)}")
        return "; ".join(lines)
    if error.validator == "required":
        return f"'{where}' is missing a required key: {error.message.split(' ')[0]}"
    if error.validator == "oneOf" and isinstance(error.instance, dict):
        return f"'{where}' must have exactly one of 'path' or 'hub'"
    return f"'{where}': {error.message}"


def _cross_checks(config: dict, check_paths: bool) -> list[str]:
    problems = []
    data = config["data"]
    for pair in config["pairs"]:
        for section in ("corpora", "test"):
            if pair not in data.get(section, {}):
                problems.append(f"'data.{section}' has no entry for pair '{pair}' listed in 'pairs'")
        src_lang = pair.split("-")[0]
        if src_lang not in data["rl_sources"]:
            problems.append(f"'data.rl_sources' has no file for source language '{src_lang}' (pair '{pair}')")
    problems += [f"'data.rl_references.{pair}': '{pair}' is not one of 'pairs'"
                 for pair in data.get("rl_references", {}) if pair not in config["pairs"]]
    problems += _spec_problems(config)
    if config["evaluate"]["primary"] not in config["evaluate"]["metrics"]:
        problems.append("'evaluate.primary' must be one of 'evaluate.metrics'")
    problems += _registry_problems(config)
    if check_paths:
        problems += _missing_paths(config)
    return problems


def _registry_problems(config: dict) -> list[str]:
    """Every name of a pluggable method must be registered (the registries, not the schema, list them)."""
    from algharb.decode.align import ALIGNERS
    from algharb.decode.utility import UTILITIES
    from algharb.generation import BACKENDS
    from algharb.metrics import METRICS
    from algharb.train.preference import PREFERENCE_LOSSES

    decode = config["decode"]
    named = [(METRICS, f"evaluate.metrics[{i}]", name) for i, name in enumerate(config["evaluate"]["metrics"])]
    named += [(UTILITIES, "decode.mbr.utility", decode["mbr"].get("utility")),
              (ALIGNERS, "decode.align.backend", decode["align"]["backend"]),
              (BACKENDS, "decode.backend", decode.get("backend")),
              (PREFERENCE_LOSSES, "rl.dynamic.preference_loss", config["rl"]["dynamic"].get("preference_loss")),
              (PREFERENCE_LOSSES, "rl.m2po.preference_loss", config["rl"].get("m2po", {}).get("preference_loss"))]
    named += _preference_method_names(config["rl"])
    named += [(BACKENDS, f"models.{name}.backend", model.get("backend")) for name, model in config["models"].items()]
    named += [(BACKENDS, f"evaluate.models.{name}.model.backend", row["model"].get("backend"))
              for name, row in config["evaluate"].get("models", {}).items()]
    collab = config.get("collab") or {}
    named += [(METRICS, f"collab.metrics[{i}]", name) for i, name in enumerate(collab.get("metrics", []))]
    problems = []
    for registry, where, name in named:
        if name is None:
            continue  # not set: the section's default, itself registered (tests)
        try:
            registry.get(name, where=f"'{where}'")
        except ValueError as err:
            problems.append(str(err))
    return problems + _metric_model_problems(config) + _preference_problems(config)


def _preference_method_names(rl: dict) -> list:
    from algharb.train.methods import PREFERENCE_METHODS

    named = [(PREFERENCE_METHODS, f"rl.stages[{i}]", name) for i, name in enumerate(rl.get("stages", []))]
    return named + [(PREFERENCE_METHODS, f"rl.compare[{i}][{j}]", name)
                    for i, chain in enumerate(rl.get("compare", [])) for j, name in enumerate(chain)]


def _preference_problems(config: dict) -> list[str]:
    """Pair scorers are models entries; M2PO's faithfulness reward needs an aligner."""
    rl = config["rl"]
    problems = [f"'rl.pairs.scorers.{name}' names no entry of 'models' (have: {', '.join(sorted(config['models']))})"
                for name in rl.get("pairs", {}).get("scorers", {}) if name not in config["models"]]
    methods = {name for chain in [rl.get("stages", []), *rl.get("compare", [])] for name in chain}
    if "m2po" in methods and config["decode"]["align"]["backend"] == "none":
        problems.append("'rl' trains m2po, whose static reward adds S_align, but 'decode.align.backend' is 'none'")
    return problems


def _metric_model_problems(config: dict) -> list[str]:
    """A metric with a model of its own (``bertscore``) needs that ``models`` entry."""
    from algharb.metrics import METRICS, metric_model_entries

    problems = []
    sections = [("evaluate.metrics", config["evaluate"]["metrics"])]
    if config.get("collab"):
        sections.append(("collab.metrics", _collab_metrics(config["collab"])))
    for where, names in sections:
        metrics = [name for name in names if name in METRICS]
        problems += [f"models.{entry}: missing, but {where} names a metric that scores with it"
                     for entry in metric_model_entries(metrics) if entry not in config["models"]]
    return problems


def _collab_metrics(collab: dict) -> list[str]:
    from algharb.collab.config import CollabConfig

    return collab.get("metrics", CollabConfig().metrics)


def _spec_problems(config: dict) -> list[str]:
    """Corpus specs (format and keys) and each direction's cleaning filters, checked before any job."""
    from algharb.data.config import CleanConfig
    from algharb.data.ingest import normalize_spec

    problems = []
    for section in ("corpora", "dev", "test"):
        for pair, spec in config["data"].get(section, {}).items():
            try:
                normalize_spec(spec, where=f"data.{section}.{pair}")
            except ValueError as err:
                problems.append(str(err))
    for pair in config["pairs"]:
        try:
            clean = CleanConfig.from_dict(config["clean"], where="clean")
            clean.rule_settings(pair)
            clean.qe_for(pair)  # the QE settings are checked there (QEConfig.check)
        except ValueError as err:
            problems.append(f"{err} (pair {pair})")
    return problems + _collab_problems(config)


def _collab_problems(config: dict) -> list[str]:
    """The collab section as a whole (symbols, directions, models) and its corpus specs."""
    from algharb.collab.config import CollabConfig
    from algharb.data.ingest import normalize_spec

    collab = config.get("collab")
    if not collab:
        return []
    try:
        CollabConfig.parse(collab, run={})
    except ValueError as err:
        return [str(err)]
    problems = []
    for direction, splits in collab["data"].items():
        for split, spec in splits.items():
            try:
                normalize_spec(spec, where=f"collab.data.{direction}.{split}")
            except ValueError as err:
                problems.append(str(err))
    return problems


def _missing_paths(config: dict) -> list[str]:
    """Declared inputs that neither exist nor will be generated by the workflow."""
    problems = []
    for key, path in declared_paths(config):
        if not str(path).startswith(GENERATED_PREFIX) and not Path(path).exists():
            problems.append(f"'{key}': path {path} does not exist")
    return problems


def declared_paths(config: dict) -> list[tuple[str, str]]:
    """(key, path) for every file or model path the config points at."""
    found = []
    for name, model in config["models"].items():
        if "path" in model:
            found.append((f"models.{name}.path", model["path"]))
    data = config["data"]
    for section in ("corpora", "dev", "test"):
        for pair, spec in data.get(section, {}).items():
            if pair in config["pairs"]:
                found += [(f"data.{section}.{pair}", path) for path in _spec_paths_or_none(spec)]
    for lang, path in data["rl_sources"].items():
        found.append((f"data.rl_sources.{lang}", path))
    for pair, path in data.get("rl_references", {}).items():
        found.append((f"data.rl_references.{pair}", path))
    for system, files in config["evaluate"].get("external", {}).items():
        found += [(f"evaluate.external.{system}.{pair}", path) for pair, path in files.items()]
    for name, row in config["evaluate"].get("models", {}).items():
        if "path" in row["model"]:
            found.append((f"evaluate.models.{name}.model.path", row["model"]["path"]))
    return found + _collab_paths(config.get("collab") or {})


def _collab_paths(collab: dict) -> list[tuple[str, str]]:
    found = []
    for direction, splits in collab.get("data", {}).items():
        for split, spec in splits.items():
            found += [(f"collab.data.{direction}.{split}", path) for path in _spec_paths_or_none(spec)]
    models = [("collab.small", collab.get("small", {}))]
    models += [(f"collab.large.{size}", model) for size, model in collab.get("large", {}).items()]
    return found + [(f"{key}.path", model["path"]) for key, model in models if "path" in model]


def _spec_paths_or_none(spec) -> list[str]:
    """A spec's files; none for a malformed spec (reported by the spec check instead)."""
    from algharb.data.ingest import spec_paths

    try:
        return spec_paths(spec)
    except ValueError:
        return []
