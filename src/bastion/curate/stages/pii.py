"""The pii stage: personal data in a corpus is replaced by ``[KIND]`` markers.

A model trained on e-mail addresses, phone numbers and card numbers can repeat them. This
stage redacts, in every text field of a row (the text, each chat message, the prompt and
the response), e-mail addresses, phone numbers (checked by phonenumbers for the configured
regions), payment card numbers (Luhn), IBANs (mod 97), public IP addresses, national ids
(US SSN, UK NINO, French NIR, Spanish DNI/NIE, Italian codice fiscale, German Steuer-IdNr
after a keyword) and English street addresses; see
:mod:`bastion.curate.stages.pii_detectors` for what each detector accepts and why.

**Names are not redacted.** Finding person names needs a named-entity model, and none that
runs offline ships as a wheel on the package index (presidio needs a spaCy model that does
not). Street addresses are recognised in English only (``12 Baker Street``).

A row with something found gets ``redact`` (the redacted row goes on), or by
``action_on_found`` ``drop`` (the row goes) or ``flag`` (the row is kept *unchanged* and
marked, for a review of what would be redacted). The verdict's score is the number of
pieces redacted, its details the count per kind, and its evidence names the kinds only:
personal data never goes into a verdict.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Literal

import phonenumbers
from pydantic import Field, field_validator

from bastion.curate.document import Document
from bastion.curate.stages.base import RowOutcome, StageDeps, StageOptions, stage_plugin
from bastion.curate.stages.pii_detectors import PII_KINDS, PiiDetector, PiiKind
from bastion.curate.verdict import RowAction, StageVerdict

__all__ = ["PiiOptions", "PiiStage"]

_ACTIONS: dict[str, RowAction] = {
    "redact": RowAction.REDACT,
    "drop": RowAction.DROP,
    "flag": RowAction.FLAG,
}


class PiiOptions(StageOptions):
    """Options of the pii stage.

    Attributes:
        kinds: the kinds of personal data to redact (default: all of ``email``, ``iban``,
            ``card``, ``national_id``, ``ip``, ``address``, ``phone``).
        regions: regions (ISO 3166 codes) a phone number written without ``+<country>`` is
            checked for, in order; the first that accepts it wins.
        action_on_found: ``redact`` (default) keeps the row with the data replaced;
            ``drop`` removes the row; ``flag`` keeps it unchanged and marks it.
        private_ips: also redact loopback, private and reserved IP addresses (off: they
            identify no one, and code and tutorials are full of ``127.0.0.1``).
        max_phone_candidates: digit runs per text checked with phonenumbers; later ones
            with 9+ digits are redacted unchecked (bounds the cost of a pathological row).
    """

    kinds: tuple[PiiKind, ...] = PII_KINDS
    regions: tuple[str, ...] = ("US", "GB", "DE", "FR", "ES", "IT")
    action_on_found: Literal["redact", "drop", "flag"] = "redact"
    private_ips: bool = False
    max_phone_candidates: int = Field(default=256, ge=0, le=1_000_000)

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, regions: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(regions) - phonenumbers.SUPPORTED_REGIONS)
        if unknown:
            raise ValueError(f"unknown phone regions {unknown}: give ISO 3166 codes like 'US'")
        return regions


@stage_plugin(
    "pii",
    summary="redacts emails, phones, cards, IBANs, IPs, national ids, street addresses",
    options=PiiOptions,
)
class PiiStage:
    """Redacts personal data in every text field of a row (names are NOT redacted)."""

    def __init__(self, options: PiiOptions, deps: StageDeps) -> None:
        self.name = "pii"
        self._action = _ACTIONS[options.action_on_found]
        self._detector = PiiDetector(
            options.kinds,
            options.regions,
            private_ips=options.private_ips,
            max_phone_candidates=options.max_phone_candidates,
        )

    def run(self, docs: Sequence[Document]) -> list[RowOutcome]:
        """One outcome per row; a redacted copy goes with each ``redact`` verdict."""
        return [self._judge(doc) for doc in docs]

    def _judge(self, doc: Document) -> RowOutcome:
        counts: Counter[str] = Counter()

        def change(text: str) -> str:
            redacted, found = self._detector.redact(text)
            counts.update(found)
            return redacted

        redacted = doc.map_text(change)
        if not counts:
            return RowOutcome(StageVerdict(self.name, RowAction.KEEP, score=0.0))
        kinds = [kind for kind in PII_KINDS if counts[kind]]
        verdict = StageVerdict(
            self.name,
            self._action,
            score=float(sum(counts.values())),
            reason="personal_data",
            rule=f"pii:{','.join(kinds)}",
            evidence="found " + ", ".join(f"{kind} x{counts[kind]}" for kind in kinds),
            details={kind: counts[kind] for kind in kinds},
        )
        return RowOutcome(verdict, redacted if self._action is RowAction.REDACT else None)
