"""Lexicon macros and trigger tries: how readable rule data becomes fast regexes.

Rule patterns name word lists as ``{macro}`` (``{ask}{gap}{make}{gap}{explosive}``); the
lexicon file defines each macro as a regex fragment or a list of alternatives, and macros
may use other macros. ``{0,4}``-style quantifiers are not macros: names start with a letter
or an underscore.

Trigger stems are plain words that a group of rules needs (``bomb``, ``explosiv``); all the
stems of a book are compiled into one trie-shaped regex (``b(?:omb|ioweapon)``), which the
regex engine walks in time linear in the text, so a benign prompt costs one search. The
book applies it as a lookahead at every word start, so stems may overlap ("end my",
"my life").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["MacroError", "expand", "has_top_level_alternation", "macro_body", "trie_pattern"]

_MACRO = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_MAX_DEPTH = 8
_END = ""  # trie leaf: the stem may be followed by more word characters
_WORD_END = "$"  # trie leaf: the stem must be a whole word

_Trie = dict[str, "_Trie"]


class MacroError(ValueError):
    """A pattern names an unknown macro, or macros refer to each other in a cycle."""


def expand(pattern: str, macros: Mapping[str, str], *, _depth: int = 0) -> str:
    """Replace every ``{name}`` in ``pattern`` by its macro, recursively.

    Raises:
        MacroError: an unknown macro, or nesting deeper than the lexicon allows (a cycle).
    """
    if _depth > _MAX_DEPTH:
        raise MacroError(f"macros nest deeper than {_MAX_DEPTH} levels (a cycle?)")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in macros:
            raise MacroError(f"unknown macro {{{name}}}")
        return expand(macros[name], macros, _depth=_depth + 1)

    return _MACRO.sub(replace, pattern)


def macro_body(value: str | list[str]) -> str:
    """A lexicon entry as one non-capturing group (a list becomes an alternation)."""
    if isinstance(value, str):
        return f"(?:{value})"
    # Longest first, so that "pipe bombs" is preferred over "pipe" in an alternation.
    ordered = sorted(value, key=len, reverse=True)
    return "(?:" + "|".join(ordered) + ")"


def trie_pattern(stems: Iterable[str]) -> str:
    """One regex matching any stem (the caller anchors it), longest stem preferred.

    A stem ending in ``$`` must be a whole word (``dan$`` does not fire on "dance").
    """
    root: _Trie = {}
    for stem in stems:
        whole = stem.endswith(_WORD_END)
        node = root
        for char in stem.removesuffix(_WORD_END):
            node = node.setdefault(char, {})
        node[_WORD_END if whole else _END] = {}
    return _node_pattern(root)


def _node_pattern(node: _Trie) -> str:
    branches = [
        re.escape(char) + _node_pattern(child)
        for char, child in sorted(node.items())
        if char not in (_END, _WORD_END)
    ]
    if _WORD_END in node:
        branches.append(r"\b")
    if _END in node:
        branches.append("")
    if len(branches) == 1:
        return branches[0]
    return "(?:" + "|".join(branches) + ")"


def has_top_level_alternation(pattern: str) -> bool:
    """Whether ``pattern`` has a ``|`` outside every group and character class."""
    depth, index, in_class = 0, 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            index += 1 if pattern[index + 1 : index + 2] != "]" else 2  # "[]..." literal ]
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        index += 1
    return False
