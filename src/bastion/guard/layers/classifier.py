"""The tier-1 prompt classifier layer: MiniLM embeddings plus a calibrated linear head.

It scores the latest user turn alone and the last ``window_turns`` user turns joined (so a
request split across turns is still seen whole) and keeps the higher probability; a text
longer than the encoder's training length is read as overlapping windows, worst one kept. The score
is the calibrated probability the prompt is unsafe. Output-side checks (a reply is given)
score the user side only: judging replies is a separate model.

When the artifact has an intent head (v4 on), the verdict also carries the intent of the
unit that scored highest (:class:`~bastion.core.types.Intent`: facilitate, depict, discuss,
seek_help, none), which the policy reads beside the category. A category the policy does
not know is named by its taxonomy category instead (``fraud`` -> ``non_violent_crimes``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from bastion.core.errors import ConfigError, InputError
from bastion.core.types import Intent
from bastion.core.verdict import Verdict
from bastion.guard.layers._requirements import MINILM
from bastion.guard.layers.base import CheckRequest, LayerConfigModel, LayerDeps, layer_plugin

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bastion.models.prompt_classifier import PromptPrediction

__all__ = ["LAYER", "PromptClassifierConfig", "PromptClassifierLayer", "verdict_from"]

LAYER = "prompt_classifier"
_TOP_CATEGORIES = 3


class PromptClassifierConfig(LayerConfigModel):
    """Configuration of the prompt classifier layer.

    Attributes:
        artifact: classifier artifact folder; None uses the packaged one.
        threads: onnxruntime threads for the encoder.
        window_turns: how many recent user turns are also scored joined together.
        languages: ``all`` scores every prompt; ``english`` skips prompts the language
            guess routes to ``multilingual_classifier`` (use it when that layer is on: this
            English model over-flags other languages).
        window_tokens: a text longer than this many word pieces is read as overlapping
            windows of this size (the encoder was fine-tuned on 128 with the two special
            tokens) and scores as its worst window: no tail of a long prompt goes unread.
        window_stride: word pieces between window starts.
        chunk_tokens: a long text is also read as sentence chunks of at most this many
            word pieces (0: windows only), so a request hidden after a long benign
            preamble fills most of some unit instead of a fraction of a window.
        max_windows: the most units one check may score. Every window is always scored;
            sentence chunks fill the rest, spread evenly over the text, when there are
            more than fit. More windows than this raises, and the guard fails closed
            (about 12,000 word pieces, ~48,000 characters, at the defaults).
        max_views: decoded views of the latest user turn (base64, rot13, leetspeak, ...)
            scored besides its canonical text, so an encoded request is read decoded.
    """

    artifact: Path | None = None
    threads: int = Field(default=1, ge=1, le=64)
    window_turns: int = Field(default=3, ge=1, le=20)
    languages: Literal["all", "english"] = "all"
    window_tokens: int = Field(default=126, ge=16, le=254)
    window_stride: int = Field(default=96, ge=8, le=254)
    chunk_tokens: int = Field(default=32, ge=0, le=254)
    max_windows: int = Field(default=128, ge=1, le=10_000)
    max_views: int = Field(default=3, ge=0, le=16)


@layer_plugin(name=LAYER, tier=1, config=PromptClassifierConfig, requires=MINILM)
class PromptClassifierLayer:
    """Tier-1 learned prompt classifier (fine-tuned MiniLM, calibrated linear head).

    Raises:
        ConfigError: on construction when the artifact cannot be loaded; on first check
            when the encoder model is missing or fails its hash check.
    """

    def __init__(self, config: PromptClassifierConfig, deps: LayerDeps) -> None:
        # numpy and onnxruntime load only when this layer is built: the layer registry
        # imports this module, and a rules-only guard must not pay for them at start-up.
        from bastion.models.encoder import MiniLMEncoder
        from bastion.models.prompt_classifier import PromptClassifier
        from bastion.models.windows import Windower

        if max(config.window_stride, config.chunk_tokens) > config.window_tokens:
            raise ConfigError(
                f"{LAYER}: window_stride and chunk_tokens must not exceed window_tokens"
            )
        self._cfg = config
        self._windower = Windower(config.window_tokens, config.window_stride, config.chunk_tokens)
        self._classifier = PromptClassifier.load(config.artifact)
        own = self._classifier.encoder_file  # a fine-tuned encoder shipped with the heads
        self._encoder = (  # the session loads lazily, on first check
            MiniLMEncoder(threads=config.threads)
            if own is None
            else MiniLMEncoder(threads=config.threads, model=own[0], model_sha256=own[1])
        )
        self._known = frozenset(deps.policy.lookup)

    @property
    def name(self) -> str:
        """The layer's registered name."""
        return LAYER

    @property
    def operating_threshold(self) -> float:
        """The calibrated act threshold chosen on the dev split (read by the guard)."""
        return self._classifier.threshold

    def check(self, request: CheckRequest) -> Verdict:
        """Score the latest user turn (and its decoded views) and the recent user window;
        keep the highest."""
        norms = request.user_turns()
        if not norms:
            return Verdict(layer=LAYER)
        turns = [norm.canonical for norm in norms]
        window = turns[-self._cfg.window_turns :]
        if self._cfg.languages == "english" and not _english("\n".join(window)):
            return Verdict(layer=LAYER)
        texts = [turns[-1], *(v.text for v in norms[-1].decoded[: self._cfg.max_views])]
        if len(window) > 1:
            texts.append("\n".join(window))
        try:
            units = self._windower.split_within(texts, self._cfg.max_windows)
        except InputError as exc:
            raise InputError(f"{LAYER}: {exc} (max_windows)") from None
        predictions = self._classifier.predict(self._encoder.encode(units))
        return verdict_from(LAYER, predictions, self._known)


