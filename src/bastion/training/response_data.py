"""Training data for the response classifier: sources, labels, splits, manifest.

Every example is an assistant reply with its prompt and two labels, either of which may be
unknown (``None``): ``kind`` (``refusal`` | ``partial`` | ``compliance``, or ``decline``
when the source only says "refusal or partial") and ``harmful`` (0/1).

Sources (shared paths are relative to the shared data folder):

- ``benign_responses`` (``responses/benign_responses.jsonl``): helpful answers; compliance,
  not harmful. About 1 % of them open with a refusal or a capability decline
  ("Unfortunately I cannot ...", :func:`looks_declining`): their kind is set unknown
  rather than wrongly "compliance".
- ``pyrit_refusal``: pyrit's human-labelled refusal sets (``scorer_evals/refusal_scorer``
  and ``sample/mini_refusal.csv``): score 1 = ``decline``, 0 = ``compliance``. The only
  human-labelled refusal data, so it is held out whole as split ``ood`` (evaluated, never
  trained or tuned on). pyrit also
  scores an *off-topic* answer (a benign reply to a different benign question) as a
  refusal; those rows (score 1 to an objective that also has a score-0 answer) are dropped,
  since they are not refusals in bastion's sense. Declines are not harmful; harm of the
  compliant rows is unknown (some comply with harmful objectives).
- ``pyrit_harm``: pyrit's harm-scored responses (``scorer_evals/harm``), categories that map
  onto the policy (:data:`PYRIT_CATEGORY_MAP`); harmful = mean human score >= 0.5 on its
  0..1 scale (0.5 = "significant" harm), harmless = 0; rows in between ("minimal or
  subtle") are left out; kind unknown.
- ``pyrit_objective``: ``scorer_evals/objective``: harmful = humans scored the objective
  as achieved; kind unknown.
- ``template_refusal`` / ``template_lecture`` / ``template_echo`` / ``template_partial`` /
  ``template_compliance``: project-authored replies from :mod:`bastion.datasets.refusals`:
  refusals (plain, lecturing, restating the request) and redirect-style partials to
  harmful prompts (``prompts/harmful.jsonl``), needless refusals, fragment-style partials and
  "Sure, here's ..." compliance for benign prompts with their benign answers. Not harmful.
- ``generated``: ``bastion/datasets/generated_responses_v1.jsonl`` when present (replies of
  the embedded SmolLM2 and Qwen models): its ``kind`` and ``harmful`` (harm unknown for
  replies to HarmfulQA prompts, :data:`WEAK_HARM_SOURCES`); the category of a harmful
  prompt is looked up in ``prompts/harmful.jsonl``.

Splits (except ``ood``) are hashed by *prompt* so every reply to one prompt lands in one split:
:func:`bastion.training.data.bucket` of the prompt text (70/15/15, the prompt classifier's
split for shared prompts); the generated file's own ``prompt_split`` wins where it has one.
Texts are de-duplicated by ``(prompt, reply)``; conflicting labels drop the pair.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, TypeVar

from bastion.core.errors import InputError
from bastion.datasets import refusals
from bastion.training.data import HARMFUL_CATEGORY_MAP, bucket

__all__ = [
    "DECLINE",
    "EVALS",
    "GENERATED_FILE",
    "KINDS",
    "OOD",
    "PYRIT_CATEGORY_MAP",
    "SHARED_SOURCES",
    "WEAK_HARM_SOURCES",
    "LoadedData",
    "ResponseExample",
    "generated_path",
    "load_pyrit",
    "load_response_examples",
    "looks_declining",
    "pyrit_root",
]

KINDS: Final = ("refusal", "partial", "compliance")
"""Reply kinds of the 3-way head, in head order."""

DECLINE: Final = "decline"
OOD: Final = "ood"
"""Split of rows that are only ever evaluated (pyrit's human-labelled refusal set)."""
SHARED_SOURCES: Final = {
    "benign_responses": "responses/benign_responses.jsonl",
    "harmful_prompts": "prompts/harmful.jsonl",
}
GENERATED_FILE: Final = "generated_responses_v1.jsonl"
WEAK_HARM_SOURCES: Final = frozenset({"harmfulqa"})
"""Prompt sources whose "harmful" prompts are often not harmful ("How can I use sustainable
development to improve my company's image?"): replies to them keep their kind, but their
harm label is set unknown."""
PYRIT_CATEGORY_MAP: Final = {
    "exploits": "cybersecurity",
    "cyber": "cybersecurity",
    "phishing": "cybersecurity",
    "hate_speech": "hate_harassment",
    "harassment_bullying": "hate_harassment",
    "privacy": "personal_data",
    "self_harm": "self_harm",
    "sexual": "sexual_adult",
    "sexual_content": "sexual_adult",
    "violence": "violence",
    "chemical_biological": "mass_casualty_weapons",
    "illegal_activity": "",
}
"""pyrit harm category -> policy category ("" kept without a category); others skipped."""

_T = TypeVar("_T", int, str)
_DECLINING: Final = re.compile(
    r"(i'?m sorry|i am sorry|i apologi[sz]e|sorry,|unfortunately,? i|i cannot|i can'?t|"
    r"i can not|i will not|i won'?t|i'?m (not able|unable)|i am (not able|unable)|"
    r"i do not have|i don'?t have|as an ai|i'?m just an ai|i'?m an ai|i'?m not a )",
    re.IGNORECASE,
)
_HARM_MIN: Final = 0.5
_PYRIT_PACKAGE: Final = "pyrit"
EVALS: Final = "datasets/scorer_evals"
"""pyrit's scorer-evaluation folder, inside the installed package."""
_REFUSAL_FILES: Final = (
    "refusal_scorer/refusal.csv",
    "refusal_scorer/refusal_extra.csv",
    "sample/mini_refusal.csv",
)


@dataclass(frozen=True, slots=True)
class ResponseExample:
    """One labelled reply.

    Attributes:
        prompt: the user request the reply answers.
        text: the assistant reply.
        kind: ``refusal`` | ``partial`` | ``compliance`` | ``decline`` (refusal or partial,
            which one unknown) | None (unknown).
        harmful: 1 harmful reply, 0 not harmful, None unknown.
        category: policy category of a harmful reply, when known.
        source: where it came from (see the module docstring).
        split: ``train`` | ``dev`` | ``test``.
        weight: sample weight in training.
    """

    prompt: str
    text: str
    kind: str | None
    harmful: int | None
    category: str | None
    source: str
    split: str = ""
    weight: float = 1.0

    @property
    def declines(self) -> int | None:
        """1 when the reply refuses at least in part, 0 when it complies, None unknown."""
        if self.kind is None:
            return None
        return 0 if self.kind == "compliance" else 1


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield _record(path, number, line)
    except OSError as exc:
        raise InputError(f"{path}: cannot read response data ({exc})") from exc


def _record(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}:{number}: a record must be a JSON object")
    return data


def _csv(path: Path) -> list[dict[str, str]]:
    """pyrit's CSVs start with ``#`` comment lines before the header."""
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines(True) if ln[:1] != "#"]
    except OSError as exc:
        raise InputError(f"{path}: cannot read pyrit data ({exc})") from exc
    return list(csv.DictReader(io.StringIO("".join(lines))))


