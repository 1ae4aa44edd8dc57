"""Who judged a run, and whether that judge is independent of the target it judged.

A judge is **independent** of a target when the two share no component: no guard layer,
no model, no encoder. The response classifier judging a target whose guard runs the
response classifier is *self-judged* (a reply the guard let through is one the judge
already called harmless), and so is a judge sharing the MiniLM encoder with a guard layer
or the LLM judge reading the replies of the very model it runs on. The reference judge
(:mod:`bastion.redteam.reference_judge`), the canary and keyword judges share nothing
with any target. The guard-decision judge reads the guard's action on a goal the goal set
labels harmful: no model of the target decides whether the goal was harmful, so it counts
as independent.

Components are named strings: a guard layer's type (``response_classifier``), an encoder
(``minilm_int8``, ``e5``), an embedded model (``model:qwen``). A ``gateway:URL`` target's
pipeline is not visible to the run, so it is taken to run every known layer.

:class:`JudgeCard` is what reports carry: the judge's name, its independence with the
shared components, and its agreement with human labels (:data:`AGREEMENT_FILE`, written by
``bastion redteam judges --ship``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from bastion.core.errors import ConfigError

if TYPE_CHECKING:
    from bastion.redteam.findings import Finding

__all__ = [
    "AGREEMENT_FILE",
    "Agreement",
    "JudgeCard",
    "card_from_findings",
    "judge_card",
    "judge_components",
    "layer_components",
    "packaged_agreement",
    "target_components",
]

AGREEMENT_FILE: Final = "data/judge_agreement.json"
"""The packaged agreement figures, inside ``bastion.redteam`` (a copy of
``docs/results/judges.json``)."""
LAYER_COMPONENTS: Final[Mapping[str, frozenset[str]]] = {
    "rules": frozenset({"rules"}),
    "prompt_classifier": frozenset({"prompt_classifier"}),  # its own fine-tuned encoder
    "response_classifier": frozenset({"response_classifier", "minilm_int8"}),
    "injection_detector": frozenset({"injection_detector", "minilm_int8"}),
    "multilingual_classifier": frozenset({"multilingual_classifier", "e5"}),
}
"""Guard layer type -> what it is built from (the ``llm_judge`` layer: its model)."""
JUDGE_COMPONENTS: Final[Mapping[str, frozenset[str]]] = {
    "response_classifier": LAYER_COMPONENTS["response_classifier"],
    "reference_judge": frozenset({"reference_judge_v1"}),
    "canary": frozenset(),
    "keyword": frozenset(),
    "guard_decision": frozenset(),
}
"""Judge name (as findings record it) -> its components; ``llm_judge:<model>`` adds
``model:<model>``."""
UNKNOWN: Final = "unknown"
"""A component nobody can vouch for: a judge with one is never called independent."""
_GUARD_BASIS: Final = (
    "success is the guard's own action on a goal the goal set labels harmful; no component "
    "of the target judges harm"
)


def layer_components(layer_type: str, params: Mapping[str, Any] | None = None) -> frozenset[str]:
    """What a guard layer of ``layer_type`` is built from (an unknown type: itself)."""
    if layer_type == "llm_judge":
        return frozenset({f"model:{(params or {}).get('model', 'qwen')}"})
    return LAYER_COMPONENTS.get(layer_type, frozenset({layer_type}))


def _all_layers() -> frozenset[str]:
    return frozenset().union(*LAYER_COMPONENTS.values(), {"model:qwen", "model:smollm2"})


def target_components(
    spec: str, layers: Sequence[tuple[str, Mapping[str, Any]]] | None = None
) -> frozenset[str]:
    """What a ``--target`` spec runs.

    Args:
        spec: ``guard``, ``embedded:<model>[+guard]``, ``openai:URL`` or ``gateway:URL``.
        layers: the guard's enabled layers as ``(type, params)``; None when unknown (an old
            run): a guarded target is then taken to run every known layer.
    """
    guard = (
        _all_layers()
        if layers is None
        else frozenset().union(*(layer_components(t, p) for t, p in layers))
    )
    kind, _, rest = spec.partition(":")
    if spec == "guard":
        return guard
    if kind == "gateway":
        return _all_layers()  # its pipeline is not visible to the run
    if kind == "openai":
        return frozenset({f"remote:{rest}"})
    model, _, suffix = rest.partition("+")
    return frozenset({f"model:{model}"}) | (guard if suffix == "guard" else frozenset())


def judge_components(names: Iterable[str]) -> frozenset[str]:
    """The components of the judges named (``llm_judge:<model>`` for an LLM judge; a
    model that is not known, or a judge that is not, is its own ``unknown:`` component,
    which every target is taken to share: independence is not assumed)."""
    out: set[str] = set()
    for name in names:
        base, _, model = name.partition(":")
        if base == "llm_judge":
            out.add(f"model:{model}" if model else UNKNOWN)
        else:
            out |= JUDGE_COMPONENTS.get(name, frozenset({UNKNOWN}))
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Agreement:
    """A judge against one human-labelled set (a row of ``judges.json``)."""

    task: str
    n: int
    precision: float
    recall: float
    f1: float
    kappa: float

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Agreement:
        """From a score row (extra keys ignored)."""
        rates = {k: float(data[k]) for k in ("precision", "recall", "f1", "kappa")}
        return cls(task=str(data["task"]), n=int(data["n"]), **rates)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "task": self.task,
            "n": self.n,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "kappa": self.kappa,
        }


@dataclass(frozen=True, slots=True)
class JudgeCard:
    """Who judged a run.

    Attributes:
        name: the judges, joined by ``+`` (``reference_judge+canary``).
        independent: the judge shares no component with the target.
        shared: the components it shares (empty when independent).
        basis: why, in a sentence.
        agreement: the deciding judge's agreement with human labels, per labelled set.
    """

    name: str
    independent: bool
    shared: tuple[str, ...] = ()
    basis: str = ""
    agreement: tuple[Agreement, ...] = ()

    @property
    def label(self) -> str:
        """``independent`` or ``self-judged``."""
        return "independent" if self.independent else "self-judged"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``name`` and ``independent`` as published runs read them)."""
        return {
            "name": self.name,
            "independent": self.independent,
            "label": self.label,
            "shared": list(self.shared),
            "basis": self.basis,
            "agreement": [a.to_dict() for a in self.agreement],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JudgeCard:
        """Read :meth:`to_dict` back.

        Raises:
            ConfigError: a field is missing or malformed.
        """
        try:
            return cls(
                name=str(data["name"]),
                independent=bool(data["independent"]),
                shared=tuple(str(s) for s in data.get("shared", ())),
                basis=str(data.get("basis", "")),
                agreement=tuple(Agreement.from_dict(a) for a in data.get("agreement", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"not a judge card: {exc!r}") from None


def packaged_agreement(path: Path | None = None) -> list[dict[str, Any]]:
    """The score rows of the agreement file (None: the packaged one; [] when absent)."""
    file = path or Path(str(resources.files("bastion.redteam").joinpath(AGREEMENT_FILE)))
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{file}: cannot read the judge agreement figures: {exc}") from None
    return [dict(s) for s in data.get("scores", ())] if isinstance(data, dict) else []


def judge_card(
    judges: Sequence[str],
    target: frozenset[str],
    *,
    scores: Sequence[Mapping[str, Any]] = (),
) -> JudgeCard:
    """The card of ``judges`` (the first decides: its agreement is reported) on a target
    built from ``target`` components; ``scores`` are agreement rows (``judges.json``).

    A judge with an ``unknown`` component is not independent of anything.
    """
    components = judge_components(judges)
    shared = tuple(sorted(components & (target | {UNKNOWN})))
    if judges and judges[0] == "guard_decision":
        basis = _GUARD_BASIS
    elif shared:
        basis = f"the judge and the target share {', '.join(shared)}"
    else:
        basis = "the judge shares no layer, model, encoder or training data with the target"
    lead = judges[0] if judges else ""
    rows = [Agreement.from_dict(s) for s in scores if s.get("judge") == lead]
    return JudgeCard("+".join(judges), not shared, shared, basis, tuple(rows))


def _lead_first(names: Iterable[str]) -> list[str]:
    """Judge names, most used first, the canary (a secondary check) last."""
    counts = Counter(names)
    return sorted(counts, key=lambda n: (n == "canary", -counts[n], n))


def card_from_findings(
    findings: Sequence[Finding],
    *,
    choice: str | None = None,
    layers: Sequence[tuple[str, Mapping[str, Any]]] | None = None,
    scores: Sequence[Mapping[str, Any]] | None = None,
) -> JudgeCard | None:
    """The card of a run that did not record one, read from its findings' turns.

    Args:
        findings: the run's findings (None comes back when no turn was judged).
        choice: the run's ``--judge`` (``llm:qwen`` names the LLM judge's model).
        layers: the guard's layers, when known (else a guarded target runs them all).
        scores: agreement rows (None: the packaged figures).
    """
    names = [t.judge for f in findings for t in f.turns if t.judge]
    if not names:
        return None
    model = choice.removeprefix("llm:") if choice and choice.startswith("llm:") else ""
    judges = [f"llm_judge:{model}" if n == "llm_judge" and model else n for n in names]
    target = frozenset().union(*(target_components(f.target, layers) for f in findings))
    rows = packaged_agreement() if scores is None else scores
    return judge_card(_lead_first(judges), target, scores=rows)
