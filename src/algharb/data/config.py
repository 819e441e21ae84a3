"""The ``clean`` section: the data stage's settings with their defaults and meanings.

Filter options are typed by each filter class (the filter registry,
:data:`algharb.data.filters.FILTERS`); this section holds what is common to
a direction's cleaning. A job gets only what it uses: ``clean_shard`` and
the distillation's re-filter the direction's :meth:`CleanConfig.rule_settings`
(filters and normalisation), the QE cut the direction's
:meth:`CleanConfig.qe_for` (so a QE change reruns no rule filter).

The section as the config writes it::

    filters:                      # run in this order; first failure wins
      length: {min: 1, max: 200, unit: auto}
      length_ratio: {max: 2.5}
      non_alphabetic: {max_share: 0.5}
      copy: {}
      language_id: {min_prob: 0.5}
      duplicate: {}               # dedup filters run last, over the whole corpus
      near_duplicate: {mask_digits: true}
    per_pair:                     # optional, per direction
      en-zh_CN:
        length_ratio: {max: 3.0}  # replaces that filter's options
        copy: false               # drops the filter
        qe: {quantile: 0.1}       # replaces the qe section for this direction
    qe: {mode: threshold, threshold: 0.55, batch_size: 64}   # or mode: quantile, quantile: 0.1
    normalize: {fix_casing: false}

``filters`` may also be a list of ``{name: options}`` entries (or bare
names). Per-pair filters run in the listed order; the dedup filters
(:mod:`algharb.data.dedup`) always run after them, because duplicates are a
property of the whole corpus (and, when sharded, of all shards together). A
``per_pair`` entry replaces a filter's options wholesale, as
``{**filters, **per_pair[pair]}`` does; a filter new to the list is appended.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from algharb.config.section import ConfigError, Section, option
from algharb.data.filters import FILTERS

QE_MODES = ("threshold", "quantile")


@dataclass(frozen=True)
class NormalizeConfig(Section):
    enabled: bool = option(True, "language-aware Unicode, punctuation and spacing normalisation")
    fix_casing: bool = option(False, "lower-case lines written in ALL CAPS")

    def __post_init__(self):
        for key in self.keys():
            if not isinstance(getattr(self, key), bool):
                raise ConfigError(f"clean.normalize.{key}: expected true or false, got {getattr(self, key)!r}")


@dataclass(frozen=True)
class QEConfig(Section):
    """The QE filter (CometKiwi in the paper): a score threshold or a per-direction quantile."""

    mode: str | None = option(None, "'threshold' (reject below `threshold`) or 'quantile' (reject the lowest share); None: no QE filter")
    threshold: float | None = option(None, "mode threshold: pairs scoring below it are rejected")
    quantile: float | None = option(None, "mode quantile: share of the direction's pairs rejected, in [0, 1]")
    batch_size: int = option(64, "pairs per QE model batch")

    def cut(self) -> dict[str, Any]:
        """Only what decides the cut (batch size left out, so it triggers no rerun of the cut)."""
        return {"mode": self.mode, "threshold": self.threshold, "quantile": self.quantile}

    def check(self, where: str = "clean.qe") -> tuple[str, float] | None:
        """The cut asked for, as (mode, value), or None when no QE filter is set; a bad setting raises.

        The one place the QE settings are checked. Without ``mode`` the one of
        ``threshold``/``quantile`` that is given decides (both is an error);
        the mode's value must be a finite number, a quantile a share in [0, 1].
        Errors name ``where`` and the key.
        """
        mode = self.mode
        if mode is None:
            given = [key for key in QE_MODES if getattr(self, key) is not None]
            if len(given) > 1:
                raise ConfigError(f"{where}: give threshold or quantile (or set mode), not both")
            if not given:
                return None
            mode = given[0]
        if mode not in QE_MODES:
            raise ConfigError(f"{where}.mode: {mode!r} is not one of {', '.join(QE_MODES)}")
        value = getattr(self, mode)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{where}.{mode}: expected a number for mode {mode!r}, got {value!r}")
        if mode == "quantile" and not 0 <= value <= 1:
            raise ConfigError(f"{where}.quantile: expected a share in [0, 1], got {value!r}")
        return mode, float(value)


@dataclass(frozen=True)
class FilterConfig:
    """One direction's rule settings: its filters in order, each with its typed options, and normalisation.

    Everything the rule filters need and nothing about QE. Built by
    :meth:`CleanConfig.filter_config`; :meth:`to_dict` is the JSON-able form
    a job receives and :meth:`from_dict` rebuilds it.
    """

    filters: tuple[tuple[str, Section], ...] = ()
    normalize: NormalizeConfig = NormalizeConfig()

    @classmethod
    def parse(cls, filters: Any, normalize: NormalizeConfig, overrides: Mapping | None = None,
              where: str = "clean", overrides_where: str = "clean.per_pair") -> "FilterConfig":
        """Parse ``filters`` (``{name: options}`` or a list) and apply one direction's ``overrides``.

        Options ``null``/``{}`` mean the defaults; ``false`` leaves a filter
        out. Unknown filters and options, and bad values, raise
        ``ValueError`` naming them (at ``where.filters`` or ``overrides_where``).
        """
        parsed = _parse_filters(filters or [], f"{where}.filters")
        if overrides:
            parsed = _override_filters(parsed, overrides, overrides_where)
        return cls(filters=tuple(parsed), normalize=normalize)

    @classmethod
    def from_dict(cls, settings: Mapping[str, Any], where: str = "rules") -> "FilterConfig":
        """Rebuild the settings from :meth:`to_dict` (a job's ``rules`` param)."""
        _require_mapping(where, settings)
        if set(settings) != {"filters", "normalize"}:
            raise ConfigError(f"{where}: expected the keys filters and normalize, got {', '.join(map(repr, settings))}")
        normalize = NormalizeConfig.from_dict(settings["normalize"], where=f"{where}.normalize")
        return cls.parse(settings["filters"], normalize, where=where)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: ``{filters: {name: options}, normalize: {...}}``, every option filled in."""
        return {"filters": {name: options.to_dict() for name, options in self.filters},
                "normalize": self.normalize.to_dict()}

    @property
    def filter_names(self) -> list[str]:
        """The filters to run, in order."""
        return [name for name, _ in self.filters]

    def options(self, name: str) -> Section:
        """The options of filter ``name`` (which must be configured)."""
        return dict(self.filters)[name]

    @property
    def pair_filters(self) -> list[tuple[str, Section]]:
        """Filters that judge each pair on its own, in config order."""
        return [(name, options) for name, options in self.filters if not FILTERS.get(name).corpus_level]

    @property
    def dedup_filters(self) -> list[tuple[str, Section]]:
        """Corpus-level dedup filters, in their registration order (exact before near: algharb.data.dedup)."""
        chosen = dict(self.filters)
        return [(name, chosen[name]) for name in FILTERS if FILTERS.get(name).corpus_level and name in chosen]


def _require_mapping(where: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")


def _parse_filters(entries: Any, where: str) -> list[tuple[str, Section]]:
    """Parse ``{name: options}`` (ordered) or ``[{name: options} | name, ...]``."""
    if isinstance(entries, Mapping):
        items = [(f"{where}.{name}", name, options) for name, options in entries.items()]
    elif isinstance(entries, list):
        items = [_list_entry(f"{where}[{position}]", entry) for position, entry in enumerate(entries)]
    else:
        raise ConfigError(f"{where}: expected a mapping or a list, got {type(entries).__name__}")
    names = [name for _, name, _ in items]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{where}: {name!r} is listed more than once")
    return [(name, _filter_options(at, name, options)) for at, name, options in items if options is not False]


def _list_entry(where: str, entry: Any) -> tuple[str, str, Any]:
    """One list item as (where, name, options)."""
    if isinstance(entry, str):
        return where, entry, {}
    if not isinstance(entry, Mapping) or len(entry) != 1:
        raise ConfigError(f"{where}: expected a filter name or one 'name: {{options}}' mapping, got {entry!r}")
    ((name, options),) = entry.items()
    return where, name, options


def _filter_options(where: str, name: Any, options: Any) -> Section:
    """Filter ``name``'s typed options (its registry entry's ``Options``); errors name ``where``."""
    if isinstance(options, Section):
        return options
    filter_class = FILTERS.get(name, where)
    _require_mapping(where, options or {})
    try:
        return filter_class.Options.from_dict(options or {}, where=where)
    except ConfigError:
        raise
    except ValueError as err:
        raise ConfigError(f"{where}: {err}") from None


def _override_filters(filters: list[tuple[str, Section]], overrides: Mapping, where: str) -> list[tuple[str, Section]]:
    """Apply one direction's overrides: replace options, drop (``false``) or append filters."""
    result = list(filters)
    for name, options in overrides.items():
        kept = [(n, o) for n, o in result if n != name]
        if options is False:
            result = kept
            continue
        checked = _filter_options(f"{where}.{name}", name, options)
        if len(kept) == len(result):
            result.append((name, checked))
        else:
            result = [(n, checked if n == name else o) for n, o in result]
    return result