def pyrit_root() -> Path | None:
    """pyrit's scorer-evaluation folder (the package is located, never imported)."""
    spec = importlib.util.find_spec(_PYRIT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))) / EVALS
    return root if root.is_dir() else None


def generated_path() -> Path:
    """Where the generated-responses file lives (it may not exist yet)."""
    return Path(__file__).resolve().parents[1] / "datasets" / GENERATED_FILE


def looks_declining(text: str) -> bool:
    """A reply that opens like a refusal or a capability decline ("Unfortunately I cannot")."""
    return _DECLINING.match(text.strip()) is not None


def _benign(root: Path) -> list[ResponseExample]:
    out = []
    for r in _jsonl(root / SHARED_SOURCES["benign_responses"]):
        kind = None if looks_declining(r["text"]) else "compliance"
        out.append(ResponseExample(r["prompt"], r["text"], kind, 0, None, "benign_responses"))
    return out


def _from_row(row: dict[str, str], source: str, **labels: Any) -> ResponseExample:
    return ResponseExample(row["objective"], row["assistant_response"], source=source, **labels)


def _pyrit_refusal(evals: Path) -> list[ResponseExample]:
    files = [evals / name for name in _REFUSAL_FILES if (evals / name).is_file()]
    rows = [row for path in files for row in _csv(path)]
    answered = {row["objective"] for row in rows if row["human_score"].strip() == "0"}
    out = []
    for row in rows:
        refused = row["human_score"].strip() == "1"
        if refused and row["objective"] in answered:
            continue  # off-topic answer that pyrit counts as a refusal
        kind, harmful = (DECLINE, 0) if refused else ("compliance", None)
        labels = {"kind": kind, "harmful": harmful, "category": None, "split": OOD}
        out.append(_from_row(row, "pyrit_refusal", **labels))
    return out


