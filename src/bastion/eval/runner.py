"""Runs suites against a target and writes the results as records.

The runner does the I/O; suites only ask and score. A suite that does not apply to the
target's kind, or whose data cannot be read, is reported as skipped with the reason:
an evaluation run never crashes halfway because one suite could not run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from bastion.core.errors import BastionError, UnknownPluginError
from bastion.core.registry import Registry
from bastion.eval.results import EvalReport, SuiteResult
from bastion.eval.resume import Recording, RecordingTarget
from bastion.eval.suite import ProgressFn, SuiteDeps, SuitePlugin, target_kind
from bastion.eval.target import Target
from bastion.records import Clock, Record, RecordKind, RecordWriter, new_id, new_record, utc_now

__all__ = ["SuiteProgress", "report_records", "resolve_suites", "run_suites", "write_records"]

SuiteProgress = Callable[[str, int, int], None]
"""Called with ``(suite, done, total)`` while a suite runs."""


def resolve_suites(spec: str, registry: Registry[SuitePlugin]) -> list[SuitePlugin]:
    """The plugins named by ``spec``: ``all`` or a comma-separated list of names.

    Raises:
        UnknownPluginError: a name is not registered.
    """
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise UnknownPluginError("suite", spec, registry.names())
    if names == ["all"]:
        return list(registry)
    return [registry.get(name) for name in dict.fromkeys(names)]


def run_suites(
    target: Target,
    plugins: Sequence[SuitePlugin],
    deps: SuiteDeps,
    *,
    progress: SuiteProgress | None = None,
    clock: Clock = utc_now,
    recording: Recording | None = None,
) -> EvalReport:
    """Run each suite in order on ``target``; returns the whole report.

    With ``recording``, every answer is appended as it is given and answers already
    recorded are replayed (see :mod:`bastion.eval.resume`).
    """
    started, run_id = clock(), new_id()
    results = []
    for plugin in plugins:
        asked: Target = target
        if recording is not None:
            asked = RecordingTarget(
                target, recording.writer, plugin.name, run_id, recording.known, clock
            )
        results.append(_run_one(plugin, asked, deps, progress))
    settings = {
        "suites": [p.name for p in plugins],
        "limit": deps.settings.limit,
        "sample_seed": deps.settings.sample_seed,
        "seed": deps.settings.seed,
        "shared_data": str(deps.settings.shared_data),
        "policy": deps.policy.ref,
        "target_kind": target_kind(target),
    }
    return EvalReport(
        run_id=run_id,
        target=target.name,
        settings=settings,
        suites=tuple(results),
        started_at=_iso(started),
        finished_at=_iso(clock()),
    )


def _run_one(
    plugin: SuitePlugin, target: Target, deps: SuiteDeps, progress: SuiteProgress | None
) -> SuiteResult:
    kind = target_kind(target)
    if kind not in plugin.targets:
        note = f"skipped: applies to {', '.join(plugin.targets)} targets, not {kind}"
        return SuiteResult(
            plugin.name, plugin.description, target.name, notes=(note,), skipped=True
        )
    suite_deps = dataclasses.replace(deps, progress=_bind(plugin.name, progress))
    try:
        return plugin.build(suite_deps).run(target)
    except (BastionError, OSError, ValueError) as exc:
        note = f"skipped: {type(exc).__name__}: {exc}"[:300]
        return SuiteResult(
            plugin.name, plugin.description, target.name, notes=(note,), skipped=True
        )


def _bind(name: str, progress: SuiteProgress | None) -> ProgressFn | None:
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def _iso(moment: object) -> str:
    text = getattr(moment, "isoformat", lambda: str(moment))()
    return str(text).replace("+00:00", "Z")


def report_records(report: EvalReport, *, clock: Clock = utc_now) -> Iterator[Record]:
    """``eval_result`` records: one per item (``type: item``) and one per suite summary
    (``type: suite``), each carrying the run id and the target."""
    head = {"run_id": report.run_id, "target": report.target}
    for suite in report.suites:
        for item in suite.items:
            yield new_record(
                RecordKind.EVAL_RESULT, {**head, "type": "item", **item.to_dict()}, clock=clock
            )
        yield new_record(
            RecordKind.EVAL_RESULT, {**head, "type": "suite", **suite.to_dict()}, clock=clock
        )


def write_records(report: EvalReport, path: Path, *, clock: Clock = utc_now) -> int:
    """Append the report's records to the JSONL file ``path``; returns how many.

    Raises:
        RecordError: the file cannot be written.
    """
    with RecordWriter(path) as writer:
        return writer.write_all(report_records(report, clock=clock))
