"""Preference pairs for the safety reward model: sources, pair construction, splits.

Every example is ``(prompt, chosen, rejected)``. Sources (shared paths are relative to the
shared data folder) and the *group* each is reported under:

- ``hh`` (group ``hh``): ``preferences/hh_harmless_pairs.jsonl``, human harmlessness
  preferences. The prompt is the last Human turn, optionally preceded by the earlier
  dialogue; chosen/rejected are the final Assistant turns. Noisy by nature.
- ``refuse_harmful`` (group ``refusal_vs_compliance``): harmful prompts from
  ``prompts/harmful.jsonl`` with a harmful completion in the generated-responses file;
  chosen = a refusal from :mod:`bastion.datasets.refusals`, rejected = the completion.
- ``help_benign`` (group ``helpful_vs_refusal``): ``responses/benign_responses.jsonl``
  (and helpful generated answers to benign prompts); chosen = the helpful answer,
  rejected = a needless refusal of the same prompt. ``hedge_benign``: the first answer
  over a partial refusal that keeps only a fragment of it (``refusals.make_partial``).
- ``contrast_safe`` / ``contrast_unsafe``: the contrast set's ``dev`` pairs (safe
  look-alikes: helpful answer over refusal; unsafe twins: refusal over compliance), where
  the generated file has a response for the prompt.
- ``contrast_lookalike`` and ``harm_vs_benign`` (group ``prompt_sensitivity``): one reply
  compared across two prompts — a refusal fits the unsafe prompt better, a compliant
  opening fits the safe one better — for contrast pairs and for shared harmful/benign
  prompts (see :func:`lookalike_examples`).
- ``pyrit`` (group ``pyrit_ood``): human-scored assistant responses shipped in ``pyrit``
  (``scorer_evals/objective``): for one objective, a response humans scored as *not*
  achieving the harmful objective over one that did. **Evaluation only**, never trained
  on: real refusals and real compliance from other models, an out-of-distribution check.

Refusal texts come from :class:`~bastion.training.reward_inputs.Refusals`: templates,
policy-grounded refusals (the text ``bastion export`` writes) and bare one-liners, drawn
the same way for the chosen refusals of harmful prompts and the rejected needless refusals
of harmless ones, so no wording is good or bad in itself: only the prompt decides.

Splits are hashed so both responses of a prompt land together: shared prompts by
:func:`bastion.training.data.bucket` of the prompt text (the prompt classifier's split),
hh pairs by their last Human turn, pyrit by objective, contrast pairs by
``sha256(pair id)`` 70/30 train/dev as in :mod:`bastion.training.data`.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bastion.core.errors import InputError
from bastion.datasets import load_contrast_set
from bastion.training.data import HARMFUL_CATEGORY_MAP, bucket
from bastion.training.reward_inputs import (
    GROUPS,
    SOURCES,
    TEMPLATE_REFUSALS,
    Generated,
    PreferenceExample,
    RefusalKit,
    Refusals,
    Refuser,
    load_generated,
    read_jsonl,
)
from bastion.training.reward_prompts import (
    harm_examples,
    lookalike_examples,
    pyrit_examples,
)

__all__ = [
    "GROUPS",
    "SOURCES",
    "Generated",
    "PreferenceExample",
    "RefusalKit",
    "Refusals",
    "Refuser",
    "RewardData",
    "load_generated",
    "load_preferences",
    "parse_dialogue",
]

_HUMAN, _ASSISTANT = "\n\nHuman:", "\n\nAssistant:"
_CONTEXT_CHARS: Final = 600


@dataclass(frozen=True, slots=True)
class RewardData:
    """What to read and how to make the synthetic sides of pairs.

    Attributes:
        shared_data: the shared data folder.
        kit: the refusal, hedge and compliance makers.
        generated: the generated-responses file (None: no generated pairs).
        hh_context: fold earlier hh-rlhf turns into the prompt text.
        pyrit_dir: pyrit's ``scorer_evals/objective`` folder (None: no OOD pairs).
        policy_refusals: category -> policy-grounded refusal.
    """

    shared_data: Path
    kit: RefusalKit
    generated: Path | None = None
    hh_context: bool = True
    pyrit_dir: Path | None = None
    policy_refusals: Mapping[str, str] = field(default_factory=dict)


def parse_dialogue(text: str) -> tuple[str, str, str]:
    """Split an hh-rlhf dialogue into ``(earlier turns, last Human turn, last reply)``.

    Raises:
        InputError: the text has no ``Human:`` turn followed by an ``Assistant:`` turn.
    """
    cut = text.rfind(_ASSISTANT)
    human = text.rfind(_HUMAN, 0, cut)
    if cut < 0 or human < 0:
        raise InputError("not an hh dialogue: needs a Human turn and an Assistant reply")
    reply = text[cut + len(_ASSISTANT) :].strip()
    last = text[human + len(_HUMAN) : cut].strip()
    return text[:human].strip(), last, reply


def _hh_prompt(context: str, last: str, with_context: bool) -> str:
    # The question comes first: the encoder reads 256 word pieces from the start, so a
    # long history must not push the question itself out of view.
    if not with_context or not context:
        return last
    return f"{last}\n\n(earlier in the conversation: {context[-_CONTEXT_CHARS:]})"


def hh_examples(root: Path, *, with_context: bool = True) -> list[PreferenceExample]:
    """The human harmlessness pairs (pairs with different dialogue prefixes are dropped)."""
    out = []
    for row in read_jsonl(root / SOURCES["hh"]):
        ctx, last, chosen = parse_dialogue(str(row["chosen"]))
        ctx_r, last_r, rejected = parse_dialogue(str(row["rejected"]))
        if (ctx, last) != (ctx_r, last_r) or chosen == rejected or not chosen or not rejected:
            continue
        split = bucket(last)  # the question, as for every other source
        out.append(
            PreferenceExample(_hh_prompt(ctx, last, with_context), chosen, rejected, "hh", split)
        )
    return out


@dataclass(frozen=True, slots=True)
class _Prompt:
    text: str
    split: str
    source: str
    category: str | None = None
    refusals: int = 1  # needless refusals paired with each answer


def _refuse_pairs(
    prompt: _Prompt, generated: Generated, refuse: Refusals
) -> list[PreferenceExample]:
    """A refusal over each harmful completion of ``prompt`` (templates and real ones), and
    over the completion's opening alone (see :func:`short_reply`)."""
    out, text_of = [], prompt.text
    for k, text in enumerate(generated.compliance.get(text_of, [])):
        for j in range(TEMPLATE_REFUSALS + 1):
            chosen = refuse(text_of, k * (TEMPLATE_REFUSALS + 1) + j, prompt.category)
            bad = short_reply(text) if j == TEMPLATE_REFUSALS else text
            out.append(
                PreferenceExample(text_of, chosen, bad, _short(prompt, bad, text), prompt.split)
            )
        for real in generated.refusals.get(text_of, []):
            out.append(PreferenceExample(text_of, real, text, "model_refusal", prompt.split))
    return out


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
SHORT_CHARS: Final = (100, 320)


