"""A small, explicit plugin registry: built per use, never a module global.

Plugins are marked with the :func:`plugin` decorator (metadata only, no side effect) and
collected into a :class:`Registry` by the code that needs them, together with the
third-party plugins published under an entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from bastion.core.errors import DuplicatePluginError, PluginError, UnknownPluginError

__all__ = ["PLUGIN_ATTR", "Registry", "plugin"]

T = TypeVar("T")
C = TypeVar("C")
PLUGIN_ATTR = "__bastion_plugin__"


def plugin(entry: object) -> Callable[[C], C]:
    """Attach plugin metadata ``entry`` to a class; a registry reads it later."""

    def mark(cls: C) -> C:
        setattr(cls, PLUGIN_ATTR, entry)
        return cls

    return mark


class Registry(Generic[T]):
    """Name -> plugin entry for one plugin kind. Duplicate names raise."""

    def __init__(self, kind: str, *, group: str | None = None) -> None:
        self.kind = kind
        self.group = group
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> None:
        """Add ``entry`` under ``name``."""
        if name in self._entries:
            raise DuplicatePluginError(self.kind, name)
        self._entries[name] = entry

    def get(self, name: str) -> T:
        """The entry registered under ``name``."""
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownPluginError(self.kind, name, sorted(self._entries)) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def __iter__(self) -> Iterator[T]:
        return iter(self._entries[name] for name in self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def add_marked(self, classes: Iterable[type], name_of: Callable[[T], str]) -> None:
        """Register the metadata that :func:`plugin` attached to each class."""
        for cls in classes:
            entry = getattr(cls, PLUGIN_ATTR, None)
            if entry is None:
                raise PluginError(f"{cls.__name__} is not marked as a {self.kind} plugin")
            self.register(name_of(entry), entry)

    def load_entry_points(self, name_of: Callable[[T], str]) -> None:
        """Register plugins that installed packages publish under ``self.group``.

        An entry point may name a marked class or the entry object itself.
        """
        if self.group is None:
            return
        for point in entry_points(group=self.group):
            loaded = point.load()
            entry = getattr(loaded, PLUGIN_ATTR, loaded)
            self.register(name_of(entry), entry)
