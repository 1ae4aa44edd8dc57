"""Load and validate policy files; the packaged default ships beside this module."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bastion.core.errors import PolicyError
from bastion.policy.migrate import migrate_v1
from bastion.policy.model import Policy

__all__ = [
    "DEFAULT_POLICY_NAME",
    "default_policy_text",
    "describe_errors",
    "load_policy",
    "migration_notice",
    "parse_policy",
    "policy_data",
]

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
    """Parse and validate policy YAML text; a format-1 file is migrated in memory (the
    result's ``migrated_from`` is 1; :func:`migration_notice` words it for people).
    """
    data = policy_data(text, source=source)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(describe_errors(exc), source=source) from None


def policy_data(text: str, *, source: str = "<policy>") -> dict[str, Any]:
    """The format-2 mapping of policy YAML text (format 1 migrated), not yet validated."""
    try:
        data: Any = yaml.load(text, Loader=_Loader)  # a safe loader (CSafeLoader or SafeLoader)
    except yaml.YAMLError as exc:
        raise PolicyError(f"not valid YAML: {_one_line(str(exc))}", source=source) from None
    if not isinstance(data, dict):
        raise PolicyError("a policy must be a YAML mapping", source=source)
    if data.get("version") == 1:
        default = yaml.load(default_policy_text(), Loader=_Loader)
        return {**migrate_v1(data, default, source=source), "migrated_from": 1}
    return data


def migration_notice(policy: Policy, source: str) -> str | None:
    """A one-line note for people when ``policy`` was read from an older format."""
    if policy.migrated_from is None:
        return None
    return (
        f"{source}: policy format {policy.migrated_from} was migrated in memory to format 2 "
        f"(categories x intent); run `bastion policy migrate {source} --out NEW.yaml` to "
        "write the new file and review its intent rows"
    )


def describe_errors(exc: ValidationError) -> str:
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
