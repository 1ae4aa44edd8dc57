"""Inputs of reward-model training: refusal texts and the generated-responses file.

- :class:`Refusals` makes the refusal side of synthetic pairs in three styles: templates
  from :mod:`bastion.datasets.refusals` (a small generic fallback when that module is
  absent), policy-grounded refusals (a category's explanation plus alternative, the text
  ``bastion export`` writes) and bare one-sentence refusals.
- :func:`load_generated` sorts the generated-responses file
  (``bastion/datasets/generated_responses_v1.jsonl``) into harmful completions, helpful
  answers, model refusals of harmful prompts and model refusals of harmless ones.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast

from bastion.core.errors import InputError

__all__ = [
    "GENERATED_NAME",
    "GROUPS",
    "SOURCES",
    "STYLES",
    "TEMPLATE_REFUSALS",
    "Complier",
    "Generated",
    "Hedger",
    "PreferenceExample",
    "RefusalKit",
    "Refusals",
    "Refuser",
    "default_generated",
    "load_generated",
    "policy_refusals",
    "read_jsonl",
    "seed_of",
]


SOURCES: Final = {
    "hh": "preferences/hh_harmless_pairs.jsonl",
    "harmful": "prompts/harmful.jsonl",
    "benign": "prompts/benign.jsonl",
    "benign_responses": "responses/benign_responses.jsonl",
}
GROUPS: Final = {
    "hh": "hh",
    "refuse_harmful": "refusal_vs_compliance",
    "contrast_unsafe": "refusal_vs_compliance",
    "model_refusal": "refusal_vs_compliance",
    "refuse_harmful_short": "refusal_vs_compliance",
    "help_benign": "helpful_vs_refusal",
    "help_benign_short": "helpful_vs_refusal",
    "hedge_benign": "helpful_vs_refusal",
    "model_over_refusal": "helpful_vs_refusal",
    "contrast_safe": "helpful_vs_refusal",
    "contrast_lookalike": "prompt_sensitivity",
    "harm_vs_benign": "prompt_sensitivity",
    "pyrit": "pyrit_ood",
}
"""Source -> the group it is reported under."""

TEMPLATE_REFUSALS: Final = 3
"""Synthetic refusals paired with each harmful completion, and with each answer to a
contrast-set look-alike (one of each style of
:class:`~bastion.training.reward_inputs.Refusals`): a few hundred generated replies still
teach every refusal style, on both sides."""


@dataclass(frozen=True, slots=True)
class PreferenceExample:
    """One preference pair.

    Attributes:
        prompt: what the user asked (text the encoder reads).
        chosen: the preferred response.
        rejected: the dispreferred response.
        source: where it came from (a key of :data:`GROUPS`).
        split: ``train`` | ``dev`` | ``test`` | ``contrast_test`` (``pyrit``: any; neither
            ``pyrit`` nor ``contrast_test`` is ever trained on).
        rejected_prompt: the prompt of the rejected side when it differs (``lookalike``
            pairs compare one reply across two prompts); None means ``prompt``.
    """

    prompt: str
    chosen: str
    rejected: str
    source: str
    split: str
    rejected_prompt: str | None = None

    @property
    def group(self) -> str:
        """The reporting group of the source."""
        return GROUPS[self.source]

    @property
    def other_prompt(self) -> str:
        """The prompt the rejected reply answers."""
        return self.prompt if self.rejected_prompt is None else self.rejected_prompt


Refuser = Callable[[str, int], str]
"""``refuse(prompt, seed)``: a refusal of ``prompt`` (e.g. ``refusals.make_refusal``)."""

Complier = Callable[[int], str]
"""``comply(seed)``: the opening of a compliant answer (``refusals.make_compliance_prefix``)."""

Hedger = Callable[[str, str, int], str]
"""``hedge(prompt, answer, seed)``: a partial refusal keeping a fragment of ``answer``
(e.g. ``refusals.make_partial``)."""


def seed_of(text: str) -> int:
    """A stable 32-bit seed from ``text`` (sha256, never Python's salted hash)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "replace")).digest()[:4], "big")


@dataclass(frozen=True, slots=True)
class Generated:
    """Generated responses keyed by prompt text.

    Attributes:
        compliance: harmful completions (or partial completions) of harmful prompts.
        helpful: harmless, non-refusing answers to benign prompts.
        refusals: model-written refusals of harmful prompts.
        over_refusals: model-written refusals of benign prompts.
        path: the file read, if any.
        sha256: of that file.
    """

    compliance: dict[str, list[str]] = field(default_factory=dict)
    helpful: dict[str, list[str]] = field(default_factory=dict)
    refusals: dict[str, list[str]] = field(default_factory=dict)
    over_refusals: dict[str, list[str]] = field(default_factory=dict)
    path: str | None = None
    sha256: str | None = None


STYLES: Final = ("template", "policy", "bare")
"""Refusal styles always available; a kit's ``extra`` refusers add more."""

_NOT_REFUSALS: Final = frozenset(
    {"medical_advice", "legal_advice", "financial_advice", "self_harm"}
)
"""Categories whose explanation is advice framing or crisis support, not a refusal: never
drawn for a prompt of unknown category."""

_SENTENCE: Final = re.compile(r"(?<=[.!?])\s")


@dataclass(frozen=True, slots=True)
class RefusalKit:
    """The text makers behind :class:`Refusals`.

    Attributes:
        refuse: a full refusal (``refusals.make_refusal``).
        hedge: a partial refusal keeping a fragment of an answer (``make_partial``).
        comply: the opening of a compliant answer (``make_compliance_prefix``).
        extra: more refusal styles (``make_echo_refusal``, ``make_lecture``).
    """

    refuse: Refuser
    hedge: Hedger | None = None
    comply: Complier | None = None
    extra: tuple[Refuser, ...] = ()

    @classmethod
    def default(cls) -> RefusalKit:
        """The makers of :mod:`bastion.datasets.refusals`, or a generic fallback."""
        try:
            module = importlib.import_module("bastion.datasets.refusals")
        except ImportError:
            return cls(_fallback_refusal)
        extra = (getattr(module, n, None) for n in ("make_echo_refusal", "make_lecture"))
        return cls(
            cast("Refuser", module.make_refusal),
            cast("Hedger", module.make_partial),
            cast("Complier", module.make_compliance_prefix),
            tuple(cast("Refuser", f) for f in extra if f is not None),
        )


class Refusals:
    """Refusal texts for synthetic pairs, in styles used in turn by seed.

    - ``template``: ``kit.refuse(prompt, seed)`` (opening, reason, alternative);
    - ``policy``: a category's explanation plus alternative, the text ``bastion export``
      writes — the prompt's own category when known, else one drawn by hash;
    - ``bare``: the first sentence of a template refusal ("I can't help with that.");
    - one style per ``kit.extra`` refuser (echoing the request, lecturing).

    The same generator makes the *chosen* refusals of harmful prompts and the *rejected*
    needless refusals of harmless ones, so every style appears on both sides equally
    often and the reward cannot learn "this wording is good" or "bad": only the prompt
    can decide whether refusing is right.
    """

    def __init__(self, kit: RefusalKit, policy: Mapping[str, str]) -> None:
        self._kit, self._policy = kit, dict(policy)
        self._styles = len(STYLES) + len(kit.extra)
        self._pool = sorted(name for name in self._policy if name not in _NOT_REFUSALS)

    def compliance(self, prompt: str, k: int) -> str:
        """The opening of a compliant answer ("Sure, here's how ..."), for ``prompt``."""
        seed = seed_of(prompt) + k
        if self._kit.comply is not None:
            return self._kit.comply(seed)
        return _FALLBACK_COMPLY[seed % len(_FALLBACK_COMPLY)]

    def hedged(self, prompt: str, answer: str) -> str | None:
        """A partial refusal of a harmless prompt (None without a hedger)."""
        hedge = self._kit.hedge
        return None if hedge is None else hedge(prompt, answer, seed_of(prompt))

    def __call__(self, prompt: str, k: int, category: str | None = None) -> str:
        """The ``k``-th refusal of ``prompt``."""
        seed = seed_of(prompt) + k
        style = seed % self._styles
        if style >= len(STYLES):
            return self._kit.extra[style - len(STYLES)](prompt, seed)
        if STYLES[style] == "policy" and self._pool:
            name = category if category in self._policy else None
            return self._policy[name or self._pool[(seed // self._styles) % len(self._pool)]]
        text = self._kit.refuse(prompt, seed)
        return _SENTENCE.split(text, maxsplit=1)[0] if STYLES[style] == "bare" else text


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield _json_object(line, path, number)
    except OSError as exc:
        raise InputError(f"{path}: cannot read training data ({exc})") from exc


def _json_object(line: str, path: Path, number: int) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise InputError(f"{path}:{number}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}:{number}: expected a JSON object")
    return data


_TRUE: Final = frozenset({"1", "true", "harmful", "unsafe"})
_FALSE: Final = frozenset({"0", "false", "benign", "safe"})


def _flag(value: object) -> bool | None:
    """A label written as 1/0, true/false or harmful/benign; None when it is neither."""
    text = str(value).strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def load_generated(path: Path | None) -> Generated:
    """Read the generated-responses file (fields ``prompt``, ``prompt_label``, ``text``,
    ``kind``, ``harmful``; labels as 1/0, booleans or words); a missing path gives an
    empty :class:`Generated`. Harmful replies to unsafe prompts are compliance; harmless,
    non-refusing replies to safe prompts are helpful answers; the rest is not used."""
    if path is None or not path.exists():
        return Generated()
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in read_jsonl(path):
        prompt, text = str(row.get("prompt", "")).strip(), str(row.get("text", "")).strip()
        where = _bin(row)
        if prompt and text and where is not None:
            found[where][prompt].append(text)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    bins = {name: dict(found[name]) for name in _BINS}
    return Generated(**bins, path=str(path), sha256=digest)


_BINS: Final = ("compliance", "helpful", "refusals", "over_refusals")


def _bin(row: dict[str, Any]) -> str | None:
    """Which :class:`Generated` field a record belongs in (None: not used)."""
    unsafe, harmful = _flag(row.get("prompt_label")), _flag(row.get("harmful"))
    kind = str(row.get("kind", "")).strip().lower()
    if unsafe is True:
        return "compliance" if harmful is True else "refusals" if kind == "refusal" else None
    if unsafe is False and harmful is False:  # a partial answer to a safe prompt is a hedge
        return "over_refusals" if kind in ("refusal", "partial") else "helpful"
    return None


_FALLBACK_CORE: Final = (
    "I'm sorry, but I can't help with that.",
    "I can't help with that request.",
    "Sorry, I'm not able to assist with this.",
    "I won't be able to help with that.",
    "I'm not able to provide that.",
    "That's not something I can help with, sorry.",
    "I'm afraid I can't do that.",
    "I have to decline this one.",
    "Unfortunately, I can't assist with {topic}.",
    "I can't help with a request like {topic}.",
)
_FALLBACK_CLOSE: Final = (
    "",
    " Is there something else I can help you with?",
    " If you have another question, I'm happy to help.",
    " I'd be glad to help with something else.",
    " Let me know if there's anything else you need.",
)


def _fallback_refusal(prompt: str, seed: int) -> str:
    """A generic refusal; used only when :mod:`bastion.datasets.refusals` is missing."""
    core = _FALLBACK_CORE[seed % len(_FALLBACK_CORE)]
    close = _FALLBACK_CLOSE[(seed // len(_FALLBACK_CORE)) % len(_FALLBACK_CLOSE)]
    topic = " ".join(prompt.split()[:8]).rstrip("?.!").lower() or "that"
    return core.format(topic=f'"{topic}"' if "{topic}" in core else "") + close


_FALLBACK_COMPLY: Final = (
    "Sure, here's how you can do it.",
    "Of course. Here are the steps:",
    "Absolutely, here's a detailed guide.",
    "Here's how to do that:",
)


GENERATED_NAME: Final = "generated_responses_v1.jsonl"


def policy_refusals() -> dict[str, str]:
    """Category -> the policy-grounded refusal of the packaged policy (categories that
    offer an alternative)."""
    from bastion.policy import load_policy
    from bastion.shaping.from_records import policy_refusal

    return {
        name: policy_refusal(spec.explanation, spec.alternative)
        for name, spec in sorted(load_policy().lookup.items())
        if spec.alternative
    }


def default_generated() -> Path | None:
    """The packaged generated-responses file (``bastion/datasets``), if present."""
    from importlib import resources

    path = Path(str(resources.files("bastion.datasets").joinpath(GENERATED_NAME)))
    return path if path.is_file() else None
