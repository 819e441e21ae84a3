"""What the ``collab`` section asks for: models to fine-tune, table rows, and what each row decodes.

Rows follow Collab-MT's Table 6: for the small size, Original (``S_M``) and
Fine-tuning (``S_MT``); for each large size, Original (``L_M``),
Fine-tuning (``L_MT``) and one row per configured combination
(``L_M + Σ w·S``). A fine-tuned model is identified by its size and the
sorted directions it was trained on, so two roles that need the same model
(the small Fine-tuning row and the ``S_MT`` expert; an expert trained on the
row's own direction) share one training job, and two rows that fuse the same
models with the same weights share one decoding.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .table import formula
from .config import UNTUNED_SMALL, CollabConfig

ROOT = "results/collab"
LARGE_BASE = "L_M"


@dataclass(frozen=True)
class Model:
    """A model of the plan: a configured one (``directions`` empty) or one fine-tuned on ``directions``."""

    size: str
    directions: tuple[str, ...] = ()

    @property
    def finetuned(self) -> bool:
        return bool(self.directions)


@dataclass(frozen=True)
class Row:
    """One line of the table: its id, size, method, formula, and per direction the models it fuses."""

    row: str
    size: str
    method: str
    formula: str
    base: object  # Model, or a function direction → Model
    terms: tuple = ()  # (symbol, weight) pairs, resolved per direction

    def describe(self) -> dict:
        return {"row": self.row, "size": self.size, "method": self.method, "formula": self.formula}


def finetuned_dir(model: Model) -> str:
    return f"{ROOT}/models/{model.size}/{'+'.join(model.directions)}"


def train_rows_file(direction: str) -> str:
    return f"{ROOT}/data/{direction}/train.jsonl"


def split_file(direction: str, split: str, side: str) -> str:
    return f"{ROOT}/data/{direction}/{split}.{side}"


def hypothesis_dir(direction: str) -> str:
    return f"{ROOT}/hyp/{direction}"


def hypothesis_file(direction: str, row: str) -> str:
    return f"{hypothesis_dir(direction)}/{row}.txt"


def scores_file(direction: str) -> str:
    return f"{ROOT}/scores/{direction}.tsv"


class CollabPlan:
    """The plan of a parsed ``collab`` section."""

    def __init__(self, config: CollabConfig):
        self.config = config
        self.experts = {expert.symbol: expert for expert in config.expert_list()}
        self.rows = self._rows()

    # -- models --------------------------------------------------------------

    def spec(self, model: Model) -> dict:
        """The models entry of ``model``: the configured one, or the fine-tuned directory."""
        if model.finetuned:
            return {"path": finetuned_dir(model)}
        configured = self.config.small if model.size == self.config.small_size else self.config.large[model.size]
        return dict(configured)

    def symbol_model(self, symbol: str, direction: str) -> Model:
        small = self.config.small_size
        if symbol == UNTUNED_SMALL:
            return Model(small)
        return Model(small, self.experts[symbol].directions(direction))

    def finetuned_models(self) -> list[Model]:
        """Every model to fine-tune, once each, in a fixed order."""
        models = {}
        for direction in self.config.directions:
            for row in self.rows:
                for model in self.models_of(row, direction):
                    if model.finetuned:
                        models.setdefault(model, None)
        return list(models)

    def models_of(self, row: Row, direction: str) -> list[Model]:
        base = row.base(direction) if callable(row.base) else row.base
        return [base] + [self.symbol_model(symbol, direction) for symbol, _ in row.terms]

    # -- rows ----------------------------------------------------------------

    def _rows(self) -> list[Row]:
        small = self.config.small_size
        rows = [
            Row(f"{small}-original", small, "Original", UNTUNED_SMALL, Model(small)),
            Row(f"{small}-finetuning", small, "Fine-tuning", "S_MT", lambda d, s=small: Model(s, (d,))),
        ]
        for size in self.config.large:
            rows += [
                Row(f"{size}-original", size, "Original", LARGE_BASE, Model(size)),
                Row(f"{size}-finetuning", size, "Fine-tuning", "L_MT", lambda d, s=size: Model(s, (d,))),
            ]
            counts: dict[str, int] = {}
            for combination in self.config.combination_list():
                slug = re.sub(r"[^a-z0-9]+", "", combination.method.lower()) or "fused"
                counts[slug] = counts.get(slug, 0) + 1
                terms = tuple((symbol, float(weight)) for symbol, weight in combination.terms.items())
                rows.append(Row(f"{size}-{slug}-{counts[slug]}", size, combination.method,
                                formula(LARGE_BASE, dict(combination.terms)), Model(size), terms))
        return rows

    def row(self, name: str) -> Row:
        for row in self.rows:
            if row.row == name:
                return row
        raise KeyError(f"collab: no table row {name!r}")

    # -- decoding ------------------------------------------------------------

    def generator(self, row: Row, direction: str) -> dict:
        """The models entry that decodes ``row`` for ``direction``: one model, or a fusion."""
        base, *term_models = self.models_of(row, direction)
        entry = {**self.spec(base), "backend": "transformers"}
        if not row.terms:
            return entry
        terms = [{**self.spec(model), "weight": weight} for model, (_, weight) in zip(term_models, row.terms)]
        return {**entry, "backend": "fusion", "options": {"terms": terms}}

    def decoded_as(self, direction: str) -> dict[str, str]:
        """Row → the row whose decoding it reuses for ``direction``: the first row with the same generator."""
        first: dict[str, str] = {}
        return {row.row: first.setdefault(_canonical(self.generator(row, direction)), row.row) for row in self.rows}

    def decodings(self, direction: str) -> list[str]:
        """The rows decoded for ``direction`` (one per distinct generator), in table order."""
        return list(dict.fromkeys(self.decoded_as(direction).values()))

    def generators(self, direction: str) -> dict[str, dict]:
        """Decoded row → its models entry, for every distinct decoding of ``direction``."""
        return {name: self.generator(self.row(name), direction) for name in self.decodings(direction)}

    def local_inputs(self, direction: str) -> list[str]:
        """The local model directories the decodings of ``direction`` read (the workflow's rule inputs)."""
        paths = [self.spec(model)["path"] for row in self.rows for model in self.models_of(row, direction)
                 if "path" in self.spec(model)]
        return list(dict.fromkeys(paths))


def _canonical(entry: dict) -> str:
    return json.dumps(entry, sort_keys=True)