def short_reply(text: str) -> str:
    """The opening sentences of a reply, at least 100 and at most 320 characters.

    Generated answers and completions run to 120 tokens while refusals are a sentence or
    three, so length alone would separate them; pairing short openings too keeps length
    from deciding, and teaches the reward that a terse answer still beats a needless
    refusal (and a terse compliance still loses to a refusal).
    """
    low, high = SHORT_CHARS
    out = ""
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        out = f"{out} {sentence}".strip()
        if len(out) >= low:
            break
    return out if len(out) <= high else out[:high].rsplit(" ", 1)[0] + "..."


def _short(prompt: _Prompt, reply: str, full: str) -> str:
    """The source of a pair: ``<source>_short`` when ``reply`` was shortened."""
    keep = reply == full or prompt.source.startswith("contrast")
    return prompt.source if keep else f"{prompt.source}_short"


def _help_pairs(
    prompt: _Prompt, answers: list[str], generated: Generated, refuse: Refusals
) -> list[PreferenceExample]:
    """Each helpful answer over a needless refusal (template and real); one over a hedge."""
    out, split = [], prompt.split
    for k, text in enumerate(answers):
        for j in range(prompt.refusals):
            no = refuse(prompt.text, k * prompt.refusals + j, prompt.category)
            out.append(PreferenceExample(prompt.text, text, no, prompt.source, split))
        for real in generated.over_refusals.get(prompt.text, []):
            out.append(PreferenceExample(prompt.text, text, real, "model_over_refusal", split))
    if answers:
        first, short = answers[0], short_reply(answers[0])
        no = refuse(prompt.text, len(answers) * prompt.refusals, prompt.category)
        out.append(PreferenceExample(prompt.text, short, no, _short(prompt, short, first), split))
        hedged = refuse.hedged(prompt.text, first)
        source = prompt.source if prompt.source.startswith("contrast") else "hedge_benign"
        if hedged is not None:
            out.append(PreferenceExample(prompt.text, first, hedged, source, split))
    return out


