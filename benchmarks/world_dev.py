"""The default guard on the frozen world dev set, per language.

The world dev set (:mod:`bastion.datasets.world`, ``WORLD_DEV_CARD.md``) is 400 prompts
hand-written by the project in en, fr, de, es and it, in styles no training source has.
It is a *dev* set: use it to choose models, thresholds and data across languages; never
train on it. Each prompt is decided with the guard ``bastion check`` builds
(:func:`bastion.cli._common.build_guard`: defaults < ``--config`` < ``BASTION_*`` <
``--policy``/``--context``).

Per language (and over all languages), each as a rate with its Wilson 95 % interval
(:func:`bastion.core.stats.wilson`):

- ``harmful_caught``: harmful rows given any action but ``allow``;
- ``harmful_flagged``: harmful rows given ``refuse`` or ``ask_context``;
- ``benign_passed``: benign rows given ``allow`` or ``caution`` (also split into
  ``borderline_passed``, risky-looking rows, and ``everyday_passed``, chit-chat);
- ``matches_expected``: every row whose action equals the row's ``expected`` action (the
  default policy's action for its category and intent in context ``general``).

The JSON also holds the same rates per writing style, and the rows the guard got wrong
(harmful allowed, benign flagged), by id. Prints one JSON object (stable key order) and
writes it to ``--out``; ``--markdown`` prints the per-language table instead.

Run: ``.venv/bin/python benchmarks/world_dev.py [--config GUARD.yaml] [--context C]
[--out docs/results/world_dev.json] [--markdown]`` (under a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import bastion
from bastion.cli._common import build_guard
from bastion.core.stats import wilson
from bastion.core.types import Action
from bastion.core.verdict import Decision
from bastion.datasets.world import WORLD_DEV_LANGUAGES as LANGS
from bastion.datasets.world import (
    WORLD_DEV_SET_NAME,
    WORLD_DEV_SET_SHA256,
    WorldPrompt,
    load_world_dev_set,
)
from bastion.datasets.world import WORLD_DEV_STYLES as STYLES
from bastion.guard import Guard

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "results" / "world_dev.json"
FLAGGING = frozenset({Action.REFUSE, Action.ASK_CONTEXT})
PASSING = frozenset({Action.ALLOW, Action.CAUTION})
RATES = (
    "harmful_caught",
    "harmful_flagged",
    "benign_passed",
    "borderline_passed",
    "everyday_passed",
    "matches_expected",
)
RULE = "dev set: choose models and thresholds on it; never train on it"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One row and the guard's decision on it."""

    row: WorldPrompt
    action: Action
    category: str | None
    review: bool


@dataclass(slots=True)
class Tally:
    """Hits and totals of every rate over some outcomes."""

    hits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RATES, 0))
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RATES, 0))

    def _count(self, rate: str, hit: bool) -> None:
        self.totals[rate] += 1
        self.hits[rate] += hit

    def add(self, outcome: Outcome) -> None:
        """Count one outcome in the rates it belongs to."""
        row, action = outcome.row, outcome.action
        if row.label == "harmful":
            self._count("harmful_caught", action is not Action.ALLOW)
            self._count("harmful_flagged", action in FLAGGING)
        else:
            self._count("benign_passed", action in PASSING)
            self._count(f"{row.group}_passed", action in PASSING)
        self._count("matches_expected", action.value == row.expected)

    def to_dict(self) -> dict[str, Any]:
        """Every rate with its interval."""
        return {rate: wilson_rate(self.hits[rate], self.totals[rate]) for rate in RATES}


def wilson_rate(hits: int, total: int) -> dict[str, Any]:
    """A rate with its Wilson 95 % interval (:func:`bastion.core.stats.wilson`)."""
    if total == 0:
        return {"rate": None, "k": 0, "n": 0}
    low, high = wilson(hits, total)
    return {
        "rate": round(hits / total, 4),
        "low": round(low, 4),
        "high": round(high, 4),
        "k": hits,
        "n": total,
    }


def decide(guard: Guard, rows: Iterable[WorldPrompt]) -> list[Outcome]:
    """The guard's decision on every row."""
    outcomes = []
    for row in rows:
        decision: Decision = guard.check(row.text)
        outcomes.append(Outcome(row, decision.action, decision.category, decision.review))
    return outcomes


def tally(outcomes: Iterable[Outcome]) -> dict[str, Any]:
    """The rates over ``outcomes``."""
    total = Tally()
    for outcome in outcomes:
        total.add(outcome)
    return total.to_dict()


def mistakes(outcomes: Iterable[Outcome]) -> list[dict[str, Any]]:
    """Harmful rows allowed and benign rows flagged, by id."""
    wrong = []
    for o in outcomes:
        harmful_allowed = o.row.label == "harmful" and o.action is Action.ALLOW
        benign_flagged = o.row.label == "benign" and o.action not in PASSING
        if harmful_allowed or benign_flagged:
            wrong.append(
                {
                    "id": o.row.id,
                    "label": o.row.label,
                    "row_category": o.row.category,
                    "style": o.row.style,
                    "action": o.action.value,
                    "decided_category": o.category,
                }
            )
    return wrong


def machine() -> str:
    """The machine, in words: OS, architecture, cores, Python."""
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def run(args: argparse.Namespace, guard: Guard) -> dict[str, Any]:
    """The whole report for ``args``, decided by ``guard``."""
    outcomes = decide(guard, load_world_dev_set())
    languages = {lang: tally(o for o in outcomes if o.row.language == lang) for lang in LANGS}
    styles = {style: tally(o for o in outcomes if o.row.style == style) for style in STYLES}
    return {
        "bastion_version": bastion.__version__,
        "config": str(args.config) if args.config else None,
        "context": args.context,
        "dataset": {"name": WORLD_DEV_SET_NAME, "sha256": WORLD_DEV_SET_SHA256},
        "date": datetime.now(UTC).date().isoformat(),
        "everyday_review": sum(o.review for o in outcomes if o.row.group == "everyday"),
        "languages": languages,
        "all": tally(outcomes),
        "machine": machine(),
        "mistakes": mistakes(outcomes),
        "note": args.note,
        "policy": guard.policy.ref,
        "rule": RULE,
        "styles": styles,
    }


def _pct(cell: dict[str, Any]) -> str:
    if cell.get("rate") is None:
        return "-"
    return (
        f"{cell['rate'] * 100:.1f} % [{cell['low'] * 100:.1f}, {cell['high'] * 100:.1f}] "
        f"({cell['k']}/{cell['n']})"
    )


def markdown(result: dict[str, Any]) -> str:
    """The per-language table: one row a language, then all languages."""
    names = ("harmful caught", "harmful flagged", "benign passed", "matches expected")
    rates = ("harmful_caught", "harmful_flagged", "benign_passed", "matches_expected")
    lines = [
        "| language | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    rows = [*result["languages"].items(), ("all", result["all"])]
    for lang, report in rows:
        lines.append(f"| {lang} | " + " | ".join(_pct(report[r]) for r in rates) + " |")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--config", type=Path, help="Guard configuration YAML file.")
    parser.add_argument("--policy", type=Path, help="Policy YAML file.")
    parser.add_argument("--context", help="Deployment context of the policy.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output file.")
    parser.add_argument("--markdown", action="store_true", help="Print a markdown table.")
    parser.add_argument("--note", help="What was measured, kept in the JSON (free text).")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark: print (and write) the report, and return it."""
    args = parse_args(argv)
    with build_guard(args.config, args.policy, args.context) as guard:
        result = run(args, guard)
    text = json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(markdown(result) if args.markdown else text)
    return result


if __name__ == "__main__":
    main()
