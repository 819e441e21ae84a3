"""Configuration: JSON-schema validation before any job, then typed sections.

``load_config``/``validate_config`` name every unknown or mistyped key;
``WorkflowConfig.parse`` (``algharb.config.sections``) turns the validated
mapping into typed sections whose fields hold every default.
"""

from algharb.config.section import ConfigError, Section, option
from algharb.config.validate import SCHEMA_PATH, declared_paths, load_config, load_schema, validate_config

__all__ = [
    "ConfigError",
    "SCHEMA_PATH",
    "Section",
    "declared_paths",
    "load_config",
    "load_schema",
    "option",
    "validate_config",
]
