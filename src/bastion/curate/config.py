"""The curation configuration: which stages run, in which order, in which context.

Loaded once from YAML (``bastion curate --config``) or taken from the embedded default
(``default_curation.yaml``), validated, and passed down; stage options are validated by
each stage's own options model when the run is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bastion.core.errors import ConfigError
from bastion.curate.contexts import DEFAULT_CONTEXTS, CurationContext
from bastion.records.model import describe_validation

__all__ = ["CurateConfig", "StageSpec", "load_curate_config"]


class StageSpec(BaseModel):
    """One stage in the run: its registered name, on or off, and its options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    enabled: bool = True
    options: dict[str, Any] = Field(default_factory=dict)


class CurateConfig(BaseModel):
    """A curation run's configuration.

    Attributes:
        version: format version (1).
        context: the curation context to run in.
        contexts: contexts added to (or replacing) the built-in ones.
        stages: the stages, in the order they run (row stages first is cheapest: a row a
            cheap stage drops never reaches the learned ones).
        batch_size: rows handed to a stage at once (and to a worker as one task).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    context: str = "pretraining"
    contexts: dict[str, CurationContext] = Field(default_factory=dict)
    stages: tuple[StageSpec, ...]
    batch_size: int = Field(default=256, ge=1, le=65536)

    @field_validator("version")
    @classmethod
    def _known(cls, value: int) -> int:
        if value != 1:
            raise ValueError(f"curation config version {value} is not known (this bastion reads 1)")
        return value

    @field_validator("stages", mode="before")
    @classmethod
    def _short_form(cls, value: object) -> object:
        # ``- pii`` is short for ``- {name: pii}``.
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value

    def all_contexts(self) -> Mapping[str, CurationContext]:
        """Built-in contexts with this config's added or replaced ones."""
        return {**DEFAULT_CONTEXTS, **self.contexts}

    def curation_context(self, name: str | None = None) -> CurationContext:
        """The context named ``name`` (default: this config's).

        Raises:
            ConfigError: no such context.
        """
        wanted = name or self.context
        contexts = self.all_contexts()
        if wanted not in contexts:
            raise ConfigError(
                f"unknown curation context {wanted!r}; known: {', '.join(sorted(contexts))}"
            )
        return contexts[wanted]

    def enabled_stages(self) -> tuple[StageSpec, ...]:
        """The stages that run, in order."""
        return tuple(spec for spec in self.stages if spec.enabled)


def load_curate_config(path: Path | None = None) -> CurateConfig:
    """Read and validate a curation config (the embedded default when ``path`` is None).

    Raises:
        ConfigError: unreadable file, bad YAML, or a config that does not validate.
    """
    if path is None:
        text = resources.files("bastion.curate").joinpath("default_curation.yaml").read_text()
        where = "default_curation.yaml"
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read curation config: {exc}") from None
        where = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a curation config is a mapping")
    try:
        config = CurateConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {describe_validation(exc)}") from None
    config.curation_context()
    return config
