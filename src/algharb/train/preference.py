"""Pairwise preference losses, keyed by the names used in config.

A preference loss turns the policy's sequence log-probabilities of the chosen
and rejected translations of each pair into one scalar::

    @PREFERENCE_LOSSES.register("my_loss")
    def my_loss(logp_w: torch.Tensor, logp_l: torch.Tensor, beta: float) -> torch.Tensor: ...

The dynamic multi-reward stage picks its base loss here by
``rl.dynamic.preference_loss`` (Marco-MT-Algharb, WMT25, §2.3 leaves it
open; CPO's is the default). The CPO stage itself runs TRL's CPOTrainer,
whose ``loss_type`` (``rl.cpo.loss_type``) is TRL's.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from algharb.registry import Registry

PreferenceLoss = Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]
PREFERENCE_LOSSES: Registry[PreferenceLoss] = Registry("preference loss")


@PREFERENCE_LOSSES.register("cpo")
def cpo_preference_loss(logp_w: torch.Tensor, logp_l: torch.Tensor, beta: float) -> torch.Tensor:
    """Mean over pairs of −log σ(β·(log π(y_w) − log π(y_l))), CPO's preference term (Xu et al. 2024)."""
    return -F.logsigmoid(beta * (logp_w - logp_l)).mean()