def _mean_score(row: dict[str, str]) -> float:
    scores = [float(v) for k, v in row.items() if k.startswith("human_score") and v.strip()]
    return sum(scores) / len(scores)


def _pyrit_scored(evals: Path, folder: str, source: str) -> list[ResponseExample]:
    out = []
    for path in sorted((evals / folder).glob("*.csv")):
        for row in _csv(path):
            raw = (row.get("harm_category") or "").strip().lower()
            if raw not in PYRIT_CATEGORY_MAP:
                continue
            score = _mean_score(row)
            if 0.0 < score < _HARM_MIN:
                continue  # "minimal or subtle" harm: neither clearly harmless nor harmful
            harmful = int(score >= _HARM_MIN)
            category = (PYRIT_CATEGORY_MAP[raw] or None) if harmful else None
            labels = {"kind": None, "harmful": harmful, "category": category}
            out.append(_from_row(row, source, **labels))
    return out


def load_pyrit(evals: Path) -> list[ResponseExample]:
    """pyrit's labelled responses from its ``scorer_evals`` folder (see the docstring)."""
    return (
        _pyrit_refusal(evals)
        + _pyrit_scored(evals, "harm", "pyrit_harm")
        + _pyrit_scored(evals, "objective", "pyrit_objective")
    )


def _pyrit(problems: list[str]) -> list[ResponseExample]:
    evals = pyrit_root()
    if evals is None:
        problems.append("pyrit is not installed: its human-labelled responses were skipped")
        return []
    return load_pyrit(evals)


def _harmful_prompts(root: Path) -> dict[str, str | None]:
    return {
        r["text"]: HARMFUL_CATEGORY_MAP.get(r.get("category") or "")
        for r in _jsonl(root / SHARED_SOURCES["harmful_prompts"])
    }


def _percent(key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"template:{key}".encode()).digest()[:8], "big") % 100


def _templates(root: Path) -> list[ResponseExample]:
    """Deterministic template replies (see the module docstring for the shares)."""
    out = []
    for i, prompt in enumerate(sorted(_harmful_prompts(root))):
        pct = _percent(prompt)
        if pct < 35:
            text = refusals.make_refusal(prompt, i)
            out.append(ResponseExample(prompt, text, "refusal", 0, None, "template_refusal"))
        elif pct < 50:
            text = refusals.make_partial(prompt, "", i)
            out.append(ResponseExample(prompt, text, "partial", 0, None, "template_partial"))
        elif pct < 58:
            text = refusals.make_lecture(prompt, i)
            out.append(ResponseExample(prompt, text, "refusal", 0, None, "template_lecture"))
        elif pct < 75:
            text = refusals.make_echo_refusal(prompt, i)
            out.append(ResponseExample(prompt, text, "refusal", 0, None, "template_echo"))
    for i, r in enumerate(_jsonl(root / SHARED_SOURCES["benign_responses"])):
        out += _benign_template(r["prompt"], r["text"], i)
    return out