def check_share(value: Any, where: str) -> float:
    """``value`` if it is a share in [0, 1] (a number, not a bool); else ConfigError naming ``where``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError(f"{where}: expected a share in [0, 1], got {value!r}")
    return value


@dataclass(frozen=True)
class CleanConfig(Section):
    shard_size: int = option(1_000_000, "raw lines per shard (one cleaning job each)")
    max_malformed_share: float = option(0.001, "largest share of the raw lines that may be malformed (invalid "
                                               "UTF-8, too few TSV columns: dropped and counted); more fails")
    filters: dict = option(help="filter name → options, applied in order (see algharb.data.filters)", factory=dict)
    normalize: NormalizeConfig = option(help="text normalisation before the filters", factory=NormalizeConfig)
    per_pair: dict = option(help="direction → filter (and qe) overrides", factory=dict)
    qe: QEConfig = option(help="the QE filter", factory=QEConfig)

    def __post_init__(self):
        check_share(self.max_malformed_share, "clean.max_malformed_share")

    def filter_config(self, pair: str | None) -> FilterConfig:
        """Direction ``pair``'s filters (``per_pair[pair]`` applied) and normalisation, typed and checked."""
        return FilterConfig.parse(self.filters, self.normalize, self._overrides(pair), where="clean",
                                  overrides_where=f"clean.per_pair.{pair}")

    def rule_settings(self, pair: str | None) -> dict[str, Any]:
        """What ``clean_shard`` and the distillation's re-filter need, JSON-able: :meth:`FilterConfig.to_dict`.

        Nothing about QE, so that a QE change reruns no rule filter. The
        filters come in name order: the workflow's jobs have always run them
        so (their params went through ``json.dumps(sort_keys=True)``), and the
        demo's decisions depend on it; ``algharb clean`` keeps config order.
        """
        settings = self.filter_config(pair).to_dict()
        return {**settings, "filters": dict(sorted(settings["filters"].items()))}

    def qe_for(self, pair: str | None) -> QEConfig:
        """Direction ``pair``'s QE settings (``per_pair[pair].qe`` replaces the section), checked."""
        overrides = self._overrides(pair, keep_qe=True)
        if "qe" in overrides:
            where = f"clean.per_pair.{pair}.qe"
            qe = QEConfig.from_dict(overrides["qe"], where=where)
        else:
            where, qe = "clean.qe", self.qe
        qe.check(where)
        return qe

    def _overrides(self, pair: str | None, keep_qe: bool = False) -> dict[str, Any]:
        """``per_pair[pair]`` (empty when none), without its ``qe`` entry unless ``keep_qe``."""
        _require_mapping("clean.per_pair", self.per_pair)
        overrides = self.per_pair.get(pair) if pair else None
        overrides = overrides or {}
        _require_mapping(f"clean.per_pair.{pair}", overrides)
        return {key: value for key, value in overrides.items() if keep_qe or key != "qe"}
