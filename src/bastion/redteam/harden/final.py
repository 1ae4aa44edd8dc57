"""The one reading of the ``test`` side: the kept guard, measured after the choice.

The loop (:mod:`bastion.redteam.harden.loop`) chooses its round on ``dev`` and never holds
a ``test`` goal or prompt. :func:`measure_test` is called once, after :func:`run_harden`
returned: it rebuilds the same split, attacks the ``test`` goals with the ``test``
variants through the kept round's guard, and measures its benign pass rate on the ``test``
benign prompts and look-alikes. Its result goes into the report as the headline, beside
the dev rounds that chose it (design note 0045).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bastion.redteam.harden.loop import HardenDeps, HardenSettings, holdout_plan
from bastion.redteam.harden.measure import SideInputs, measure_side
from bastion.redteam.harden.results import HardenResult

__all__ = ["measure_test"]


def _kept_heads(result: HardenResult) -> tuple[Path, ...]:
    kept = next((r for r in result.rounds if r.round == result.chosen), None)
    if kept is None or result.chosen == 0:
        return ()
    return tuple(Path(h) for h in kept.heads) or ((Path(kept.artifact),) if kept.artifact else ())


def measure_test(
    result: HardenResult,
    settings: HardenSettings,
    deps: HardenDeps,
    test_benign_prompts: tuple[str, ...],
) -> HardenResult:
    """``result`` with its kept round measured on the ``test`` side (records under
    ``out/test``)."""
    plan = holdout_plan(settings, deps)
    inputs = SideInputs(
        side="test",
        benign_prompts=test_benign_prompts,
        folder=settings.out / "test",
        number=result.chosen,
        count_caution=settings.count_caution,
    )
    target = deps.target_for(_kept_heads(result))
    measured = measure_side(plan, deps.plugins, target, inputs, deps.progress)
    return replace(result, test=measured)
