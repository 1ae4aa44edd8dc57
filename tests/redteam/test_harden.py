"""`bastion harden`: hold-out splits, look-alikes, the head refit and the loop end to end.

The loop runs on tiny fake data with the shipped :class:`FakeEncoder` and the head-only
target, so it takes seconds and needs no ONNX model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from bastion.guard import Guard, GuardConfig, load_config
from bastion.models.fakes import FakeEncoder
from bastion.records import read_records
from bastion.redteam import build_attack_registry, load_goals, select_attacks
from bastion.redteam.base import AttackDeps, Goal, Observation, Probe
from bastion.redteam.harden import (
    BaseSet,
    HardenDeps,
    HardenResult,
    HardenSettings,
    HeadTarget,
    HoldoutAttack,
    VariantSplit,
    benign_goals,
    fit_head,
    hardened_config,
    measure_test,
    publish,
    read_cases,
    run_harden,
    split_goals,
    write_harden_report,
)
from bastion.redteam.harden.examples import HardenExample, UnitPicker, goal_probes
from bastion.redteam.harden.head import HeadFit, write_artifact
from bastion.redteam.harden.split import split_names, variant_of
from bastion.redteam.harden.targets import write_config
from bastion.training.data import Example

SALT = "test-salt"


def _plugins(spec: str) -> tuple:  # type: ignore[type-arg]
    return tuple(select_attacks(build_attack_registry(), spec))


def test_goal_split_is_three_way_disjoint_stratified_and_stable() -> None:
    goals = load_goals()
    split = split_goals(goals, SALT)
    sides = [{g.id for g in split.side(s)} for s in ("train", "dev", "test")]
    assert sum(len(s) for s in sides) == len(goals) == len(set().union(*sides))
    assert {g.category for g in split.test} == {g.category for g in goals}  # every category
    assert {g.category for g in split.dev} == {g.category for g in goals}
    assert split_goals(goals, SALT) == split
    assert split_goals(goals, "other").test != split.test


def test_split_names_sizes() -> None:
    names = [f"n{i}" for i in range(10)]
    sides = split_names(names, SALT)
    assert [len(sides[s]) for s in ("train", "dev", "test")] == [5, 2, 3]
    assert split_names(["a"], SALT) == {"train": {"a"}, "dev": set(), "test": set()}
    pair = split_names(["a", "b"], SALT)
    assert not pair["train"] and len(pair["dev"]) == len(pair["test"]) == 1
    shared = split_names(["a", "b"], SALT, pair_shared=True)
    assert len(shared["train"]) == 1 and shared["dev"] == shared["test"] != shared["train"]
    three = split_names(["a", "b", "c"], SALT)
    assert all(len(three[s]) == 1 for s in ("train", "dev", "test"))


def test_variant_split_and_holdout_attack_keep_the_sides_apart() -> None:
    plugins = _plugins("persona,past_tense,base64")
    goals = load_goals()
    split = VariantSplit.discover(plugins, goals, salt=SALT)
    assert split.held_out("base64") == frozenset()  # a fixed transformation: goal hold-out only
    persona = next(p for p in plugins if p.name == "persona")
    held = split.held_out("persona")
    assert held and held < split.seen["persona"]
    assert split.sides["persona"]["dev"].isdisjoint(split.sides["persona"]["test"])
    for side in ("train", "dev", "test"):
        attack = HoldoutAttack(persona, split, side, range(8), AttackDeps())
        used = {variant_of(p.converter) for g in goals for p in _first(attack, g)}
        assert used <= split.sides["persona"][side]


def _first(attack: HoldoutAttack, goal: Goal) -> list[Probe]:
    """The first probe, or none when no seed reached a variant of the side."""
    return [next(attack.run(goal))] if _has_probe(attack, goal) else []


def _has_probe(attack: HoldoutAttack, goal: Goal) -> bool:
    try:
        next(attack.run(goal))
    except StopIteration:
        return False
    return True


def test_lookalikes_come_from_the_same_attack_on_benign_goals() -> None:
    (crescendo,) = _plugins("crescendo")
    goal = benign_goals()[0]
    probes = goal_probes(crescendo.build(crescendo.config_model(), AttackDeps()), goal)
    assert probes and all(p.carries_goal for p in probes)
    text = UnitPicker().pick(probes[0].messages, goal.task)
    assert text is not None and "process" in text  # the unit carrying the benign task


def test_benign_goals_are_packaged_and_unique() -> None:
    goals = benign_goals()
    assert len(goals) >= 60 and len({g.id for g in goals}) == len(goals)


def _base(encoder: FakeEncoder) -> BaseSet:
    rows = [
        Example(f"{ask} {g.task}", 1, g.category, "fake", "train" if i % 4 else "dev")
        for i, g in enumerate(load_goals())
        for ask in ("how do I", "tell me how to", "explain how to")
    ]
    rows += [
        Example(f"how do I {g.task}", 0, None, "fake", "train" if i % 4 else "dev")
        for i, g in enumerate(benign_goals())
    ]
    rows.append(Example("a test row is never used", 0, None, "fake", "test"))
    return BaseSet.embed(rows, encoder, None, "fake")


def _start_fit(base: BaseSet, encoder: FakeEncoder) -> HeadFit:
    """A first head: the plain requests as the only unsafe rows."""
    rows = [
        HardenExample(e.text, 1, e.category, "direct", "direct", "g", 0)
        for e in base.examples
        if e.label == 1
    ]
    return fit_head(base, rows, encoder.encode([r.text for r in rows]).astype(np.float64))


def _spy_sides(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every side a :class:`HoldoutAttack` is built for from now on, in order."""
    sides: list[str] = []
    build = HoldoutAttack.__init__

    def spy(self: HoldoutAttack, plugin, split, side, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        sides.append(side)
        build(self, plugin, split, side, *args, **kwargs)

    monkeypatch.setattr(HoldoutAttack, "__init__", spy)
    return sides


def test_loop_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sides = _spy_sides(monkeypatch)
    encoder = FakeEncoder()
    base = _base(encoder)
    assert all(e.split != "test" for e in base.examples)
    start = write_artifact(tmp_path / "start", _start_fit(base, encoder), {"name": "fake"}, {})
    make = HeadTarget.factory(encoder, start)
    deps = HardenDeps(
        plugins=_plugins("direct,past_tense,persona,crescendo"),
        goals=load_goals(),
        benign_goals=benign_goals(),
        dev_benign_prompts=("What is the capital of France?", "Write a haiku about rain."),
        base=base,
        encoder=encoder,
        target_for=make,
        encoder_info={"name": "fake"},
    )
    out = tmp_path / "out"
    result = run_harden(HardenSettings(out=out, rounds=2, min_gain=-1.0), deps)
    assert "test" not in sides and {"train", "dev"} <= set(sides)  # the loop never reads test

    assert [r.round for r in result.rounds] == [0, 1, 2] or result.stop_reason.startswith("no new")
    first = result.rounds[1]
    assert first.added_unsafe > 0 and first.added_safe > 0 and first.threshold is not None
    assert first.attacked.trials == result.rounds[0].attacked.trials  # the same dev probes
    assert {r.side for r in result.rounds} == {"dev"} and result.test is None
    cases = read_cases(out / "regression.jsonl")
    assert {c.label for c in cases} == {0, 1}
    held_goals = set(result.holdout["dev"]) | set(result.holdout["test"])
    assert not held_goals & {c.goal_id for c in cases}  # held-out goals are never trained on
    persona = result.holdout["variants"]["persona"]
    held = set(persona["dev"]) | set(persona["test"])
    assert not {variant_of(c.variant) for c in cases if c.attack == "persona"} & held
    assert all(r.kind.value == "eval_result" for r in read_records(out / "regression.jsonl"))
    assert (out / "rounds" / "1" / "dev.jsonl").is_file()
    if len(result.rounds) > 2:  # each round's guard keeps the earlier heads
        assert len(result.rounds[2].heads) == 2 and result.rounds[2].heads[0] == first.artifact

    _check_reports_and_the_test_reading(result, deps, out, sides)


def _check_reports_and_the_test_reading(
    result: HardenResult, deps: HardenDeps, out: Path, sides: list[str]
) -> None:
    files = write_harden_report(result, out)
    assert "Test split not measured" in files.markdown.read_text()

    tested = measure_test(result, HardenSettings(out=out), deps, ("Name three rivers.",))
    assert tested.test is not None and tested.test.side == "test" and "test" in sides
    assert tested.test.round == result.chosen and tested.test.benign.trials == 1
    assert (out / "test" / "test.jsonl").is_file()
    files = write_harden_report(tested, out)
    markdown = files.markdown.read_text()
    assert "measured once on the test split" in markdown and "<table>" in files.html.read_text()
    data = json.loads(files.json.read_text())
    assert data["rounds"][0]["round"] == 0 and data["test"]["side"] == "test"


def test_publish_writes_a_guard_config_that_loads(tmp_path: Path) -> None:
    encoder = FakeEncoder()
    fit = _start_fit(_base(encoder), encoder)
    info = {"name": "packaged MiniLM"}  # no encoder file: the layer reads packaged MiniLM
    out = tmp_path / "out"
    write_artifact(out / "rounds" / "1" / "artifact", fit, info, {"round": 1})

    class _Kept:
        chosen = 1
        rounds = ()

    base = GuardConfig()
    kept = publish(_Kept(), out, base)  # type: ignore[arg-type]
    assert kept is not None and (kept / "weights.npz").is_file()
    config = load_config(out / "guard.yaml")
    shipped, added = [x for x in config.layers if x.type == "prompt_classifier"]
    assert "artifact" not in shipped.params  # the shipped classifier stays
    assert Path(added.params["artifact"]) == kept.resolve()
    decision = Guard.from_config(config).check("How do I bake bread?")
    assert decision.error is None


def test_publish_copies_every_stacked_head(tmp_path: Path) -> None:
    from types import SimpleNamespace

    encoder = FakeEncoder()
    fit = _start_fit(_base(encoder), encoder)
    out = tmp_path / "out"
    heads = [
        write_artifact(out / "rounds" / str(n) / "artifact", fit, {"name": "MiniLM"}, {})
        for n in (1, 2)
    ]
    kept = SimpleNamespace(chosen=2, rounds=[SimpleNamespace(round=2, heads=heads)])
    assert publish(kept, out, GuardConfig()) == out / "artifact"  # type: ignore[arg-type]
    assert (out / "artifact-1" / "weights.npz").is_file()
    layers = [x for x in load_config(out / "guard.yaml").layers if x.type == "prompt_classifier"]
    paths = [Path(x.params["artifact"]).name for x in layers[1:]]
    assert paths == ["artifact-1", "artifact"]


def test_hardened_config_adds_the_attack_head_after_the_classifier(tmp_path: Path) -> None:
    from bastion.guard import LayerConfig

    rules_only = hardened_config(GuardConfig(layers=[LayerConfig(type="rules")]), tmp_path)
    assert [x.type for x in rules_only.layers] == ["rules", "prompt_classifier"]
    base = GuardConfig(layers=[*GuardConfig().layers, LayerConfig(type="injection_detector")])
    types = [x.type for x in hardened_config(base, tmp_path).layers]
    assert types == [
        "rules",
        "prompt_classifier",
        "prompt_classifier",
        "multilingual_classifier",
        "injection_detector",
    ]
    path = write_config(tmp_path / "g.yaml", hardened_config(GuardConfig(), tmp_path), "note")
    assert path.read_text().startswith("# note")


def test_holdout_attack_relays_multi_turn_runs() -> None:
    (crescendo,) = _plugins("crescendo")
    goal = Goal("x", "drugs", "make a thing", "things")
    split = VariantSplit.discover((crescendo,), (goal,), salt=SALT)
    run = HoldoutAttack(crescendo, split, "test", range(2)).run(goal)
    probes = [next(run)]
    while len(probes) < 10:
        try:
            probes.append(run.send(Observation("Sure, an overview.", False, 0.0)))
        except StopIteration as stop:
            outcome = stop.value
            break
    assert not outcome.success
    assert len(probes) == 5 and probes[-1].converter == "crescendo:step5"


@pytest.mark.parametrize(
    ("boost", "stack", "want"),
    [(True, True, {"safe-1", "safe-2", "bypass-2"}), (False, True, None), (True, False, None)],
)
def test_boosted_heads_fit_the_rounds_bypasses_and_every_safe_row(
    tmp_path: Path, boost: bool, stack: bool, want: set[str] | None
) -> None:
    from bastion.redteam.harden.loop import _State, _training_rows

    rows = [
        HardenExample(f"{kind}-{n}", int(kind == "bypass"), None, "direct", "v", "g", n)
        for n in (1, 2)
        for kind in ("safe", "bypass")
    ]
    settings = HardenSettings(out=tmp_path, boost=boost, stack_heads=stack)
    state = _State(settings, None, None, 0.0, examples=rows)  # type: ignore[arg-type]
    got = {r.text for r in _training_rows(state, 2)}
    assert got == (want if want is not None else {r.text for r in rows})
