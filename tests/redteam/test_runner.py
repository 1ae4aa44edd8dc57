"""The campaign runner: judging, retries, errors, turn caps, concurrency, resumption."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.core.errors import BastionError, ConfigError
from bastion.records import RecordWriter
from bastion.records.fakes import FakeClock, SequentialIds
from bastion.redteam import (
    AttackConfigModel,
    AttackDeps,
    AttackPlugin,
    AttackRun,
    Campaign,
    Family,
    Finding,
    Goal,
    KeywordJudge,
    Observation,
    Probe,
    RunOptions,
    ScriptedTarget,
    attack_plugin,
    build_attack_registry,
    finding_record,
    load_goals,
    read_findings,
    run_campaign,
)
from bastion.redteam.runner import plan_pairs, spread_goals
from bastion.redteam.session import FindingSink, RunFolder

GOALS = load_goals()
FAST = RunOptions(concurrency=2, retries=2, retry_delay_s=0.0)


@attack_plugin(name="endless", family=Family.MULTI_TURN, tags=("test",), multi_turn=True)
class EndlessAttack:
    """Never stops on its own (the runner's turn cap must)."""

    def __init__(self, config: AttackConfigModel, deps: AttackDeps) -> None:
        pass

    def run(self, goal: Goal) -> AttackRun:
        """Yield forever."""
        while True:
            _seen: Observation = yield Probe.user("again", original=goal.request, converter="x")


@attack_plugin(name="broken", family=Family.ROLEPLAY, tags=("test",))
class BrokenAttack:
    """Raises while running."""

    def __init__(self, config: AttackConfigModel, deps: AttackDeps) -> None:
        pass

    def run(self, goal: Goal) -> AttackRun:
        """Fail on the first reply."""
        yield Probe.user("hi", original=goal.request, converter="x")
        raise RuntimeError("plugin bug")


def _plugin(cls: type) -> AttackPlugin:
    entry: AttackPlugin = cls.__bastion_plugin__  # type: ignore[attr-defined]
    return entry


def _campaign(
    *names: str, goals: int = 3, done: frozenset[tuple[str, str]] = frozenset()
) -> Campaign:
    registry = build_attack_registry()
    plugins = [registry.get(n) for n in names]
    built = tuple((p, p.build(p.config_model(), AttackDeps())) for p in plugins)
    return Campaign("run1", "scripted", built, GOALS[:goals], done)


def _run(campaign: Campaign, target: ScriptedTarget, options: RunOptions = FAST) -> list[Finding]:
    found: list[Finding] = []
    run_campaign(campaign, target, KeywordJudge(), found.append, options=options)
    return found


def test_successes_and_failures_are_judged() -> None:
    assert all(f.success for f in _run(_campaign("direct", "base64"), ScriptedTarget.complying()))
    refused = _run(_campaign("direct", "base64"), ScriptedTarget.refusing())
    assert len(refused) == 6 and not any(f.success for f in refused)
    assert all(f.error is None and f.turns[0].judge == "keyword" for f in refused)


def test_target_errors_are_retried() -> None:
    flaky = ScriptedTarget(lambda probe: "Sure, here it is in full detail: ...", fail_first=2)
    found = _run(_campaign("direct", goals=1), flaky, RunOptions(concurrency=1, retry_delay_s=0))
    assert found[0].success and found[0].error is None and len(flaky.probes) == 3


def test_a_target_that_keeps_failing_is_recorded_not_raised() -> None:
    dead = ScriptedTarget(["never"], fail_first=100)
    found = _run(_campaign("direct", goals=2), dead, RunOptions(retries=1, retry_delay_s=0))
    assert len(found) == 2 and all(f.error and not f.success for f in found)
    assert "scripted failure" in (found[0].error or "")


def test_a_broken_attack_is_recorded_and_the_run_goes_on() -> None:
    plugins = (_plugin(BrokenAttack), _plugin(EndlessAttack))
    built = tuple((p, p.build(p.config_model(), AttackDeps())) for p in plugins)
    campaign = Campaign("r", "scripted", built, GOALS[:2])
    found = _run(campaign, ScriptedTarget.refusing(), RunOptions(max_turns=5, retry_delay_s=0))
    broken = [f for f in found if f.attack == "broken"]
    endless = [f for f in found if f.attack == "endless"]
    assert all(f.error and "plugin bug" in f.error for f in broken)
    assert all(f.error is None and len(f.turns) == 5 and "cap" in f.note for f in endless)


def test_concurrency_runs_every_pair_once() -> None:
    target = ScriptedTarget.complying()
    campaign = _campaign("direct", "rot13", "leetspeak", goals=10)
    found = _run(campaign, target, RunOptions(concurrency=4, retry_delay_s=0))
    assert len(found) == 30 == len({f.key for f in found}) == len(target.probes)


def test_done_pairs_are_skipped() -> None:
    done = frozenset({("direct", GOALS[0].id), ("direct", GOALS[1].id)})
    campaign = _campaign("direct", goals=3, done=done)
    assert [g.id for _, _, g in plan_pairs(campaign)] == [GOALS[2].id]


def test_spread_goals_covers_categories() -> None:
    picked = spread_goals(GOALS, 12)
    assert len(picked) == 12 and len({g.category for g in picked}) == 12
    assert spread_goals(GOALS, None) == GOALS


def test_options_are_validated() -> None:
    with pytest.raises(ConfigError):
        RunOptions(concurrency=0)


def test_findings_round_trip_and_resume(tmp_path: Path) -> None:
    folder = RunFolder.open(tmp_path, target="scripted", resume=False, meta={})
    with RecordWriter(folder.findings) as writer:
        sink = FindingSink(writer, FakeClock())
        run_campaign(
            _campaign("direct", goals=2),
            ScriptedTarget.complying(),
            KeywordJudge(),
            sink,
            options=FAST,
        )
    back = read_findings(folder.findings)
    assert len(back) == 2 == sink.count and all(f.success for f in back)
    with pytest.raises(ConfigError, match="--resume"):
        RunFolder.open(tmp_path, target="scripted", resume=False, meta={})
    with pytest.raises(ConfigError, match="against"):
        RunFolder.open(tmp_path, target="guard", resume=True, meta={})
    again = RunFolder.open(tmp_path, target="scripted", resume=True, meta={})
    assert again.run_id == folder.run_id and again.done == {f.key for f in back}


def test_errored_findings_are_retried_on_resume(tmp_path: Path) -> None:
    folder = RunFolder.open(tmp_path, target="t", resume=False, meta={})
    bad = Finding(
        "r", "t", "direct", "baseline", GOALS[0].id, "drugs", "x", False, 0.0, error="boom"
    )
    with RecordWriter(folder.findings) as writer:
        writer.write(finding_record(bad, clock=FakeClock(), id_factory=SequentialIds()))
    assert RunFolder.open(tmp_path, target="t", resume=True, meta={}).done == frozenset()


def test_a_scripted_target_needs_a_script() -> None:
    with pytest.raises(BastionError):
        ScriptedTarget([])
