"""Builds the stage registry: built-in stages plus the ``bastion.curate_stages`` entry points."""

from __future__ import annotations

from bastion.core.registry import Registry
from bastion.curate.stages.base import StagePlugin

__all__ = ["STAGE_ENTRY_POINT_GROUP", "build_stage_registry"]

STAGE_ENTRY_POINT_GROUP = "bastion.curate_stages"


def build_stage_registry(*, entry_points: bool = True) -> Registry[StagePlugin]:
    """A fresh registry of curation stages.

    Raises:
        DuplicatePluginError: two stages claim one name.
    """
    from bastion.curate.stages import BUILT_IN

    registry: Registry[StagePlugin] = Registry("curation stage", group=STAGE_ENTRY_POINT_GROUP)
    registry.add_marked(BUILT_IN, _name)
    if entry_points:
        registry.load_entry_points(_name)
    return registry


def _name(entry: StagePlugin) -> str:
    return entry.name
