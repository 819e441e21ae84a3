"""Preference-optimisation methods, keyed by the names ``rl.stages`` and ``rl.compare`` use.

A method is a training stage (:data:`algharb.steps.train.TRAINING_STAGES`),
the data it learns from, and the ``rl`` section that holds its
hyperparameters:

- ``pairs``: one (chosen, rejected) pair per source, ALMA-R's triplet rule
  (``results/rl/pairs/real.jsonl``);
- ``noised_pairs``: the same chosen translations with a noised copy as the
  rejected one (ALMA-R §6.2, ``results/rl/pairs/noised.jsonl``);
- ``pools``: every scored candidate of every source (the stage forms its
  pairs itself while training).

Adding a method is one training stage (a module plus its ``TRAINING_STAGES``
entry) and one entry here; a chain of methods (``[cpo, dynamic]``) trains each
from the model the previous one saved.
"""

from __future__ import annotations

from dataclasses import dataclass

from algharb.registry import Registry

DATA_KINDS = ("pairs", "noised_pairs", "pools")


@dataclass(frozen=True)
class PreferenceMethod:
    stage: str  # the TRAINING_STAGES entry that trains it
    data: str  # one of DATA_KINDS
    section: str  # the rl.<section> of its hyperparameters
    label: str  # its name in tables
    reads_align: bool = False  # its reward uses each candidate's S_align (the pools are aligned for it)

    def __post_init__(self):
        if self.data not in DATA_KINDS:
            raise ValueError(f"preference method data must be one of {DATA_KINDS}, got {self.data!r}")


PREFERENCE_METHODS: Registry[PreferenceMethod] = Registry("preference method")

for _name, _method in {
    "cpo": PreferenceMethod("cpo", "pairs", "cpo", "CPO"),
    "dpo": PreferenceMethod("dpo", "pairs", "dpo", "DPO"),
    "cpo_noised": PreferenceMethod("cpo", "noised_pairs", "cpo", "CPO, noised rejected"),
    "dynamic": PreferenceMethod("dynamic", "pools", "dynamic", "dynamic"),
    "m2po": PreferenceMethod("m2po", "pools", "m2po", "M2PO", reads_align=True),
}.items():
    PREFERENCE_METHODS.register(_name)(_method)

CHAIN_SEPARATOR = "+"


def chain_name(chain: list[str]) -> str:
    """``[cpo, dynamic]`` → ``cpo+dynamic``: the name of the model a chain of methods ends with."""
    return CHAIN_SEPARATOR.join(chain)


def chain_label(chain: list[str]) -> str:
    """``[cpo, dynamic]`` → ``CPO → dynamic``."""
    return " → ".join(PREFERENCE_METHODS.get(name).label for name in chain)


def check_chain(chain, where: str) -> list[str]:
    """A non-empty list of registered method names, or an error naming ``where``."""
    if not isinstance(chain, list) or not chain or not all(isinstance(name, str) for name in chain):
        raise ValueError(f"{where}: a chain is a non-empty list of method names, got {chain!r}")
    for name in chain:
        PREFERENCE_METHODS.get(name, where=where)
    return chain
