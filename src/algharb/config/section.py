"""Typed config sections: every option's default and meaning in one place.

A section is a frozen dataclass whose fields are declared with :func:`option`
(default + one-line help), in the manner of TRL's ``*Config`` dataclasses. The
workflow parses each config section once (``Section.from_dict``); a job gets
back only the values it uses (``to_dict`` or single fields) and may rebuild
the same section from them. The JSON schema (``algharb/config/schema.yaml``)
keeps naming unknown or mistyped keys before any job starts; a test checks
that each schema object and its section list the same keys, so the two
cannot drift.
"""

from __future__ import annotations

import dataclasses
import difflib
import sys
from typing import Any, Mapping, TypeVar

S = TypeVar("S", bound="Section")


class ConfigError(ValueError):
    """A configuration problem; the message names the offending key(s)."""


def option(default: Any = dataclasses.MISSING, help: str = "", *, factory: Any = None, key: str | None = None):
    """A section field with its default and one-line meaning.

    ``factory`` builds a mutable or nested default (a nested :class:`Section`
    class is parsed recursively); ``key`` is the config key when it is not a
    Python identifier (``decode.lambda``).
    """
    metadata = {"help": help, "key": key}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def config_key(field: dataclasses.Field) -> str:
    return field.metadata.get("key") or field.name


def nested_section(field: dataclasses.Field) -> type[Section] | None:
    """The Section class a field holds, when its default is built from one."""
    factory = field.default_factory
    if isinstance(factory, type) and issubclass(factory, Section):
        return factory
    return None


@dataclasses.dataclass(frozen=True)
class Section:
    """Base of every typed config section."""

    @classmethod
    def from_dict(cls: type[S], values: Mapping[str, Any] | None, where: str = "") -> S:
        """Defaults overlaid with ``values``; an unknown key raises naming ``where.key``."""
        values = dict(values or {})
        fields = {config_key(f): f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ConfigError("; ".join(_unknown_key(where, key, sorted(fields)) for key in unknown))
        kwargs = {}
        for key, value in values.items():
            field = fields[key]
            inner = nested_section(field)
            if inner is not None and not isinstance(value, Section):
                value = inner.from_dict(value, where=_join(where, key))
            elif isinstance(value, str):
                # A value read from JSON params is a fresh string, a default an
                # interned one; pickles that reach the outputs (TrainingArguments
                # in training_args.bin) must not depend on which it was.
                value = sys.intern(value)
            kwargs[field.name] = value
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Every option by its config key, defaults filled in (nested sections as dicts)."""
        out = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            out[config_key(field)] = value.to_dict() if isinstance(value, Section) else value
        return out

    def replace(self: S, **changes: Any) -> S:
        return dataclasses.replace(self, **changes)

    @classmethod
    def keys(cls) -> list[str]:
        return [config_key(f) for f in dataclasses.fields(cls)]

    @classmethod
    def describe(cls) -> list[tuple[str, Any, str]]:
        """(key, default, meaning) of every option, for documentation and tests."""
        rows = []
        for field in dataclasses.fields(cls):
            if field.default is not dataclasses.MISSING:
                default = field.default
            elif field.default_factory is not dataclasses.MISSING:
                default = field.default_factory()
            else:
                default = None
            rows.append((config_key(field), default, field.metadata.get("help", "")))
        return rows


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _unknown_key(where: str, key: str, allowed: list[str]) -> str:
    hint = difflib.get_close_matches(key, allowed, n=1)
    suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
    return f"unknown key '{_join(where, key)}'{suggestion}; allowed here: {', '.join(allowed) or 'none'}"
