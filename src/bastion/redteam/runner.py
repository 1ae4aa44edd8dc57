"""The campaign runner: drives attacks against a target, judges, records.

Attacks are sans-I/O generators (:mod:`bastion.redteam.base`); this module does the I/O:
it sends each probe to the target (retrying target errors), has the judge read the reply,
feeds the observation back, and turns the attack's outcome into a
:class:`~bastion.redteam.findings.Finding`. Pairs of (attack, goal) run on a bounded
thread pool; findings reach the ``sink`` on the calling thread, one at a time, so a sink
may write files and draw progress without locks.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from bastion.core.errors import BastionError, ConfigError
from bastion.redteam.base import Attack, AttackPlugin, Goal, Observation, Outcome, Probe
from bastion.redteam.findings import Finding, Turn
from bastion.redteam.judges import Judge
from bastion.redteam.targets import Target, TargetReply

__all__ = ["Campaign", "RunOptions", "attack_one", "plan_pairs", "run_campaign", "spread_goals"]

Sink = Callable[[Finding], None]


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How a campaign runs.

    Attributes:
        concurrency: pairs attacked at once (threads).
        retries: extra tries after a target error, with exponential backoff.
        retry_delay_s: the first backoff.
        max_turns: most probes one attack may send (a runaway attack is stopped).
    """

    concurrency: int = 2
    retries: int = 2
    retry_delay_s: float = 0.5
    max_turns: int = 25

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.retries < 0 or self.max_turns < 1:
            raise ConfigError("concurrency and max_turns must be >= 1, retries >= 0")


@dataclass(frozen=True, slots=True)
class Campaign:
    """What to attack with what.

    Attributes:
        run_id: the run's id (findings carry it).
        target: the target's name as recorded (``guard``, ``embedded:smollm2`` ...).
        attacks: built attacks with their registry entries.
        goals: the goals each attack tries.
        done: ``(attack, goal_id)`` pairs to skip (a resumed run's finished work).
    """

    run_id: str
    target: str
    attacks: tuple[tuple[AttackPlugin, Attack], ...]
    goals: tuple[Goal, ...]
    done: frozenset[tuple[str, str]] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class _Context:
    campaign: Campaign
    target: Target
    judge: Judge
    options: RunOptions


def spread_goals(goals: Sequence[Goal], limit: int | None) -> tuple[Goal, ...]:
    """At most ``limit`` goals, taken round-robin over categories (file order within each),
    so a small limit still covers every category."""
    if limit is None or limit >= len(goals):
        return tuple(goals)
    by_category: dict[str, list[Goal]] = defaultdict(list)
    for goal in goals:
        by_category[goal.category].append(goal)
    queues = [iter(v) for v in by_category.values()]
    picked: list[Goal] = []
    while len(picked) < limit:
        picked.extend(g for q in queues if (g := next(q, None)) is not None)
    return tuple(picked[:limit])


def plan_pairs(campaign: Campaign) -> list[tuple[AttackPlugin, Attack, Goal]]:
    """The (attack, goal) pairs still to run, attack by attack."""
    return [
        (plugin, attack, goal)
        for plugin, attack in campaign.attacks
        for goal in campaign.goals
        if (plugin.name, goal.id) not in campaign.done
    ]


def run_campaign(
    campaign: Campaign, target: Target, judge: Judge, sink: Sink, *, options: RunOptions
) -> int:
    """Attack every pending pair on ``options.concurrency`` threads; returns how many ran.

    Each finding goes to ``sink`` as soon as it is ready, on the calling thread.
    """
    ctx = _Context(campaign, target, judge, options)
    pairs = iter(plan_pairs(campaign))
    count = 0
    with ThreadPoolExecutor(max_workers=options.concurrency) as pool:
        pending = _submit(pool, ctx, pairs, options.concurrency * 2)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                sink(future.result())
                count += 1
            pending |= _submit(pool, ctx, pairs, len(finished))
    return count


def _submit(
    pool: ThreadPoolExecutor,
    ctx: _Context,
    pairs: Iterator[tuple[AttackPlugin, Attack, Goal]],
    n: int,
) -> set[Future[Finding]]:
    # A bounded window, so a huge plan is not all queued (and resumed work starts at once).
    batch = [pair for _, pair in zip(range(n), pairs, strict=False)]
    return {pool.submit(attack_one, ctx, *pair) for pair in batch}


def attack_one(ctx: _Context, plugin: AttackPlugin, attack: Attack, goal: Goal) -> Finding:
    """Run one attack on one goal to its end; failures become a finding with ``error``."""
    start = time.monotonic()
    turns: list[Turn] = []
    error: str | None = None
    try:
        outcome = _drive(ctx, attack, goal, turns)
    except Exception as exc:  # noqa: BLE001 - a plugin or target failure is recorded, visibly
        outcome = Outcome(False, max((t.score for t in turns), default=0.0), "error")
        error = f"{type(exc).__name__}: {exc}"
    return Finding(
        run_id=ctx.campaign.run_id,
        target=ctx.campaign.target,
        attack=plugin.name,
        family=plugin.family.value,
        goal_id=goal.id,
        category=goal.category,
        request=goal.request,
        success=outcome.success and error is None,
        score=outcome.score,
        turns=tuple(turns),
        note=outcome.note,
        error=error,
        duration_s=time.monotonic() - start,
    )


def _drive(ctx: _Context, attack: Attack, goal: Goal, turns: list[Turn]) -> Outcome:
    run = attack.run(goal)
    try:
        probe = next(run)
        while len(turns) < ctx.options.max_turns:
            reply = _answer(ctx, probe)
            verdict = ctx.judge.judge(probe, reply)
            turns.append(
                Turn(
                    converter=probe.converter,
                    prompt=probe.prompt,
                    reply=reply.text,
                    success=verdict.success,
                    score=verdict.score,
                    judge=verdict.judge,
                    reason=verdict.reason,
                    action=reply.action,
                    messages=len(probe.messages),
                )
            )
            probe = run.send(Observation(reply.text, verdict.success, verdict.score))
    except StopIteration as stop:
        return _outcome(stop.value)
    run.close()
    hit = any(t.success for t in turns)
    best = max((t.score for t in turns), default=0.0)
    return Outcome(hit, best, f"stopped at the {ctx.options.max_turns}-turn cap")


def _outcome(value: object) -> Outcome:
    if isinstance(value, Outcome):
        return value
    raise ConfigError(f"attack returned {type(value).__name__}, not an Outcome")


def _answer(ctx: _Context, probe: Probe) -> TargetReply:
    delay = ctx.options.retry_delay_s
    for attempt in range(ctx.options.retries + 1):
        try:
            return ctx.target.answer(probe)
        except (BastionError, OSError, TimeoutError):
            if attempt == ctx.options.retries:
                raise
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover
