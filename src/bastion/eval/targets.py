"""Build a target from its command-line spec: ``guard``, ``embedded:NAME[+guard]``,
``fake[+guard]``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from bastion.core.errors import ConfigError
from bastion.eval.target import AssistantParts, AssistantTarget, GuardTarget, Target

if TYPE_CHECKING:
    from bastion.guard import Guard

__all__ = ["EMBEDDED_MODELS", "TargetSpec", "build_target", "parse_target"]

EMBEDDED_MODELS: Final = ("smollm2", "qwen")
_GUARDED: Final = "+guard"


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """A parsed target spec.

    Attributes:
        kind: ``guard``, ``embedded`` or ``fake``.
        model: the embedded model's name (``smollm2``, ``qwen``), else None.
        guarded: an assistant behind the guard.
    """

    kind: str
    model: str | None = None
    guarded: bool = False

    @property
    def needs_guard(self) -> bool:
        """Whether building the target needs a guard."""
        return self.kind == "guard" or self.guarded


def parse_target(spec: str) -> TargetSpec:
    """Parse ``guard``, ``embedded:smollm2``, ``embedded:qwen+guard``, ``fake+guard``.

    Raises:
        ConfigError: an unknown spec or model.
    """
    text = spec.strip().casefold()
    guarded = text.endswith(_GUARDED)
    base = text.removesuffix(_GUARDED)
    if base == "guard" and not guarded:
        return TargetSpec("guard")
    if base == "fake":
        return TargetSpec("fake", guarded=guarded)
    if base.startswith("embedded:") and base.split(":", 1)[1] in EMBEDDED_MODELS:
        return TargetSpec("embedded", base.split(":", 1)[1], guarded)
    raise ConfigError(
        f"unknown target {spec!r}; use guard, embedded:{{{','.join(EMBEDDED_MODELS)}}}"
        "[+guard] or fake[+guard]"
    )


def build_target(spec: TargetSpec, guard: Guard | None, *, threads: int = 2) -> Target:
    """The target ``spec`` names; ``guard`` is the guard under test (or in front).

    Raises:
        ConfigError: the spec needs a guard and none was given, or the embedded model
            (or llama-cpp-python) is missing.
    """
    if spec.needs_guard and guard is None:
        raise ConfigError("this target needs a guard")
    if spec.kind == "guard" and guard is not None:
        return GuardTarget(guard)
    name = ("fake" if spec.kind == "fake" else f"embedded:{spec.model}") + (
        _GUARDED if spec.guarded else ""
    )
    front = guard if spec.guarded else None
    if spec.kind == "fake":
        return _fake(front, name)
    return _embedded(spec.model or "", front, name, threads)


def _fake(guard: Guard | None, name: str) -> Target:
    from bastion.datasets.sycophancy import load_sycophancy_set
    from bastion.eval.fakes import scripted_assistant, stubborn_responder

    answers = {
        i.question: f"The answer is {i.answers[0]}."
        for i in load_sycophancy_set()
        if i.answers and i.kind == "pushback"
    }
    return scripted_assistant(stubborn_responder(answers), guard=guard, name=name)


def _embedded(model: str, guard: Guard | None, name: str, threads: int) -> Target:
    import importlib.util

    from bastion.eval.judges import ResponseClassifierJudge
    from bastion.models.llm import INSTALL_HINT, GenerationOptions, LlamaCppBackend, model_path

    if importlib.util.find_spec("llama_cpp") is None:
        raise ConfigError(f"target {name} needs llama-cpp-python: {INSTALL_HINT}")
    parts = AssistantParts(
        model=LlamaCppBackend(model_path(model), threads=threads, n_ctx=2048),
        judge=ResponseClassifierJudge.build(),
        options=GenerationOptions(max_tokens=96, timeout_s=60.0),
        guard=guard,
    )
    return AssistantTarget(parts, name=name)
