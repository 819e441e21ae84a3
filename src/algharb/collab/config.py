"""The ``collab`` config section: logit-fusion decoding with small MT experts (Collab-MT, Table 6).

Collab-MT decodes with a large general LLM helped at every step by small LLMs
fine-tuned for translation, ``softmax[L_M + Σ_k w_k·S_k]``; proxy-tuning
(Liu et al. 2024, "Tuning language models by proxy") adds an expert minus the
same small model untuned, ``softmax[L_M + (S_MT − S_M)]``. The section names
the models, the experts (each: the directions the small model is fine-tuned
on) and the weighted combinations that become rows of the comparison table.

Symbols used in ``combinations.terms``: ``S_M`` (the small model untuned)
and each expert's ``symbol``. An expert's ``train`` lists directions;
``{direction}`` stands for the direction of the row being decoded, so
``[ "{direction}" ]`` is the per-direction MT expert ``S_MT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..config.section import ConfigError, Section, option
from ..generation.sampling import Sampling
from ..models import ModelSpec
from ..train.config import SFTConfig

ROW_DIRECTION = "{direction}"
UNTUNED_SMALL = "S_M"
# dev is optional: the paper reports its size, and nothing in the table is tuned on it.
REQUIRED_SPLITS = ("train", "test")
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class ExpertConfig(Section):
    """A small model fine-tuned on the training data of ``train``'s directions."""

    symbol: str = option("", "the expert's symbol in formulas and terms, e.g. S_en-src")
    train: list = option(help="directions it is fine-tuned on; '{direction}' is the decoded row's", factory=list)

    def directions(self, direction: str) -> tuple[str, ...]:
        """The training directions for rows of ``direction``, sorted and without repeats."""
        return tuple(sorted({direction if d == ROW_DIRECTION else d for d in self.train}))


@dataclass(frozen=True)
class CombinationConfig(Section):
    """One fused row per large model: the large model plus ``terms`` (symbol → weight)."""

    method: str = option("", "the row's method in the table (Proxy-tuning, Collab-MT)")
    terms: dict = option(help="symbol → weight; S_M is the small model untuned (negative: anti-expert)",
                         factory=dict)


@dataclass(frozen=True)
class CollabConfig(Section):
    """Table 6 of Collab-MT: directions, data, models, experts and fused rows."""

    directions: list = option(help="translation directions, e.g. ja-en", factory=list)
    data: dict = option(help="direction → {train, test, dev (optional)}: corpus specs as in data.test",
                        factory=dict)
    small: dict = option(help="the small model S_M (a models entry: path | hub)", factory=dict)
    small_size: str = option("1B", "the small model's size label in the table")
    large: dict = option(help="size label → the large model L_M of that size (a models entry)", factory=dict)
    experts: list = option(help="small experts: [{symbol, train}]", factory=list)
    combinations: list = option(help="fused rows for each large size: [{method, terms}]", factory=list)
    finetune: SFTConfig = option(help="SFT of the experts and of the Fine-tuning rows", factory=SFTConfig)
    sampling: dict = option(help="decoding of every row (greedy by default)",
                            factory=lambda: {"temperature": 0.0, "max_new_tokens": 256, "batch_size": 16})
    metrics: list = option(help="evaluation metrics by registry name", factory=lambda: ["bleu", "bertscore"])
    chunk_size: int = option(500, "test sources per resumable chunk of a row's decoding (results/cache/collab)")

    @classmethod
    def parse(cls, values: Mapping[str, Any], run: Mapping[str, Any], where: str = "collab") -> "CollabConfig":
        """The section checked as a whole: every symbol, direction and model is named where it is wrong."""
        parsed = cls.from_dict(values, where)
        parsed = parsed.replace(finetune=parsed.finetune.replace(**run))
        parsed.check(where)
        return parsed

    def check(self, where: str = "collab") -> None:
        if not self.directions:
            raise ConfigError(f"{where}.directions: empty; list the directions of the table, e.g. [ja-en, en-ja]")
        for direction in self.directions:
            spec = self.data.get(direction)
            if (not isinstance(spec, Mapping) or not set(REQUIRED_SPLITS) <= set(spec)
                    or not set(spec) <= set(SPLITS)):
                raise ConfigError(f"{where}.data.{direction}: needs {list(REQUIRED_SPLITS)} (and may have dev), "
                                  f"got {sorted(spec) if isinstance(spec, Mapping) else spec!r}")
        _model(self.small, f"{where}.small")
        if not self.large:
            raise ConfigError(f"{where}.large: empty; give at least one size → model")
        for size, model in self.large.items():
            _model(model, f"{where}.large.{size}")
        if self.small_size in self.large:
            raise ConfigError(f"{where}.small_size: {self.small_size!r} is also a size of {where}.large")
        symbols = [UNTUNED_SMALL]
        for index, expert in enumerate(self.expert_list(where)):
            key = f"{where}.experts[{index}]"
            if not expert.symbol or expert.symbol in symbols:
                raise ConfigError(f"{key}.symbol: {expert.symbol!r} is empty or already used ({symbols})")
            symbols.append(expert.symbol)
            if not expert.train:
                raise ConfigError(f"{key}.train: empty; list the directions it is fine-tuned on")
            unknown = [d for d in expert.train if d != ROW_DIRECTION and d not in self.data]
            if unknown:
                raise ConfigError(f"{key}.train: {unknown} have no {where}.data entry (nor are '{ROW_DIRECTION}')")
        for index, combination in enumerate(self.combination_list(where)):
            key = f"{where}.combinations[{index}]"
            if not combination.method or not combination.terms:
                raise ConfigError(f"{key}: needs a method and at least one term")
            unknown = sorted(set(combination.terms) - set(symbols))
            if unknown:
                raise ConfigError(f"{key}.terms: unknown symbol(s) {unknown}; known: {symbols}")
            for symbol, weight in combination.terms.items():
                if isinstance(weight, bool) or not isinstance(weight, (int, float)):
                    raise ConfigError(f"{key}.terms.{symbol}: expected a number, got {weight!r}")
        Sampling.from_dict(self.sampling, where=f"{where}.sampling")

    def expert_list(self, where: str = "collab") -> list[ExpertConfig]:
        return [ExpertConfig.from_dict(e, f"{where}.experts[{i}]") for i, e in enumerate(self.experts)]

    def combination_list(self, where: str = "collab") -> list[CombinationConfig]:
        return [CombinationConfig.from_dict(c, f"{where}.combinations[{i}]") for i, c in enumerate(self.combinations)]

    def split(self, direction: str, split: str) -> dict:
        return dict(self.data[direction][split])


def _model(entry: Any, where: str) -> ModelSpec:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: expected a models entry {{path | hub}}, got {entry!r}")
    spec = ModelSpec.from_dict(entry, where)
    if (spec.path is None) == (spec.hub is None):
        raise ConfigError(f"{where}: needs exactly one of 'path' or 'hub'")
    return spec
