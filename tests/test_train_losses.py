"""The dynamic-reward formulas against values computed by hand."""

import math

import pytest
import torch

from algharb.train.losses import (
    IGNORE_INDEX,
    bernoulli_kl,
    mean_token_nll,
    preference_kl_loss,
    self_reward_weight,
    sequence_logprobs,
    total_reward,
)
from algharb.train.preference import PREFERENCE_LOSSES, cpo_preference_loss


def test_self_reward_weight_is_linear_from_start_to_end():
    assert self_reward_weight(0, 101, 0.05, 0.8) == pytest.approx(0.05)
    assert self_reward_weight(50, 101, 0.05, 0.8) == pytest.approx(0.425)
    assert self_reward_weight(100, 101, 0.05, 0.8) == pytest.approx(0.8)


def test_self_reward_weight_clamps_and_handles_a_single_step():
    assert self_reward_weight(500, 101, 0.05, 0.8) == pytest.approx(0.8)
    assert self_reward_weight(0, 1, 0.05, 0.8) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="total_steps"):
        self_reward_weight(0, 0)


def test_total_reward_mixes_qe_and_self_reward():
    # 0.75·0.8 + 0.25·(−2.0) = 0.6 − 0.5
    result = total_reward(torch.tensor([0.8]), torch.tensor([-2.0]), 0.25)
    assert result.item() == pytest.approx(0.1)


def test_bernoulli_kl_hand_values():
    p = torch.tensor([0.5, 0.8, 1.0, 0.0])
    q = torch.tensor([0.5, 0.5, 0.5, 0.25])
    # 0; 0.8·ln 1.6 + 0.2·ln 0.4; ln 2; ln(1/0.75)
    expected = torch.tensor([0.0, 0.1927447570, 0.6931471806, 0.2876820725])
    assert torch.allclose(bernoulli_kl(p, q), expected, atol=1e-6)


def test_preference_kl_is_zero_when_the_distributions_match():
    tau = 0.3
    delta_qe = torch.tensor([10.0, -4.0, 0.0])
    loss = preference_kl_loss(delta_qe, tau * delta_qe, tau)
    assert loss.item() == pytest.approx(0.0, abs=1e-6)


def test_preference_kl_hand_value_and_orientation():
    # p = σ(0.3·10) = 0.952574, q = σ(0) = 0.5: p·ln 2p + (1−p)·ln 2(1−p)
    loss = preference_kl_loss(torch.tensor([10.0]), torch.tensor([0.0]), 0.3)
    assert loss.item() == pytest.approx(0.5022822095, abs=1e-6)
    swapped = preference_kl_loss(torch.tensor([-10.0]), torch.tensor([0.0]), 0.3)
    assert swapped.item() == pytest.approx(loss.item(), abs=1e-6)


def test_preference_kl_matches_bernoulli_kl_and_only_the_model_side_gets_gradient():
    delta_qe = torch.tensor([5.0, 1.0], requires_grad=True)
    delta_logp = torch.tensor([0.4, -0.7], requires_grad=True)
    loss = preference_kl_loss(delta_qe, delta_logp, 0.3)
    reference = bernoulli_kl(torch.sigmoid(0.3 * delta_qe), torch.sigmoid(delta_logp)).mean()
    assert loss.item() == pytest.approx(reference.item(), abs=1e-6)
    loss.backward()
    assert delta_qe.grad is None or torch.all(delta_qe.grad == 0)
    # d/dΔ KL(p‖σ(Δ)) = σ(Δ) − p, averaged over the two pairs
    expected = (torch.sigmoid(delta_logp.detach()) - torch.sigmoid(0.3 * delta_qe.detach())) / 2
    assert torch.allclose(delta_logp.grad, expected, atol=1e-6)


def test_cpo_preference_loss_hand_values():
    # −log σ(0.1·(−10 − (−12))) = log(1 + e^−0.2)
    loss = cpo_preference_loss(torch.tensor([-10.0]), torch.tensor([-12.0]), beta=0.1)
    assert loss.item() == pytest.approx(0.5981388694, abs=1e-6)
    equal = cpo_preference_loss(torch.tensor([-3.0, -7.0]), torch.tensor([-3.0, -7.0]), beta=0.1)
    assert equal.item() == pytest.approx(math.log(2), abs=1e-6)


def test_sequence_logprobs_sum_and_mean():
    logits = torch.zeros(2, 4, 3)  # uniform: every token has log(1/3)
    logits[1, 0] = torch.tensor([0.0, math.log(3.0), 0.0])  # p(token 1) = 3/5 at position 0
    labels = torch.tensor([[IGNORE_INDEX, 1, 2, IGNORE_INDEX], [IGNORE_INDEX, 1, IGNORE_INDEX, IGNORE_INDEX]])
    total, mean = sequence_logprobs(logits, labels)
    assert total.tolist() == pytest.approx([2 * math.log(1 / 3), math.log(0.6)], abs=1e-6)
    assert mean.tolist() == pytest.approx([math.log(1 / 3), math.log(0.6)], abs=1e-6)


def test_sequence_logprobs_rejects_misaligned_shapes_and_handles_empty_sequences():
    with pytest.raises(ValueError, match="align"):
        sequence_logprobs(torch.zeros(1, 4, 3), torch.zeros(1, 5, dtype=torch.long))
    total, mean = sequence_logprobs(torch.zeros(1, 3, 3), torch.full((1, 3), IGNORE_INDEX))
    assert total.item() == 0.0 and mean.item() == 0.0


def test_mean_token_nll_averages_over_all_labelled_tokens():
    logits = torch.zeros(2, 3, 4)  # uniform over 4 tokens
    labels = torch.tensor([[IGNORE_INDEX, 1, 2], [IGNORE_INDEX, 3, IGNORE_INDEX]])
    assert mean_token_nll(logits, labels).item() == pytest.approx(math.log(4), abs=1e-6)


def test_preference_losses_are_built_by_config_name():
    assert PREFERENCE_LOSSES.get("cpo") is cpo_preference_loss
    with pytest.raises(ValueError, match=r"rl\.dynamic\.preference_loss: unknown preference loss 'dpo'; registered: cpo"):
        PREFERENCE_LOSSES.get("dpo", where="rl.dynamic.preference_loss")
