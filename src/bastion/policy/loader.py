"""Load and validate policy files; the packaged default ships beside this module."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bastion.core.errors import PolicyError
from bastion.policy.model import Policy

__all__ = ["DEFAULT_POLICY_NAME", "default_policy_text", "load_policy", "parse_policy"]

DEFAULT_POLICY_NAME = "default_policy.yaml"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def default_policy_text() -> str:
    """The YAML text of the packaged default policy."""
    return resources.files("bastion.policy").joinpath(DEFAULT_POLICY_NAME).read_text("utf-8")


def load_policy(path: str | Path | None = None) -> Policy:
    """Load a policy file, or the packaged default when ``path`` is None.

    Raises:
        PolicyError: the file is missing, not YAML, or fails validation.
    """
    if path is None:
        return parse_policy(default_policy_text(), source="<default policy>")
    file = Path(path)
    try:
        text = file.read_text("utf-8")
    except FileNotFoundError:
        raise PolicyError("file not found", source=str(file)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read: {exc}", source=str(file)) from None
    return parse_policy(text, source=str(file))


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """Parse and validate policy YAML text."""
    try:
        data: Any = yaml.load(text, Loader=_Loader)  # a safe loader (CSafeLoader or SafeLoader)
    except yaml.YAMLError as exc:
        raise PolicyError(f"not valid YAML: {_one_line(str(exc))}", source=source) from None
    if not isinstance(data, dict):
        raise PolicyError("a policy must be a YAML mapping", source=source)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_describe(exc), source=source) from None


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "policy"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        parts.append(f"{where}: {message}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _one_line(text: str) -> str:
    return " ".join(text.split())
