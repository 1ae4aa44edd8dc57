"""The one exception tree of bastion.

Every error the package raises on purpose derives from :class:`BastionError`, so callers
can catch the whole family with one ``except`` and still branch on the kind::

    BastionError
    ├── ConfigError              configuration that cannot be used
    │   ├── PolicyError          a policy file that fails validation
    │   └── RuleError            a rule data file that fails validation
    ├── PluginError              registry problems
    │   ├── UnknownPluginError   no plugin registered under that name
    │   └── DuplicatePluginError two plugins claim one name
    ├── InputError               input the guard or the CLI cannot read
    │   ├── BatchInputError      a bad row in a batch file (carries the line number)
    │   ├── NotFoundError        no such audit entry, review item or key (oversight; 404)
    │   └── ConflictError        already resolved or already taken (oversight; 409)
    ├── LayerError               a layer failed while checking (the guard fails closed)
    │   └── LayerTimeoutError    a layer ran past its time budget
    ├── RecordError              a record that cannot be written or read back
    ├── JudgeError               a red-team judge could not read a reply (the finding records it)
    └── UpstreamError            the gateway's upstream model could not answer (HTTP 502)

Exceptions carry the context needed to act on them (a file, a line, a layer name) as
attributes, and their message is one line a user can read without a traceback.
"""

from __future__ import annotations

__all__ = [
    "BastionError",
    "BatchInputError",
    "ConfigError",
    "DuplicatePluginError",
    "InputError",
    "JudgeError",
    "LayerError",
    "LayerTimeoutError",
    "PluginError",
    "PolicyError",
    "RecordError",
    "RuleError",
    "UnknownPluginError",
    "UpstreamError",
]


class BastionError(Exception):
    """Root of every error bastion raises on purpose."""


class ConfigError(BastionError):
    """Configuration that cannot be used (bad value, missing file, unknown key)."""


class PolicyError(ConfigError):
    """A policy that fails validation; ``source`` names the file when there is one."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class RuleError(ConfigError):
    """A rule data file that fails validation."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class PluginError(BastionError):
    """A problem with a plugin registry."""


class UnknownPluginError(PluginError, KeyError):
    """No plugin is registered under the requested name."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind, self.name, self.known = kind, name, known
        super().__init__(f"unknown {kind} {name!r}; known: {', '.join(known) or 'none'}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class DuplicatePluginError(PluginError):
    """Two plugins were registered under one name."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind, self.name = kind, name
        super().__init__(f"{kind} {name!r} is registered twice")


class InputError(BastionError):
    """Input that cannot be read or checked."""


class BatchInputError(InputError):
    """A bad row in a batch file; ``line`` is 1-based."""

    def __init__(self, message: str, *, path: str, line: int) -> None:
        self.path, self.line = path, line
        super().__init__(f"{path}:{line}: {message}")


class LayerError(BastionError):
    """A layer failed while checking a turn."""

    def __init__(self, layer: str, message: str) -> None:
        self.layer = layer
        super().__init__(f"layer {layer!r} failed: {message}")


class LayerTimeoutError(LayerError):
    """A layer ran past its time budget."""

    def __init__(self, layer: str, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        super().__init__(layer, f"timed out after {timeout_s:g} s")


class RecordError(BastionError):
    """A record that cannot be written or read back."""


class JudgeError(BastionError):
    """A red-team judge could not read a reply (e.g. an LLM judge's verdict is not JSON);
    the runner records it as the finding's error, never as a success or a failure."""


class UpstreamError(BastionError):
    """The upstream model could not answer (unreachable, error status, malformed reply).

    The gateway answers it with HTTP 502 and counts it in
    ``bastion_gateway_upstream_errors_total``; ``reason`` names the kind of failure.
    """

    def __init__(self, message: str, *, reason: str = "error") -> None:
        self.reason = reason
        super().__init__(message)
