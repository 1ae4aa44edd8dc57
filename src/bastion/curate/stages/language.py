"""The language stage: language identification with py3langid, keep-list optional.

py3langid (a maintained fork of langid.py: naive Bayes over byte n-grams; the 0.4.0
model knows 139 languages plus ``zxx``, "no linguistic content") ships its model inside
the wheel, so identification runs offline and needs no download or cache folder; it is
fast enough for pre-training volumes (about 16,000 short or 2,400 two-thousand-character
texts per second per core). One
:class:`py3langid.langid.LanguageIdentifier` is built per stage instance, with
``norm_probs=True`` so the confidence is a probability the ``min_confidence`` option can
be read against (the package's module-level functions keep a global identifier and give
raw scores).

Every verdict carries ``{"language": code, "confidence": p}`` in its details, for the
report and for later stages. Below ``min_confidence`` the language is ``und``
(undetermined, ISO 639-2). Such a row (empty, a few words), like a ``zxx`` one (numbers,
markup, identifiers), is always kept whatever ``keep`` says: it is in no language, so no
language rule can judge it (the quality stage judges content). With ``keep`` empty (the
default) every language is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, field_validator

from bastion.core.errors import ConfigError
from bastion.curate.document import Document
from bastion.curate.stages.base import RowOutcome, StageDeps, StageOptions, stage_plugin
from bastion.curate.verdict import RowAction, StageVerdict

__all__ = ["UNDETERMINED", "LanguageOptions", "LanguageStage"]

UNDETERMINED = "und"
"""The code of a row whose language is not known with enough confidence."""
_NO_LANGUAGE = frozenset({UNDETERMINED, "zxx"})


class LanguageOptions(StageOptions):
    """Options of the language stage.

    Attributes:
        keep: languages to keep (ISO 639-1 codes as py3langid names them: ``en``,
            ``fr``...); empty keeps every language.
        min_confidence: below this probability the language is ``und`` and the row is
            kept whatever ``keep`` says (as is a confident ``zxx``: no language at all).
        action: what happens to a row in a language not in ``keep``: ``drop`` or ``flag``.
        max_chars: only the first this many characters are classified (speed: the
            language of a document is clear long before its end).
    """

    keep: tuple[str, ...] = ()
    min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    action: Literal["drop", "flag"] = "drop"
    max_chars: int = Field(default=2_000, ge=1)

    @field_validator("keep", mode="before")
    @classmethod
    def _one_code(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("keep")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(code.strip().lower() for code in value))


@stage_plugin(
    "language",
    kind="row",
    summary="language id (py3langid, offline); keeps every language unless `keep` lists some",
    options=LanguageOptions,
    cheap=False,
)
class LanguageStage:
    """Names each row's language; drops (or flags) the ones not in ``keep``.

    Raises:
        ConfigError: py3langid is not installed, or ``keep`` names a code it does not know.
    """

    def __init__(self, options: LanguageOptions, deps: StageDeps) -> None:
        self.name = "language"
        self._options = options
        try:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier
        except ImportError as exc:
            raise ConfigError(
                "the language stage needs py3langid: pip install 'bastion[curate]'"
            ) from exc
        self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        known = set(self._identifier.labels)
        unknown = sorted(set(options.keep) - known)
        if unknown:
            raise ConfigError(
                f"language.keep names codes py3langid does not know: {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})"
            )
        self._keep = frozenset(options.keep)
        self._rule = f"language.keep=[{','.join(options.keep)}]"
        self._action = RowAction(options.action)

    def run(self, docs: Sequence[Document]) -> list[RowOutcome]:
        """One verdict per row, each with the language and its confidence."""
        return [RowOutcome(self._judge(doc.content)) for doc in docs]

    def classify(self, text: str) -> tuple[str, float, str]:
        """``(language or "und", confidence, best guess)`` for the start of ``text``."""
        guess, confidence = self._identifier.classify(text[: self._options.max_chars])
        confidence = float(confidence)
        language = guess if confidence >= self._options.min_confidence else UNDETERMINED
        return language, confidence, str(guess)

    def _judge(self, text: str) -> StageVerdict:
        language, confidence, guess = self.classify(text)
        details: dict[str, Any] = {"language": language, "confidence": round(confidence, 4)}
        if language == UNDETERMINED:
            details["guess"] = guess
        if not self._keep or language in _NO_LANGUAGE or language in self._keep:
            return StageVerdict(self.name, RowAction.KEEP, score=confidence, details=details)
        return StageVerdict(
            self.name,
            self._action,
            score=confidence,
            reason="language_not_kept",
            rule=self._rule,
            evidence=f"detected {language} (p={confidence:.2f})",
            details=details,
        )
