"""The toxicity stage: a profanity score per row (alt-profanity-check), flag by default.

alt-profanity-check is a linear SVM over TF-IDF word features, calibrated to a
probability, with its model in the wheel: offline, and about 30,000 short rows per second
per core when scored a batch at a time (:func:`profanity_check.predict_prob` is
vectorised; the stage calls it once per batch).

Profanity alone is not a reason to drop pre-training text: swearing is part of how people
write (dialogue, fiction, forums), a model that never saw it reads it worse, and the
score says nothing about harm (the harm stage judges that under the policy). So the stage
flags rows at ``flag_at`` for a look or for down-weighting, and drops only at ``drop_at``,
which defaults to 1.01: never. A corpus for a minors product can lower it.

A flagged row's evidence names the words that weighed most towards the score (the SVM's
weights, read from the package's model), so a reviewer sees why without the whole text.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from pydantic import Field

from bastion.core.errors import ConfigError
from bastion.curate.document import Document
from bastion.curate.stages.base import RowOutcome, StageDeps, StageOptions, stage_plugin
from bastion.curate.verdict import RowAction, StageVerdict

__all__ = ["ToxicityOptions", "ToxicityStage"]

_TOP_TERMS = 3


class ToxicityOptions(StageOptions):
    """Options of the toxicity stage.

    Attributes:
        flag_at: a profanity probability at or above this flags the row.
        drop_at: a probability at or above this drops the row; above 1 (the default,
            1.01) never: profanity is no reason to drop pre-training text.
    """

    flag_at: float = Field(default=0.8, ge=0.0)
    drop_at: float = Field(default=1.01, ge=0.0)


@stage_plugin(
    "toxicity",
    kind="row",
    summary="profanity score (alt-profanity-check): flags at `flag_at`, drops at `drop_at`",
    options=ToxicityOptions,
    cheap=False,
)
class ToxicityStage:
    """Scores each row's profanity; flags (or drops) the ones over the thresholds.

    Raises:
        ConfigError: alt-profanity-check is not installed, or its model was saved by
            another scikit-learn than the installed one (scores would not be trusted).
    """

    def __init__(self, options: ToxicityOptions, deps: StageDeps) -> None:
        self.name = "toxicity"
        self._options = options
        self._predict, self._explain = _load_model()

    def run(self, docs: Sequence[Document]) -> list[RowOutcome]:
        """One verdict per row, its score the probability of profanity."""
        if not docs:
            return []
        texts = [doc.content for doc in docs]
        scores = [float(p) for p in self._predict(texts)]
        return [RowOutcome(self._verdict(text, p)) for text, p in zip(texts, scores, strict=True)]

    def _verdict(self, text: str, score: float) -> StageVerdict:
        opts = self._options
        if score >= opts.drop_at:
            action, rule = RowAction.DROP, f"toxicity.drop_at>={opts.drop_at:g}"
        elif score >= opts.flag_at:
            action, rule = RowAction.FLAG, f"toxicity.flag_at>={opts.flag_at:g}"
        else:
            return StageVerdict(self.name, RowAction.KEEP, score=score)
        terms = self._explain(text)
        evidence = f"profanity p={score:.2f}" + (f"; words: {', '.join(terms)}" if terms else "")
        return StageVerdict(
            self.name, action, score=score, reason="profanity", rule=rule, evidence=evidence
        )


def _load_model() -> tuple[Callable[[list[str]], Any], Callable[[str], list[str]]]:
    """The package's batch scorer, and a function naming a text's heaviest words.

    The package unpickles its model on import. A model pickled by another scikit-learn
    version may load and score wrongly, which scikit-learn announces with
    ``InconsistentVersionWarning``: that warning (and only it) is turned into a
    :class:`ConfigError` naming the fix; any other warning goes on as usual.
    """
    try:
        from sklearn.exceptions import InconsistentVersionWarning
    except ImportError as exc:
        raise ConfigError(_INSTALL) from exc
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=InconsistentVersionWarning)
        try:
            from profanity_check import predict_prob
            from profanity_check import profanity_check as impl
        except ImportError as exc:
            raise ConfigError(_INSTALL) from exc
        except InconsistentVersionWarning as exc:
            raise ConfigError(
                f"alt-profanity-check's model does not match the installed scikit-learn "
                f"({exc}); {_INSTALL}"
            ) from None
    return predict_prob, _explainer(impl)


_INSTALL = "the toxicity stage needs alt-profanity-check: pip install 'bastion[curate]'"


def _explainer(impl: Any) -> Callable[[str], list[str]]:
    """Names the words that pushed a text's score up most (empty if the model is opaque)."""
    try:
        vectorizer = impl.vectorizer
        weights = np.mean([c.estimator.coef_[0] for c in impl.model.calibrated_classifiers_], 0)
        names = vectorizer.get_feature_names_out()
    except (AttributeError, IndexError, TypeError, ValueError):  # another package layout
        return lambda _text: []

    def explain(text: str) -> list[str]:
        row = vectorizer.transform([text])[0]
        weight = row.data * weights[row.indices]
        order = np.argsort(-weight)[:_TOP_TERMS]
        return [str(names[row.indices[i]]) for i in order if weight[i] > 0]

    return explain
