"""Build a target from its command-line spec: ``guard``, ``embedded:NAME[+guard]``,
``openai:URL[+guard]``, ``gateway:URL``, ``fake[+guard]``; any of them may end in
``@CONFIG.yaml`` to name the guard configuration of that target (for baselines side by
side in one run, e.g. ``guard`` and ``guard@examples/guard-rules.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from bastion.core.errors import ConfigError
from bastion.eval.target import AssistantParts, AssistantTarget, GuardTarget, Target

if TYPE_CHECKING:
    from bastion.guard import Guard

__all__ = ["EMBEDDED_MODELS", "RemoteOptions", "TargetSpec", "build_target", "parse_target"]

EMBEDDED_MODELS: Final = ("smollm2", "qwen")
_GUARDED: Final = "+guard"
_REMOTE: Final = ("openai", "gateway")
_CONFIG_SUFFIXES: Final = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """A parsed target spec.

    Attributes:
        kind: ``guard``, ``embedded``, ``openai``, ``gateway`` or ``fake``.
        model: the embedded model's name (``smollm2``, ``qwen``), else None.
        guarded: an assistant behind the local guard.
        url: the API root of an ``openai`` or ``gateway`` target.
        config: the guard configuration this target names (``@FILE``), else None.
        text: the spec as given (without ``@CONFIG``), for names.
    """

    kind: str
    model: str | None = None
    guarded: bool = False
    url: str | None = None
    config: Path | None = None
    text: str = ""

    @property
    def needs_guard(self) -> bool:
        """Whether building the target needs a local guard."""
        return self.kind == "guard" or self.guarded

    @property
    def name(self) -> str:
        """The target's name in reports (``guard@rules`` for ``guard@.../guard-rules.yaml``)."""
        base = {"guard": "guard", "fake": "fake"}.get(self.kind)
        if base is None:
            base = f"{self.kind}:{self.model or self.url}"
        base += _GUARDED if self.guarded else ""
        if self.config is not None:
            base += "@" + self.config.stem.removeprefix("guard-")
        return base


@dataclass(frozen=True, slots=True)
class RemoteOptions:
    """How ``openai:`` and ``gateway:`` targets are called.

    Attributes:
        model: model name sent to the endpoint.
        api_key: the key (the CLI reads it from the environment variable it is told).
        timeout_s: budget of one reply.
        max_tokens: most tokens of one reply.
    """

    model: str = "default"
    api_key: str | None = None
    timeout_s: float = 60.0
    max_tokens: int = 256


def _split_config(spec: str) -> tuple[str, Path | None]:
    head, at, tail = spec.rpartition("@")
    if at and tail.casefold().endswith(_CONFIG_SUFFIXES):
        return head, Path(tail)
    return spec, None


def parse_target(spec: str) -> TargetSpec:
    """Parse ``guard``, ``embedded:qwen+guard``, ``openai:http://host/v1``, ``fake+guard``...

    Raises:
        ConfigError: an unknown spec or model.
    """
    text, config = _split_config(spec.strip())
    kind, sep, rest = text.partition(":")
    kind = kind.casefold()
    if kind in _REMOTE and sep:
        guarded = kind == "openai" and rest.casefold().endswith(_GUARDED)
        url = rest[: -len(_GUARDED)] if guarded else rest
        if url.startswith(("http://", "https://")):
            return TargetSpec(kind, None, guarded, url.rstrip("/"), config, text)
    folded = text.casefold()
    guarded = folded.endswith(_GUARDED)
    base = folded.removesuffix(_GUARDED)
    if base == "guard" and not guarded:
        return TargetSpec("guard", config=config, text=text)
    if base == "fake":
        return TargetSpec("fake", guarded=guarded, config=config, text=text)
    if base.startswith("embedded:") and base.split(":", 1)[1] in EMBEDDED_MODELS:
        return TargetSpec("embedded", base.split(":", 1)[1], guarded, config=config, text=text)
    raise ConfigError(
        f"unknown target {spec!r}; use guard, embedded:{{{','.join(EMBEDDED_MODELS)}}}"
        "[+guard], openai:URL[+guard], gateway:URL or fake[+guard]"
    )


def build_target(
    spec: TargetSpec,
    guard: Guard | None,
    *,
    threads: int = 2,
    remote: RemoteOptions | None = None,
) -> Target:
    """The target ``spec`` names; ``guard`` is the guard under test (or in front).

    Raises:
        ConfigError: the spec needs a guard and none was given, or the embedded model
            (or llama-cpp-python, or httpx) is missing.
    """
    if spec.needs_guard and guard is None:
        raise ConfigError("this target needs a guard")
    if spec.kind == "guard" and guard is not None:
        return GuardTarget(guard, name=spec.name)
    front = guard if spec.guarded else None
    if spec.kind == "fake":
        return _fake(front, spec.name)
    if spec.kind in _REMOTE:
        return _remote(spec, front, remote or RemoteOptions())
    return _embedded(spec.model or "", front, spec.name, threads)


def _fake(guard: Guard | None, name: str) -> Target:
    from bastion.datasets.sycophancy import load_sycophancy_set
    from bastion.eval.fakes import scripted_assistant, stubborn_responder

    answers = {
        i.question: f"The answer is {i.answers[0]}."
        for i in load_sycophancy_set()
        if i.answers and i.kind == "pushback"
    }
    return scripted_assistant(stubborn_responder(answers), guard=guard, name=name)


def _remote(spec: TargetSpec, guard: Guard | None, options: RemoteOptions) -> Target:
    from bastion.eval.judges import ResponseClassifierJudge
    from bastion.eval.remote import GatewayTarget
    from bastion.models.llm import GenerationOptions
    from bastion.models.openai_chat import OpenAIChatBackend

    backend = OpenAIChatBackend(spec.url or "", model=options.model, api_key=options.api_key)
    generation = GenerationOptions(max_tokens=options.max_tokens, timeout_s=options.timeout_s)
    judge = ResponseClassifierJudge.build()
    if spec.kind == "gateway":
        return GatewayTarget(backend, judge, generation, name=spec.name)
    parts = AssistantParts(model=backend, judge=judge, options=generation, guard=guard)
    return AssistantTarget(parts, name=spec.name)


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
