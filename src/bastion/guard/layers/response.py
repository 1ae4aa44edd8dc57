"""The tier-1 response classifier layer: judges the assistant's reply on output checks.

On an output check (``Guard.check_response``) it embeds the reply (and, as the artifact
asks, the reply's opening and the latest user turn) with MiniLM and reads them with
:class:`~bastion.models.response_classifier.ResponseClassifier`: ``response_refusal`` is
the probability the reply refuses at least in part (refusal or partial), ``response_kind``
the most likely kind, ``response_harmful`` and the verdict's ``score`` the calibrated
probability the reply is harmful, gated by the probability of a full refusal (design note
0050). The verdict's category is the
category head's top policy category (``default_category`` when the head knows none), so a
harmful reply gets the action the policy sets for that category and context; where the
rules layer named a category with explicit evidence, the combiner uses that one instead.
A reply read as a full refusal and not harmful gets no category: a refusal that names the
harmful topic ("I can't help with making explosives, but ...") is a refusal, not a
weapons reply, and must not take the topic's action.

Input-only checks (no reply) get an empty verdict: judging prompts is other layers' job.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from bastion.core.errors import ConfigError
from bastion.core.verdict import Verdict
from bastion.guard.layers._requirements import MINILM
from bastion.guard.layers.base import CheckRequest, LayerConfigModel, LayerDeps, layer_plugin

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from bastion.models.response_classifier import ResponsePrediction

__all__ = ["LAYER", "ResponseClassifierConfig", "ResponseClassifierLayer", "response_verdict"]

LAYER = "response_classifier"
_TOP_CATEGORIES = 3
_DIGITS = 4


class ResponseClassifierConfig(LayerConfigModel):
    """Configuration of the response classifier layer.

    Attributes:
        artifact: classifier artifact folder; None uses the packaged one.
        threads: onnxruntime threads for the encoder.
        default_category: policy category of a harmful reply when the category head names
            none the policy knows; None leaves such a verdict without a category (it then
            cannot act on its own).
    """

    artifact: Path | None = None
    threads: int = Field(default=1, ge=1, le=64)
    default_category: str | None = "violence"


@layer_plugin(name=LAYER, tier=1, config=ResponseClassifierConfig, requires=MINILM)
class ResponseClassifierLayer:
    """Tier-1 learned reply classifier: refusal / partial / compliance, and harmful.

    Raises:
        ConfigError: on construction when the artifact cannot be loaded or
            ``default_category`` is not in the policy; on first check when the encoder
            model is missing or fails its hash check.
    """

    def __init__(self, config: ResponseClassifierConfig, deps: LayerDeps) -> None:
        # numpy and onnxruntime load only when this layer is built (see classifier.py).
        from bastion.models.encoder import MiniLMEncoder
        from bastion.models.response_classifier import ResponseClassifier

        known = frozenset(deps.policy.lookup)
        if config.default_category is not None and config.default_category not in known:
            raise ConfigError(
                f"response_classifier: default_category {config.default_category!r} is not "
                "a category of the policy"
            )
        self._cfg = config
        self._classifier = ResponseClassifier.load(config.artifact)
        self._encoder = MiniLMEncoder(threads=config.threads)  # loads on first check
        self._known = known

    @property
    def name(self) -> str:
        """The layer's registered name."""
        return LAYER

    @property
    def operating_threshold(self) -> float:
        """The harmful threshold chosen on the dev split (read by the guard)."""
        return self._classifier.threshold

    def check(self, request: CheckRequest) -> Verdict:
        """Judge the reply of an output check; an input-only check gets an empty verdict."""
        if request.response is None:
            return Verdict(layer=LAYER)
        from bastion.models.response_classifier import model_text, reply_opening

        reply = model_text(_reply_text(request))
        turns = request.user_turns()
        texts = {
            "reply": reply,
            "opening": reply_opening(reply, self._classifier.opening_chars),
            "prompt": model_text(turns[-1].canonical) if turns else "",
        }
        prediction = self._classifier.predict(self._embed(texts))[0]
        return response_verdict(
            prediction, self._known, self._cfg.default_category, self._classifier.threshold
        )

    def _embed(self, texts: dict[str, str]) -> dict[str, npt.NDArray[np.float32]]:
        """Embed the inputs the heads read: the (long) reply alone, the short ones together
        (a batch pads every text to the longest, which made one call ~3x slower)."""
        needed = self._classifier.inputs
        short = sorted(needed - {"reply"})
        out = {"reply": self._encoder.encode([texts["reply"]])} if "reply" in needed else {}
        if short:
            vectors = self._encoder.encode([texts[name] for name in short])
            out.update({name: vectors[i : i + 1] for i, name in enumerate(short)})
        return out


def _reply_text(request: CheckRequest) -> str:
    if request.normalized_response is not None:
        return request.normalized_response.canonical
    return " ".join((request.response or "").casefold().split())


def response_verdict(
    prediction: ResponsePrediction,
    known: frozenset[str],
    default_category: str | None,
    threshold: float = 1.0,
) -> Verdict:
    """The verdict for one reply prediction (categories limited to ``known``).

    The harmful probability is gated by the probability of a full refusal,
    ``p_harmful * (1 - p(refusal))`` (design note 0050): a refusal that names the topic
    ("I can't help with that, but I can explain how bomb squads work") is a refusal, not a
    harmful reply. A reply read as a refusal whose gated score stays under ``threshold``
    names no category, so it cannot take the topic's action.
    """
    p_refusal = prediction.kind_probs[0] if prediction.kind_probs else 0.0
    score = min(max(prediction.p_harmful * (1.0 - p_refusal), 0.0), 1.0)
    category: str | None
    categories: tuple[tuple[str, float], ...]
    refusal = prediction.kind == "refusal" and score < threshold
    ranked = [(c, p) for c, p in prediction.category_probs if c in known]
    if refusal:
        category, categories = None, ()
    elif ranked:
        top = ranked[0][1] or 1.0
        categories = tuple(
            (c, round(score * p / top, _DIGITS)) for c, p in ranked[:_TOP_CATEGORIES]
        )
        category = ranked[0][0]
    else:
        category = default_category
        categories = ((category, round(score, _DIGITS)),) if category else ()
    return Verdict(
        layer=LAYER,
        score=score,
        category=category,
        categories=categories,
        response_refusal=round(min(max(prediction.p_decline, 0.0), 1.0), _DIGITS),
        response_harmful=round(score, _DIGITS),
        response_kind=prediction.kind,
    )
