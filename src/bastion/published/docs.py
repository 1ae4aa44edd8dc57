"""Find the results blocks of Markdown pages and render them from their JSON.

A block is::

    <!-- results: KIND path/to/a.json [path/to/b.json ...] [key=value ...] -->
    (generated: replaced on every render)
    <!-- /results -->

Paths are relative to the page's folder. Words with ``=`` are the kind's options
(``suite=under_refusal table=category``), written after the files; the spec is split like a
shell line, so a value with spaces is quoted (``table="judge check"``).
:func:`render_text` replaces every block's body with
:func:`bastion.published.tables.render_table` of its JSON; :func:`check_docs` says
which pages differ from their rendering (the test suite runs it, so a table typed by hand,
or JSON changed without a render, fails).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bastion.core.errors import InputError
from bastion.published.tables import render_table

__all__ = ["DocTable", "check_docs", "find_tables", "render_docs", "render_text"]

_BLOCK = re.compile(
    r"(?P<open><!-- results: (?P<spec>[^>]*?) -->\n)(?P<body>.*?)(?P<close><!-- /results -->)",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class DocTable:
    """One results block: its kind, the JSON files it renders and the kind's options."""

    kind: str
    sources: tuple[Path, ...]
    options: Mapping[str, str] = field(default_factory=dict)


def _parse(spec: str, folder: Path) -> DocTable:
    try:
        parts = shlex.split(spec)
    except ValueError as exc:
        raise InputError(f"results block spec {spec!r}: {exc}") from None
    files = [p for p in parts[1:] if "=" not in p]
    if not parts or not files:  # a kind and at least one file
        raise InputError(f"results block needs a kind and a JSON file: {spec!r}")
    options = {k: v for k, _, v in (p.partition("=") for p in parts[1:] if "=" in p)}
    return DocTable(parts[0], tuple(folder / p for p in files), options)


def find_tables(text: str, folder: Path) -> list[DocTable]:
    """Every results block of a page."""
    return [_parse(m.group("spec"), folder) for m in _BLOCK.finditer(text)]


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read results JSON: {exc}") from None


def render_text(text: str, folder: Path) -> str:
    """``text`` with every results block rendered from its JSON.

    Raises:
        InputError: a block names an unknown kind or an unreadable file.
    """

    def body(match: re.Match[str]) -> str:
        table = _parse(match.group("spec"), folder)
        sources = [_load(p) for p in table.sources]
        rendered = render_table(table.kind, sources, table.options)
        return match.group("open") + rendered + match.group("close")

    return _BLOCK.sub(body, text)


def _pages(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        out += sorted(path.rglob("*.md")) if path.is_dir() else [path]
    return out


def render_docs(paths: Sequence[Path]) -> list[Path]:
    """Render every block of the Markdown pages under ``paths``; the pages changed."""
    changed = []
    for page in _pages(paths):
        old = page.read_text(encoding="utf-8")
        new = render_text(old, page.parent)
        if new != old:
            page.write_text(new, encoding="utf-8")
            changed.append(page)
    return changed


def check_docs(paths: Sequence[Path]) -> list[Path]:
    """The pages under ``paths`` whose results blocks differ from their rendering."""
    return [
        page
        for page in _pages(paths)
        if render_text(text := page.read_text(encoding="utf-8"), page.parent) != text
    ]