def _benign_template(prompt: str, answer: str, seed: int) -> list[ResponseExample]:
    pct = _percent(prompt)
    if pct < 10:
        text = refusals.make_refusal(prompt, seed)
        return [ResponseExample(prompt, text, "refusal", 0, None, "template_refusal")]
    if pct < 25:
        text = refusals.make_partial(prompt, answer, seed)
        return [ResponseExample(prompt, text, "partial", 0, None, "template_partial")]
    if pct < 35:
        text = f"{refusals.make_compliance_prefix(seed)}\n\n{answer}"
        return [ResponseExample(prompt, text, "compliance", 0, None, "template_compliance")]
    return []


def _generated(path: Path, categories: dict[str, str | None]) -> list[ResponseExample]:
    out = []
    for r in _jsonl(path):
        kind = r.get("kind")
        harmful: int | None = r.get("harmful")
        if kind not in KINDS or harmful not in (0, 1) or not str(r.get("text", "")).strip():
            continue
        prompt = str(r["prompt"])
        split = str(r.get("prompt_split") or "")
        split = split if split in ("train", "dev", "test") else ""
        if r.get("prompt_source") in WEAK_HARM_SOURCES:
            harmful = None  # a weakly harmful prompt does not make its answer harmful
        category = categories.get(prompt) if harmful else None
        source = f"generated/{r.get('model', 'unknown')}"
        out.append(ResponseExample(prompt, str(r["text"]), kind, harmful, category, source, split))
    return out


def _split(example: ResponseExample) -> ResponseExample:
    return replace(example, split=example.split or bucket(example.prompt))


def _merge(a: _T | None, b: _T | None) -> tuple[bool, _T | None]:
    """Two labels of one pair: (conflict, merged label)."""
    if a is None or b is None or a == b:
        return False, a if a is not None else b
    return True, None


def _dedupe(examples: list[ResponseExample]) -> list[ResponseExample]:
    seen: dict[tuple[str, str], ResponseExample] = {}
    conflicts: set[tuple[str, str]] = set()
    for e in examples:
        key = (e.prompt.strip(), e.text.strip())
        if not key[1]:
            continue
        if key not in seen:
            seen[key] = e
            continue
        bad_kind, kind = _merge(seen[key].kind, e.kind)
        bad_harm, harm = _merge(seen[key].harmful, e.harmful)
        if bad_kind or bad_harm:
            conflicts.add(key)
        seen[key] = replace(seen[key], kind=kind, harmful=harm)
    return [e for key, e in seen.items() if key not in conflicts]


@dataclass(frozen=True, slots=True)
class LoadedData:
    """The examples plus what was (not) included, for the card."""

    examples: list[ResponseExample]
    generated: Path | None
    problems: tuple[str, ...]


def load_response_examples(
    root: Path,
    *,
    generated: Path | None = None,
    use_generated: bool = True,
    use_pyrit: bool = True,
) -> LoadedData:
    """Every example with its split; ``generated`` defaults to :func:`generated_path`.

    The generated file is included when it exists (and ``use_generated``); otherwise the
    returned :attr:`LoadedData.generated` is None and the card says so. ``use_pyrit=False``
    leaves pyrit's files out (tests).
    """
    problems: list[str] = []
    path = generated or generated_path()
    examples = _benign(root) + (_pyrit(problems) if use_pyrit else []) + _templates(root)
    used: Path | None = None
    if use_generated and path.is_file():
        examples += _generated(path, _harmful_prompts(root))
        used = path
    elif use_generated:
        problems.append(f"{path.name} not found: generated replies were not used")
    return LoadedData([_split(e) for e in _dedupe(examples)], used, tuple(problems))
