"""Review routing: a log-odds band around the threshold and a budget on the queue."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from bastion.core.errors import ConfigError
from bastion.core.registry import Registry
from bastion.guard import Guard, GuardConfig
from bastion.guard.config import load_config
from bastion.guard.layers.base import LayerPlugin
from bastion.guard.review_budget import ReviewBudget
from bastion.policy.model import Policy


def _guard(policy: Policy, registry: Registry[LayerPlugin], budget: float, **params: Any) -> Guard:
    config = GuardConfig(
        layers=[{"type": "fake_static", "act_threshold": 0.94, "params": params}],
        combiner={"review_budget": budget},
    )
    return Guard.from_policy(policy, config=config, registry=registry)


def test_the_bucket_admits_its_share_and_a_bounded_burst() -> None:
    budget = ReviewBudget(0.03, burst=5)
    admitted = sum(budget.admit(wants=True) for _ in range(1_000))
    assert 30 <= admitted <= 31  # the first token, then 3 % of the rest
    quiet = ReviewBudget(0.03, burst=5)
    for _ in range(10_000):
        quiet.admit(wants=False)
    assert sum(quiet.admit(wants=True) for _ in range(100)) <= 5 + 3  # saved-up tokens cap


def test_must_reviews_always_go_and_crowd_out_uncertain_ones() -> None:
    budget = ReviewBudget(0.1, burst=2)
    assert all(budget.admit(wants=True, must=True) for _ in range(20))
    assert not budget.admit(wants=True)  # in debt after the forced ones


def test_the_bucket_is_thread_safe() -> None:
    budget = ReviewBudget(0.5, burst=1)
    results: list[bool] = []
    lock = threading.Lock()

    def run() -> None:
        mine = [budget.admit(wants=True) for _ in range(1_000)]
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert abs(sum(results) - 2_000) <= 2


@pytest.mark.parametrize(("fraction", "burst"), [(-0.1, 1.0), (1.5, 1.0), (0.1, 0.5)])
def test_bad_budgets_are_rejected(fraction: float, burst: float) -> None:
    with pytest.raises(ValueError, match="review budget"):
        ReviewBudget(fraction, burst=burst)


def test_a_confident_refusal_far_above_a_high_threshold_is_not_uncertain(
    policy: Policy, fake_registry: Registry[LayerPlugin]
) -> None:
    # A 0.1 probability band around 0.94 would review every score in 0.84..1.0.
    confident = _guard(policy, fake_registry, 1.0, score=0.995, category="violence")
    near = _guard(policy, fake_registry, 1.0, score=0.95, category="violence")
    assert confident.check("x").action.value == "refuse" and not confident.check("x").review
    assert near.check("x").review


def test_the_guard_sends_at_most_its_budget_of_uncertain_decisions(
    policy: Policy, fake_registry: Registry[LayerPlugin]
) -> None:
    with _guard(policy, fake_registry, 0.03, score=0.95, category="violence") as guard:
        reviewed = sum(guard.check("x").review for _ in range(500))
    assert reviewed <= 0.03 * 500 + 1


def test_failures_and_always_categories_go_to_review_whatever_the_budget(
    policy: Policy, fake_registry: Registry[LayerPlugin]
) -> None:
    with _guard(policy, fake_registry, 0.0, score=0.99, category="sexual_minors") as guard:
        assert all(guard.check("x").review for _ in range(50))
    config = GuardConfig(layers=[{"type": "fake_failing"}], combiner={"review_budget": 0.0})
    with Guard.from_policy(policy, config=config, registry=fake_registry) as guard:
        assert all(guard.check("x").review for _ in range(20))


def test_the_old_review_band_key_says_what_replaced_it(tmp_path: Any) -> None:
    path = tmp_path / "g.yaml"
    path.write_text("combiner:\n  review_band: 0.1\n", "utf-8")
    with pytest.raises(ConfigError, match="review_logit_band"):
        load_config(path)
