"""Each suite on the guard and on scripted assistants, with small limits."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bastion.datasets.consistency import FORMS, load_consistency_set
from bastion.datasets.sycophancy import load_sycophancy_set
from bastion.eval import (
    GuardTarget,
    Metric,
    RunSettings,
    SuiteDeps,
    SuiteResult,
    Target,
    build_suite_registry,
    resolve_suites,
    run_suites,
    scripted_assistant,
)
from bastion.eval.fakes import stubborn_responder, sycophant_responder
from bastion.eval.suites.benchmarks import read_donotanswer, read_harmbench
from bastion.policy import Policy

REGISTRY = build_suite_registry()


def _m(suite: SuiteResult, name: str) -> Metric:
    metric = suite.metric(name)
    assert metric is not None
    return metric


def _run(target: Target, names: str, deps: SuiteDeps) -> dict[str, SuiteResult]:
    report = run_suites(target, resolve_suites(names, REGISTRY), deps)
    return {s.suite: s for s in report.suites}


def test_under_refusal_lists_hard_limits_allowed_as_critical(
    always_allow: Target, policy: Policy
) -> None:
    deps = SuiteDeps(policy=policy, settings=RunSettings(limit=None))
    suite = _run(always_allow, "under_refusal", deps)["under_refusal"]
    catch = _m(suite, "unsafe_catch_rate")
    assert catch.value == 0.0 and catch.n > 500
    hard = {c for c, s in policy.lookup.items() if s.limit.value == "hard"}
    critical = suite.critical
    assert critical and all(item.group in hard and item.got == "allow" for item in critical)
    assert _m(suite, "hard_limit_allow_rate").value == 1.0


def test_over_refusal_guard_passes_benign(guard_target: GuardTarget, deps: SuiteDeps) -> None:
    suite = _run(guard_target, "over_refusal", deps)["over_refusal"]
    metric = _m(suite, "benign_pass_rate")
    assert metric.n == 12 and metric.value > 0.8
    assert all(i.unsafe is False and i.score is not None for i in suite.items)


def test_held_out_prompts_never_come_from_training(deps: SuiteDeps) -> None:
    from bastion.eval.suites._data import held_out
    from bastion.training.data import load_examples

    train = {e.text for e in load_examples(deps.settings.shared_data) if e.split != "test"}
    for unsafe in (True, False):
        assert not {i.text for i in held_out(deps.settings.shared_data, unsafe=unsafe)} & train


def test_missing_shared_data_falls_back_to_contrast(
    guard_target: GuardTarget, policy: Policy
) -> None:
    deps = SuiteDeps(policy=policy, settings=RunSettings(shared_data=Path("/no/such/dir")))
    suite = _run(guard_target, "over_refusal", deps)["over_refusal"]
    assert not suite.skipped and _m(suite, "benign_pass_rate").n == 140
    assert any("not read" in n for n in suite.notes)


def test_consistency_set_shape() -> None:
    forms = load_consistency_set()
    groups = Counter(f.group for f in forms)
    assert len(groups) >= 150 and set(groups.values()) == {len(FORMS)}
    labels = Counter(f.label for f in forms if f.form == "base")
    assert labels["safe"] >= 70 and labels["unsafe"] >= 70
    assert {f.lang for f in forms} >= {"en", "fr", "de", "es", "it", "pt"}
    assert all(len(f.messages) == 3 for f in forms if f.form == "split_turns")


def test_consistency_suite(guard_target: GuardTarget, deps: SuiteDeps) -> None:
    suite = _run(guard_target, "consistency", deps)["consistency"]
    groups = _m(suite, "consistent_group_rate")
    assert groups.n == 12
    assert all(not w.passed for w in suite.worst)
    assert {r.name for r in suite.rows if r.table == "form"} == set(FORMS)


def test_always_allow_is_perfectly_consistent(always_allow: Target, deps: SuiteDeps) -> None:
    suite = _run(always_allow, "consistency", deps)["consistency"]
    assert _m(suite, "consistent_group_rate").value == 1.0


def test_response_mode_expects_the_policy_action(
    guard_target: GuardTarget, deps: SuiteDeps, policy: Policy
) -> None:
    suite = _run(guard_target, "response_mode", deps)["response_mode"]
    assert _m(suite, "mode_accuracy").n == 12 * len(policy.contexts)
    for item in suite.items:
        context = item.item_id.rsplit("@", 1)[1]
        assert item.expected == policy.action_for(item.group, context).value


def test_sycophancy_flip_rates(known_answers: dict[str, str], policy: Policy) -> None:
    deps = SuiteDeps(policy=policy, settings=RunSettings())
    stubborn = scripted_assistant(stubborn_responder(known_answers))
    sycophant = scripted_assistant(sycophant_responder(known_answers))
    kept = _run(stubborn, "sycophancy", deps)["sycophancy"]
    gave_in = _run(sycophant, "sycophancy", deps)["sycophancy"]
    assert _m(kept, "flip_rate").value == 0.0
    assert _m(kept, "initial_accuracy").value == 1.0
    assert _m(gave_in, "flip_rate").value == 1.0
    n_pushback = sum(1 for i in load_sycophancy_set() if i.kind == "pushback")
    assert _m(gave_in, "flip_rate").n == n_pushback
    # the scripted model never corrects a wrong belief: it agrees with every one
    assert _m(kept, "agreement_rate").value == 1.0


def test_sycophancy_is_skipped_for_the_guard(guard_target: GuardTarget, deps: SuiteDeps) -> None:
    suite = _run(guard_target, "sycophancy", deps)["sycophancy"]
    assert suite.skipped and "assistant" in suite.notes[0]


def test_benchmark_readers(tmp_path: Path) -> None:
    (tmp_path / "harmbench").mkdir()
    (tmp_path / "harmbench" / "harmbench_prompts.txt").write_text("one\n\ntwo\n", "utf-8")
    (tmp_path / "donotanswer").mkdir()
    (tmp_path / "donotanswer" / "area.jsonl").write_text(
        '{"prompt": "p1"}\nnot json\n{"x": 1}\n[1]\n{"prompt": "p2"}\n', "utf-8"
    )
    assert [i.text for i in read_harmbench(tmp_path)] == ["one", "two"]
    assert [(i.text, i.category) for i in read_donotanswer(tmp_path)] == [
        ("p1", "area"),
        ("p2", "area"),
    ]
