"""The injection stage: instructions hidden in documents, found by the guard's detector.

A corpus scraped from the web carries prompt-injection payloads ("ignore previous
instructions and ..."), jailbreak templates and system-prompt extraction attempts; a model
trained on them learns to follow them. This stage scores every row with the guard's
injection detector (:class:`~bastion.models.injection_detector.InjectionDetector`) over
overlapping MiniLM windows, so a payload buried in a long page is still seen, and keeps the
most suspicious window as evidence.

Above the detector's calibrated operating threshold a row is flagged; above ``drop_at`` it
is dropped. The detector over-fires on non-English text (its benign training texts are
English), so by default only rows that are not clearly non-English are scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from bastion.curate.document import Document
from bastion.curate.stages.base import RowOutcome, StageDeps, StageOptions, stage_plugin
from bastion.curate.verdict import RowAction, StageVerdict

__all__ = ["InjectionOptions", "InjectionStage"]


class InjectionOptions(StageOptions):
    """Options of the injection stage.

    Attributes:
        flag_at: flag rows scoring at least this; None uses the detector's operating
            threshold (chosen on its dev split).
        drop_at: drop rows scoring at least this.
        languages: ``english`` skips rows that are clearly not English; ``all`` scores all.
        max_units: windows scored per row at most (a longer row is scored on its first
            ``max_units`` windows: this bounds the cost of one pathological row).
        threads: onnxruntime threads of the encoder.
        sentence_chunks: also score sentence chunks of long rows, as the guard does (an
            instruction hidden in a long page fills more of a chunk than of a window);
            off by default for corpus throughput: windows alone cost about a third.
    """

    flag_at: float | None = Field(default=None, ge=0.0, le=1.0)
    drop_at: float = Field(default=0.98, ge=0.0, le=1.01)
    languages: Literal["all", "english"] = "english"
    max_units: int = Field(default=64, ge=1, le=100_000)
    threads: int = Field(default=1, ge=1, le=64)
    sentence_chunks: bool = False


@stage_plugin(
    "injection",
    summary="prompt-injection payloads hidden in documents",
    options=InjectionOptions,
    cheap=False,
)
class InjectionStage:
    """Scores rows with the injection detector; flags, or drops the clearest payloads."""

    def __init__(self, options: InjectionOptions, deps: StageDeps) -> None:
        from bastion.models.encoder import MiniLMEncoder
        from bastion.models.injection_detector import InjectionDetector

        self.name = "injection"
        self._options = options
        from bastion.models.windows import Windower

        self._detector = InjectionDetector.load()
        if not options.sentence_chunks:
            windows = self._detector.windower
            self._detector.windower = Windower(windows.tokens, windows.stride, 0)
        self._encoder = MiniLMEncoder(threads=options.threads)
        self._flag_at = options.flag_at if options.flag_at is not None else self._detector.threshold

    def run(self, docs: Sequence[Document]) -> list[RowOutcome]:
        """One verdict per row; rows are windowed and encoded as one batch."""
        texts = [self._text(doc) for doc in docs]
        scored = [i for i, text in enumerate(texts) if text.strip()]
        scores = self._detector.score(self._encoder, [texts[i] for i in scored]) if scored else []
        verdicts = [StageVerdict(self.name, RowAction.KEEP, score=0.0) for _ in docs]
        for index, score in zip(scored, scores, strict=True):
            verdicts[index] = self._verdict(score.p_attack, score.kind, score.excerpt)
        return [RowOutcome(v) for v in verdicts]

    def _text(self, doc: Document) -> str:
        from bastion.models.multilingual import clearly_not_english

        text = doc.content
        if self._options.languages == "english" and clearly_not_english(text[:2000]):
            return ""
        units = self._detector.windower.split(text)
        if len(units) > self._options.max_units:
            return " ".join(units[: self._options.max_units])
        return text

    def _verdict(self, p_attack: float, kind: str, excerpt: str) -> StageVerdict:
        if p_attack >= self._options.drop_at:
            action, threshold = RowAction.DROP, self._options.drop_at
        elif p_attack >= self._flag_at:
            action, threshold = RowAction.FLAG, self._flag_at
        else:
            return StageVerdict(self.name, RowAction.KEEP, score=p_attack)
        return StageVerdict(
            self.name,
            action,
            score=p_attack,
            reason=f"injection:{kind}",
            rule=f"injection.{action.value}_at>={threshold:.2f}",
            evidence=excerpt[:200],
            details={"kind": kind},
        )
