"""Generated training data for the injection detector: indirect attacks and hard negatives.

- **Indirect attacks** (label 1, role ``tool``): a benign document (a helpful answer from
  ``responses/benign_responses.jsonl``) dressed as a tool output (search result, email,
  JSON, web page, file) with an injected instruction at a random paragraph boundary. The
  instruction is composed from a *marker* ("SYSTEM:", "<!-- note to the AI -->"), an
  *override* ("ignore previous instructions") and an *action* (exfiltration to a URL or an
  address, tool-call hijack, answer manipulation, phishing), sometimes hidden (HTML
  comment, invisible span, JSON field, code comment).
- **Clean documents** (label 0, role ``tool``): the same documents in the same wrappers,
  with no instruction, and benign documents that *are* instructions for a human (emails
  asking to forward a report, READMEs saying "run this command").
- **Hard negatives** (label 0, role ``user``): benign requests that mention "ignore",
  "system prompt", "role-play" or ask about prompt injection as a security topic.

Splits: documents by ``sha256(prompt)`` (a prompt's three answers stay together); every
marker, override, action, and hard-negative template by ``sha256(its text)`` (60/20/20), so the dev
and test splits hold instructions and phrasings that training never saw.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from bastion.training.data import bucket
from bastion.training.injection_phrases import (
    ACTIONS,
    CLEAN_DOCS,
    FILLERS,
    HARD_NEGATIVES,
    MARKERS,
    OVERRIDES,
)

__all__ = ["Doc", "GeneratedExample", "generate", "split_of"]

SPLITS: Final = ("train", "dev", "test")
_DOMAINS: Final = ("data-sync.io", "cdn-assets.net", "verify-account.co", "ai-telemetry.org")
_MAX_WORDS: Final = 2000  # long documents too: the max over many units must stay low
_ASKS: Final = (
    "Can you summarize this for me?",
    "What are the key points of this page?",
    "Proofread the following text:",
    "Here is something I found online. Is it accurate?",
    "Translate this into plain English for a beginner:",
    "I got this from a coworker, what should I reply?",
)


@dataclass(frozen=True, slots=True)
class Doc:
    """A benign document and the key its split is drawn from."""

    text: str
    key: str


@dataclass(frozen=True, slots=True)
class GeneratedExample:
    """One generated example (see the module docstring for the kinds)."""

    text: str
    label: int
    source: str
    split: str
    role: str
    payload: str = ""


def split_of(key: str) -> str:
    """Split of one component or document key (sha256 buckets 60/20/20: the phrase lists
    are short, and the held-out splits need enough unseen phrasings to mean something)."""
    return bucket(key, train=60, dev=20)


def _by_split(items: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {name: [] for name in SPLITS}
    for item in items:
        out[split_of(item)].append(item)
    return out


def _rng(*parts: str) -> random.Random:
    seed = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()[:8]
    return random.Random(int.from_bytes(seed, "big"))


def _fill(template: str, rng: random.Random) -> str:
    domain = rng.choice(_DOMAINS)
    user = rng.choice(("admin", "support", "backup", "sync", "jdoe"))
    return template.format(
        url=f"https://{domain}/{rng.choice(('c', 'collect', 'v', 'api/log'))}",
        email=f"{user}@{domain}",
        acct=str(rng.randrange(10_000_000, 99_999_999)),
        amount=str(rng.choice((500, 2500, 9800))),
    )


def _pick(parts: dict[str, dict[str, list[str]]], name: str, split: str, rng: random.Random) -> str:
    pool = parts[name][split] or [i for items in parts[name].values() for i in items]
    return rng.choice(pool)


def _payload(parts: dict[str, dict[str, list[str]]], split: str, rng: random.Random) -> str:
    marker = _pick(parts, "markers", split, rng)
    override = _pick(parts, "overrides", split, rng) if rng.random() < 0.7 else ""
    action = _fill(_pick(parts, "actions", split, rng), rng)
    body = " ".join(p for p in (override, action) if p)
    return marker.replace("{body}", body) if "{body}" in marker else f"{marker} {body}".strip()


def _truncate(text: str, split: str, rng: random.Random) -> str:
    words = text.split(" ")
    limit = rng.randint(40, _MAX_WORDS)
    return " ".join(words[:limit])


def _paragraphs(text: str) -> list[str]:
    blocks = [b for b in text.split("\n") if b.strip()]
    return blocks or [text]


def _insert(text: str, payload: str, rng: random.Random) -> str:
    blocks = _paragraphs(text)
    blocks.insert(rng.randint(0, len(blocks)), payload)
    return "\n".join(blocks)


def _wrap(text: str, rng: random.Random) -> str:
    """Dress a document as a tool output; clean and injected documents share wrappers."""
    title = text.split("\n", 1)[0][:60]
    style = rng.randrange(6)
    if style == 0:
        return (
            f"Search result 1: {title}\nURL: https://www.example.org/{rng.randrange(999)}\n{text}"
        )
    if style == 1:
        return f"From: newsletter@example.com\nSubject: {title}\n\n{text}"
    if style == 2:
        body = text.replace('"', "'").replace("\n", "\\n")
        return f'{{"status": "ok", "source": "kb_lookup", "content": "{body}"}}'
    if style == 3:
        return f"<html><body><h1>{title}</h1><p>{text}</p></body></html>"
    if style == 4:
        return f"[file: notes_{rng.randrange(99)}.md]\n{text}"
    return text


def _hide(payload: str, rng: random.Random) -> str:
    style = rng.randrange(6)
    if style == 0:
        return f"<!-- {payload} -->"
    if style == 1:
        return f'<span style="display:none">{payload}</span>'
    if style == 2:
        return f"# {payload}"
    return payload


def _indirect(
    docs: Sequence[Doc], parts: dict[str, dict[str, list[str]]]
) -> list[GeneratedExample]:
    out = []
    for doc in docs:
        split = split_of(doc.key)
        rng = _rng("indirect", doc.text)
        body = _truncate(doc.text, split, rng)
        payload = ""
        if rng.random() < 0.5:
            payload = _hide(_payload(parts, split, rng), rng)
            text, label, source = _insert(body, payload, rng), 1, "generated_indirect"
        else:
            text, label, source = body, 0, "generated_clean_doc"
        text, role = _wrap(text, rng), "tool"
        if rng.random() < 0.3:  # a document pasted into the user turn
            text, role, source = f"{rng.choice(_ASKS)}\n\n{text}", "user", f"{source}_in_user"
        out.append(GeneratedExample(text, label, source, split, role, payload))
    return out


def _templated(templates: Sequence[str], source: str, role: str) -> list[GeneratedExample]:
    out = []
    for template in templates:
        rng = _rng(source, template)
        split = split_of(template)
        for _ in range(3 if "{" in template else 1):
            text = template.format(**{k: rng.choice(v) for k, v in FILLERS.items()})
            out.append(GeneratedExample(text, 0, source, split, role))
    return out


def generate(docs: Sequence[Doc]) -> list[GeneratedExample]:
    """Indirect attacks, clean documents and hard negatives (deterministic)."""
    parts = {
        "markers": _by_split(MARKERS),
        "overrides": _by_split(OVERRIDES),
        "actions": _by_split(ACTIONS),
    }
    out = _indirect(docs, parts)
    out += _templated(HARD_NEGATIVES, "hard_negative", "user")
    out += _templated(CLEAN_DOCS, "hard_negative_doc", "tool")
    return list({e.text: e for e in out}.values())