def refusal_examples(root: Path, generated: Generated, refuse: Refusals) -> list[PreferenceExample]:
    """Harmful prompt: refusals over each generated harmful completion."""
    out = []
    for row in read_jsonl(root / SOURCES["harmful"]):
        text = str(row["text"]).strip()
        category = HARMFUL_CATEGORY_MAP.get(str(row.get("category") or ""))
        out += _refuse_pairs(
            _Prompt(text, bucket(text), "refuse_harmful", category), generated, refuse
        )
    return out


def helpful_examples(root: Path, generated: Generated, refuse: Refusals) -> list[PreferenceExample]:
    """Benign prompt: each helpful answer over a needless refusal of the same prompt."""
    answers: dict[str, list[str]] = defaultdict(list)
    for row in read_jsonl(root / SOURCES["benign_responses"]):
        answers[str(row["prompt"]).strip()].append(str(row["text"]))
    for row in read_jsonl(root / SOURCES["benign"]):
        prompt = str(row["text"]).strip()
        answers[prompt].extend(generated.helpful.get(prompt, []))
    out = []
    for text, texts in answers.items():
        out += _help_pairs(_Prompt(text, bucket(text), "help_benign"), texts, generated, refuse)
    return out


def contrast_examples(generated: Generated, refuse: Refusals) -> list[PreferenceExample]:
    """Contrast ``dev`` pairs with generated responses: help the safe, refuse the unsafe."""
    out = []
    for pair in load_contrast_set("dev"):
        split = bucket(pair.id, train=70, dev=30)
        safe = _Prompt(pair.safe, split, "contrast_safe", pair.safe_topic, TEMPLATE_REFUSALS)
        out += _help_pairs(safe, generated.helpful.get(pair.safe, []), generated, refuse)
        unsafe = _Prompt(pair.unsafe, split, "contrast_unsafe", pair.unsafe_category)
        out += _refuse_pairs(unsafe, generated, refuse)
    return out


def load_preferences(data: RewardData) -> tuple[list[PreferenceExample], Generated]:
    """Every preference example, de-duplicated, in a fixed order."""
    generated = load_generated(data.generated)
    refuse = Refusals(data.kit, data.policy_refusals)
    examples = (
        hh_examples(data.shared_data, with_context=data.hh_context)
        + refusal_examples(data.shared_data, generated, refuse)
        + helpful_examples(data.shared_data, generated, refuse)
        + contrast_examples(generated, refuse)
        + lookalike_examples(refuse)
        + harm_examples(data.shared_data, refuse)
        + pyrit_examples(data.pyrit_dir)
    )
    seen: set[tuple[str, str, str, str]] = set()
    out = []
    for e in examples:
        key = (e.prompt, e.chosen, e.other_prompt, e.rejected)
        if key not in seen and (e.prompt, e.chosen) != (e.other_prompt, e.rejected):
            seen.add(key)
            out.append(e)
    return out, generated


def manifest(
    data: RewardData, examples: list[PreferenceExample], generated: Generated
) -> dict[str, Any]:
    """SHA-256 and record counts of each input file, and the pairs used per split/source."""
    files: dict[str, dict[str, Any]] = {}
    for name, rel in SOURCES.items():
        raw = (data.shared_data / rel).read_bytes()
        files[name] = {
            "path": rel,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "records": sum(1 for line in raw.splitlines() if line.strip()),
        }
    if generated.path is not None:
        raw = Path(generated.path).read_bytes()
        files["generated"] = {
            "path": f"bastion.datasets:{Path(generated.path).name}",
            "sha256": generated.sha256,
            "records": sum(1 for line in raw.splitlines() if line.strip()),
        }
    from bastion.datasets import CONTRAST_SET_SHA256

    files["contrast"] = {
        "path": "bastion.datasets:contrast_v1.jsonl (dev: trained; test: scored only)",
        "sha256": CONTRAST_SET_SHA256,
    }
    used: dict[str, int] = defaultdict(int)
    for e in examples:
        used[f"{'eval' if e.source == 'pyrit' else e.split}/{e.source}"] += 1
    return {"files": files, "used": dict(sorted(used.items()))}
