"""The layer plugin kind: one small protocol with one required method.

A layer looks at a whole conversation (every message, already normalised once by the
guard) and returns a :class:`~bastion.core.verdict.Verdict`. Layers never decide the final
action alone: the combining policy and the policy file do.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict

from bastion.core.errors import ConfigError
from bastion.core.registry import PLUGIN_ATTR
from bastion.core.text import NormalizedText
from bastion.core.types import Message, Role
from bastion.core.verdict import Verdict

if TYPE_CHECKING:
    from bastion.policy.model import Policy

__all__ = [
    "CheckRequest",
    "Layer",
    "LayerConfigModel",
    "LayerDeps",
    "LayerPlugin",
    "Requirement",
    "layer_plugin",
    "require",
]


@dataclass(frozen=True, slots=True)
class CheckRequest:
    """One check: the conversation, optionally the assistant's reply, and the context.

    ``normalized[i]`` is the normalisation of ``messages[i]``; ``normalized_response`` of
    ``response``. Layers read these rather than normalising again.
    """

    messages: tuple[Message, ...]
    normalized: tuple[NormalizedText, ...]
    context: str = "general"
    response: str | None = None
    normalized_response: NormalizedText | None = None

    def user_turns(self) -> tuple[NormalizedText, ...]:
        """Normalised user messages, oldest first."""
        return tuple(
            norm
            for msg, norm in zip(self.messages, self.normalized, strict=True)
            if msg.role is Role.USER
        )


@runtime_checkable
class Layer(Protocol):
    """A check that turns a request into a verdict."""

    @property
    def name(self) -> str:
        """The layer's registered name."""
        ...

    def check(self, request: CheckRequest) -> Verdict:
        """Judge the request. May raise: the guard records the error and fails closed."""
        ...


_L = TypeVar("_L", bound=Layer)


class LayerConfigModel(BaseModel):
    """Base for a layer's own configuration model (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class LayerDeps:
    """What the guard hands a layer factory: the loaded policy."""

    policy: Policy


@dataclass(frozen=True, slots=True)
class Requirement:
    """An importable module a layer needs at run time, and the command that installs it.

    Attributes:
        module: the top-level module name (``llama_cpp``), checked without importing it.
        install: the command that fixes its absence (``pip install 'bastion[llm]'``).
    """

    module: str
    install: str

    def available(self) -> bool:
        """Whether ``module`` can be imported (found, never imported)."""
        try:
            return importlib.util.find_spec(self.module) is not None
        except (ImportError, ValueError):  # a broken install, or a parent that is not found
            return False


@dataclass(frozen=True, slots=True)
class LayerPlugin:
    """Registry entry for a layer: metadata as data plus a factory.

    Attributes:
        name: registered name, used as ``type`` in the guard configuration.
        description: one line a user sees in listings.
        tier: cascade tier (0 = cheap and always on; higher runs only where needed).
        config_model: the layer's own pydantic configuration model.
        build: factory ``(config, deps) -> Layer``.
        requires: modules the layer imports lazily; the guard checks them before building
            it, so that a missing one stops start-up instead of failing every check.
    """

    name: str
    description: str
    tier: int
    config_model: type[LayerConfigModel]
    build: Callable[[LayerConfigModel, LayerDeps], Layer]
    requires: tuple[Requirement, ...] = ()


def require(plugin: LayerPlugin, *, layer: str | None = None) -> None:
    """Check that every module ``plugin`` requires is installed.

    Args:
        plugin: the layer's registry entry.
        layer: the layer's name in the configuration, for the message (default: the
            plugin's name).

    Raises:
        ConfigError: a required module is missing; the message names the module and the
            command that installs it.
    """
    missing = [r for r in plugin.requires if not r.available()]
    if not missing:
        return
    label = layer or plugin.name
    modules = ", ".join(repr(r.module) for r in missing)
    fixes = "; ".join(dict.fromkeys(r.install for r in missing))
    raise ConfigError(
        f"layer {label!r} needs {modules}, which is not installed: {fixes} "
        "(or remove the layer from the configuration)"
    )


def layer_plugin(
    *,
    name: str,
    tier: int,
    config: type[LayerConfigModel],
    requires: Sequence[Requirement] = (),
) -> Callable[[type[_L]], type[_L]]:
    """Mark a layer class as a plugin; its first docstring line becomes the description.

    The class is built as ``cls(config, deps)``. ``requires`` lists the optional (or
    heavy) modules the layer imports lazily; see :func:`require`. Marking has no side
    effect: registries collect marked classes when they are built (see
    :mod:`bastion.guard.registry`).
    """

    def mark(cls: type[_L]) -> type[_L]:
        doc = (cls.__doc__ or "").strip().splitlines()
        entry = LayerPlugin(
            name=name,
            description=doc[0] if doc else "",
            tier=tier,
            config_model=config,
            build=lambda cfg, deps: cls(cfg, deps),  # type: ignore[call-arg]
            requires=tuple(requires),
        )
        setattr(cls, PLUGIN_ATTR, entry)
        return cls

    return mark