def _english(text: str) -> bool:
    """The multilingual layer's routing: the complement of what it scores."""
    from bastion.models.multilingual import guess_language

    return guess_language(text) in ("en", "und")


def verdict_from(
    layer: str, predictions: Sequence[PromptPrediction], known: frozenset[str]
) -> Verdict:
    """The verdict for the most unsafe of ``predictions`` (categories limited to ``known``,
    a subcategory the policy lacks named by its category), with that prediction's intent."""
    best = max(predictions, key=lambda p: p.p_unsafe)
    score = min(max(best.p_unsafe, 0.0), 1.0)
    intent = _intent(best.intent)
    ranked_known = _known_ranking(best.category_probs, known)
    if not ranked_known:
        return Verdict(layer=layer, score=score, intent=intent)
    # Per-category scores: p_unsafe shared out by the category head's relative belief.
    top = ranked_known[0][1] or 1.0
    ranked = tuple((c, round(score * p / top, 4)) for c, p in ranked_known[:_TOP_CATEGORIES])
    return Verdict(
        layer=layer, score=score, category=ranked_known[0][0], categories=ranked, intent=intent
    )


def _intent(value: str | None) -> Intent | None:
    try:
        return Intent(value) if value is not None else None
    except ValueError:  # an artifact naming an intent this version does not know
        return None


def _known_ranking(
    probs: Sequence[tuple[str, float]], known: frozenset[str]
) -> list[tuple[str, float]]:
    """``probs`` renamed to names the policy knows (itself, else its taxonomy category),
    best probability per name, highest first; unknown either way: left out."""
    from bastion.policy.taxonomy import SUBCATEGORY_PARENT

    merged: dict[str, float] = {}
    for name, p in probs:
        parent = SUBCATEGORY_PARENT.get(name)
        use = name if name in known else parent if parent in known else None
        if use is not None and p > merged.get(use, -1.0):
            merged[use] = p
    return sorted(merged.items(), key=lambda item: -item[1])
