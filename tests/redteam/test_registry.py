"""The attack registry: built-ins plus third-party attacks from the ``bastion.attacks`` group."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bastion.core.errors import DuplicatePluginError, UnknownPluginError
from bastion.redteam import (
    AttackConfigModel,
    AttackDeps,
    AttackRun,
    Family,
    Goal,
    Probe,
    attack_plugin,
    build_attack_registry,
    select_attacks,
    single_turn,
)


@attack_plugin(name="shout", family=Family.FRAMING, tags=("third-party",), references=("x",))
class ShoutAttack:
    """Asks in capital letters."""

    def __init__(self, config: AttackConfigModel, deps: AttackDeps) -> None:
        pass

    def run(self, goal: Goal) -> AttackRun:
        """One loud probe."""
        return single_turn(Probe.user(goal.request.upper(), original=goal.request, converter="up"))


@attack_plugin(name="base64", family=Family.OBFUSCATION, tags=("clash",))
class ClashingAttack(ShoutAttack):
    """Claims a built-in name."""


def _install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    dist = tmp_path / "thirdparty-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[bastion.attacks]\nplugin = {target}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(sys.modules, "thirdparty_attacks", sys.modules[__name__])


def test_entry_point_attacks_are_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install(tmp_path, monkeypatch, "thirdparty_attacks:ShoutAttack")
    registry = build_attack_registry()
    assert "shout" in registry
    assert "shout" not in build_attack_registry(entry_points=False)
    assert [p.name for p in select_attacks(registry, "shout")] == ["shout"]


def test_a_duplicate_name_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install(tmp_path, monkeypatch, "thirdparty_attacks:ClashingAttack")
    with pytest.raises(DuplicatePluginError):
        build_attack_registry()


def test_unknown_names_raise() -> None:
    with pytest.raises(UnknownPluginError, match="nope"):
        select_attacks(build_attack_registry(), "direct,nope")
