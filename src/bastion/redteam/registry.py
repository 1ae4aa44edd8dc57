"""Builds the attack registry: built-in attacks plus the ``bastion.attacks`` entry points."""

from __future__ import annotations

from bastion.core.errors import UnknownPluginError
from bastion.core.registry import Registry
from bastion.redteam.base import AttackPlugin

__all__ = ["ATTACK_ENTRY_POINT_GROUP", "build_attack_registry", "select_attacks"]

ATTACK_ENTRY_POINT_GROUP = "bastion.attacks"


def build_attack_registry(*, entry_points: bool = True) -> Registry[AttackPlugin]:
    """A fresh registry of attack plugins.

    Args:
        entry_points: also load third-party attacks published under ``bastion.attacks``
            (an entry point names a class marked with
            :func:`~bastion.redteam.base.attack_plugin`).

    Raises:
        DuplicatePluginError: two attacks claim one name.
    """
    from bastion.redteam.attacks import BUILT_IN

    registry: Registry[AttackPlugin] = Registry("attack", group=ATTACK_ENTRY_POINT_GROUP)
    registry.add_marked(BUILT_IN, _name)
    if entry_points:
        registry.load_entry_points(_name)
    return registry


def select_attacks(registry: Registry[AttackPlugin], spec: str) -> list[AttackPlugin]:
    """The attacks named by ``spec``: ``all``, or names and families, comma-separated.

    A family name (``obfuscation``) selects every attack of that family.

    Raises:
        UnknownPluginError: a name is neither an attack nor a family.
    """
    wanted = [part.strip() for part in spec.split(",") if part.strip()]
    if not wanted or wanted == ["all"]:
        return list(registry)
    chosen: dict[str, AttackPlugin] = {}
    for name in wanted:
        matches = [p for p in registry if name in (p.name, p.family.value)]
        if not matches:
            raise UnknownPluginError("attack", name, registry.names())
        chosen.update((p.name, p) for p in matches)
    return [chosen[name] for name in sorted(chosen)]


def _name(entry: AttackPlugin) -> str:
    return entry.name
