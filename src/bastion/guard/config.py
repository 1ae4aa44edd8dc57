"""Guard configuration, loaded once with one precedence: defaults < file < environment < flags.

Only :func:`load_config` reads files and the environment; everything else receives the
resulting :class:`GuardConfig`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bastion.core.errors import ConfigError
from bastion.core.types import Action
from bastion.guard.normalize import NormalizeConfig

__all__ = ["ENV_PREFIX", "CombinerConfig", "GuardConfig", "LayerConfig", "load_config"]

ENV_PREFIX = "BASTION_"
_ENV_KEYS = {"POLICY": "policy", "CONTEXT": "context", "FAIL_ACTION": "fail_action"}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayerConfig(_Frozen):
    """One layer in the pipeline: its registered ``type`` and its own ``params``.

    ``timeout_s`` None runs the layer inline (for cheap, bounded layers); a number runs it
    on a worker thread and fails closed when it takes longer. ``tier`` overrides the
    plugin's cascade tier. ``act_threshold`` overrides, for this layer's verdicts, the
    combiner's act threshold; without it a layer's own calibrated ``operating_threshold``
    (if it has one) applies, else the combiner's. ``name`` is the layer's name in
    verdicts, decisions, thresholds and the audit log; without one it is the layer's own
    name, with ``_2``, ``_3``, ... appended to a repeat (two ``prompt_classifier`` layers are
    ``prompt_classifier`` and ``prompt_classifier_2``; design note 0039).
    """

    type: str
    name: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    params: dict[str, Any] = Field(default_factory=dict)
    tier: int | None = Field(default=None, ge=0)
    act_threshold: float | None = Field(default=None, ge=0, le=1)
    timeout_s: float | None = Field(default=None, gt=0)
    enabled: bool = True


class CombinerConfig(_Frozen):
    """Thresholds of the cascade combining policy (scores are probability unsafe).

    Attributes:
        act_threshold: at or above, the policy's action for the category applies.
        hard_threshold: at or above, a hard-limit category refuses and stops the cascade.
        review_logit_band: a decision whose score lies within this distance of the deciding
            layer's act threshold, in log-odds, is uncertain and asks for review (0.5: the
            odds within a factor of 1.65 of the threshold's). Log-odds, because calibrated
            thresholds sit near 1 (0.94 for the prompt classifier), where a fixed
            probability band covers almost every confident refusal.
        review_budget: the long-run share of decisions sent to review (design note 0053);
            failures and ``review: always`` categories always go, uncertain ones while
            the budget lasts. 1 sends every uncertain decision.
        escalate_low: below, and with no hard limit seen, later tiers are skipped. The
            default 0 runs the learned tier on every turn the rules did not settle: the
            rules miss most unsafe prompts outright, so a score of 0 is not "confidently
            safe" (design note 0021).
        escalate_high: at or above, later tiers are skipped (already confident).
    """

    act_threshold: float = Field(default=0.5, ge=0, le=1)
    hard_threshold: float = Field(default=0.5, ge=0, le=1)
    review_logit_band: float = Field(default=0.5, ge=0, le=5)
    review_budget: float = Field(default=0.03, ge=0, le=1)
    escalate_low: float = Field(default=0.0, ge=0, le=1)
    escalate_high: float = Field(default=0.85, ge=0, le=1)

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "review_band" in data:
            raise ValueError(
                "review_band (a probability distance) was replaced by review_logit_band "
                "(log-odds, default 0.5) and review_budget (share of traffic, default 0.03); "
                "see docs/design/0053-review-routing.md"
            )
        return data

    @model_validator(mode="after")
    def _ordered(self) -> CombinerConfig:
        if self.escalate_low > self.escalate_high:
            raise ValueError("escalate_low must not exceed escalate_high")
        return self


def _default_layers() -> list[LayerConfig]:
    """Rules, then the learned tier: the English prompt classifier for English turns and
    the multilingual classifier for every other turn, split by one language guess
    (design notes 0021, 0047)."""
    return [
        LayerConfig(type="rules"),
        LayerConfig(type="prompt_classifier", timeout_s=5, params={"languages": "english"}),
        LayerConfig(type="multilingual_classifier", timeout_s=5),
    ]


class GuardConfig(_Frozen):
    """Everything the guard needs besides the policy itself.

    Attributes:
        policy: policy file; None uses the packaged default.
        context: default deployment context when a check names none.
        fail_action: action when a layer fails or times out (fail closed).
        max_input_chars: longer conversations are decided by ``oversize_action``.
        oversize_action: action for input over ``max_input_chars``.
        layers: the pipeline, in cascade order.
        combiner: thresholds of the combining policy.
        normalize: normalisation limits.
    """

    policy: Path | None = None
    context: str = "general"
    fail_action: Action = Action.REFUSE
    max_input_chars: int = Field(default=200_000, gt=0)
    oversize_action: Action = Action.REFUSE
    layers: list[LayerConfig] = Field(default_factory=_default_layers)
    combiner: CombinerConfig = Field(default_factory=CombinerConfig)
    normalize: NormalizeConfig = Field(default_factory=NormalizeConfig)

    @model_validator(mode="after")
    def _unique_names(self) -> GuardConfig:
        named = [layer.name for layer in self.layers if layer.enabled and layer.name]
        repeated = sorted({n for n in named if named.count(n) > 1})
        if repeated:
            raise ValueError(f"layer names must be unique, repeated: {', '.join(repeated)}")
        return self


def load_config(
    file: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> GuardConfig:
    """Build the configuration: defaults < YAML ``file`` < ``environ`` < ``overrides``.

    ``environ`` is read for ``BASTION_POLICY``, ``BASTION_CONTEXT`` and
    ``BASTION_FAIL_ACTION`` (and ``BASTION_CONFIG`` names the file when ``file`` is None).
    Pass ``os.environ`` explicitly; nothing else in bastion reads the environment.

    Raises:
        ConfigError: the file is unreadable or a value is invalid.
    """
    env = environ or {}
    path = file if file is not None else env.get(f"{ENV_PREFIX}CONFIG")
    data: dict[str, Any] = _read_file(Path(path)) if path else {}
    for key, field in _ENV_KEYS.items():
        if f"{ENV_PREFIX}{key}" in env:
            data[field] = env[f"{ENV_PREFIX}{key}"]
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return GuardConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid configuration at {where}: {first['msg']}") from None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: configuration must be a YAML mapping")
    return data
