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

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "ENV_PREFIX",
    "FAIL_OPEN_ACTIONS",
    "CombinerConfig",
    "GuardConfig",
    "LayerConfig",
    "load_config",
]

ENV_PREFIX = "BASTION_"
_ENV_KEYS = {"POLICY": "policy", "CONTEXT": "context", "FAIL_ACTION": "fail_action"}
DEFAULT_TIMEOUT_S = 5.0
"""The deadline of a layer whose configuration sets no ``timeout_s``."""
FAIL_OPEN_ACTIONS = frozenset({Action.ALLOW, Action.CAUTION})
"""Actions that answer a turn nobody could check: as a ``fail_action`` or an
``oversize_action`` they fail open, so they need ``acknowledge_fail_open: true``."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayerConfig(_Frozen):
    """One layer in the pipeline: its registered ``type`` and its own ``params``.

    ``timeout_s`` is the layer's deadline: past it, its verdict is an error and the guard
    fails closed. A layer given one runs on a worker thread. Without one the guard's
    ``default_timeout_s`` applies: a tier-0 layer (cheap and bounded by design) then runs
    inline and a verdict that arrives past the deadline counts as a timeout; any other
    layer runs on a worker thread (design note 0054). ``tier`` overrides the
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
        fail_action: action when a layer fails or times out (fail closed). ``allow`` or
            ``caution`` fail open and need ``acknowledge_fail_open``.
        max_input_chars: longer conversations are decided by ``oversize_action``.
        oversize_action: action for input over ``max_input_chars`` (``allow`` or
            ``caution`` need ``acknowledge_fail_open``).
        acknowledge_fail_open: the operator's written consent that turns nobody could
            check are answered; the guard then logs a warning at start-up and the
            gateway's ``/readyz`` lists it (see :attr:`fail_open_warnings`).
        default_timeout_s: the deadline of every layer that sets no ``timeout_s``.
        layers: the pipeline, in cascade order.
        combiner: thresholds of the combining policy.
        normalize: normalisation limits.
    """

    policy: Path | None = None
    context: str = "general"
    fail_action: Action = Action.REFUSE
    max_input_chars: int = Field(default=200_000, gt=0)
    oversize_action: Action = Action.REFUSE
    acknowledge_fail_open: bool = False
    default_timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0, le=600)
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

    @model_validator(mode="after")
    def _fail_open_acknowledged(self) -> GuardConfig:
        fail_open = self._fail_open_fields()
        if fail_open and not self.acknowledge_fail_open:
            field, action = fail_open[0]
            raise ValueError(
                f"{field}: {action.value} fails open: a turn that could not be checked "
                "(a layer that failed or timed out, or input too long to check) would be "
                "answered unchecked. Use refuse or ask_context, or set "
                "acknowledge_fail_open: true to accept that risk (it is then logged at "
                "start-up and reported by /readyz)"
            )
        return self

    @property
    def fail_open_warnings(self) -> tuple[str, ...]:
        """One line per acknowledged fail-open setting (empty when the guard fails closed)."""
        return tuple(
            f"{field} is {action.value} (acknowledged by acknowledge_fail_open): turns that "
            "cannot be checked are answered unchecked"
            for field, action in self._fail_open_fields()
        )

    def _fail_open_fields(self) -> list[tuple[str, Action]]:
        fields = (("fail_action", self.fail_action), ("oversize_action", self.oversize_action))
        return [(field, action) for field, action in fields if action in FAIL_OPEN_ACTIONS]


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
        if not where:  # a check across fields: its message names them
            message = first["msg"].removeprefix("Value error, ")
            raise ConfigError(f"invalid configuration: {message}") from None
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
