"""The pii stage: each kind redacted in realistic text, look-alikes left alone, never raises."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bastion.core.registry import PLUGIN_ATTR
from bastion.curate.contexts import DEFAULT_CONTEXTS
from bastion.curate.document import Document, DocumentKind, parse_document
from bastion.curate.stages.base import RowOutcome, StageDeps
from bastion.curate.stages.pii import PiiOptions, PiiStage
from bastion.curate.stages.pii_detectors import PiiDetector
from bastion.curate.verdict import RowAction
from bastion.policy import Policy

DETECTOR = PiiDetector()


@pytest.fixture(scope="module")
def deps(policy: Policy) -> StageDeps:
    return StageDeps(policy, DEFAULT_CONTEXTS["pretraining"], Path("."))


@pytest.fixture(scope="module")
def stage(deps: StageDeps) -> PiiStage:
    return PiiStage(PiiOptions(), deps)


def _doc(data: dict[str, Any]) -> Document:
    return parse_document(data, shard="s.jsonl", line=1)


def _run(stage: PiiStage, data: dict[str, Any]) -> RowOutcome:
    (outcome,) = stage.run([_doc(data)])
    return outcome


PLANTED = [
    ("email", "Write to ann.lee+news@example.org before Friday."),
    ("email", "From: J.Smith@Mail.Company.co.uk"),
    ("phone", "Ring me on +44 20 7946 0958 after six."),
    ("phone", "Call me at (415) 555-2671 tomorrow."),
    ("phone", "Mon portable : 06 12 34 56 78, merci."),
    ("phone", "Tel. 030 12345678 (Büro)"),
    ("phone", "Llámame al 612 345 678 cuando puedas."),
    ("phone", "Chiamami al 347 123 4567 stasera."),
    ("phone", "call 07700900123 any time"),
    ("phone", "WhatsApp: +33612345678"),
    ("card", "My card is 4111 1111 1111 1111, expiry 04/27."),
    ("card", "charge 5500-0000-0000-0004 please"),
    ("card", "Amex 3782 822463 10005 on file"),
    ("card", "number 378282246310005"),
    ("iban", "Pay to IBAN GB82 WEST 1234 5698 7654 32 by Friday."),
    ("iban", "Überweisung an DE89370400440532013000 bitte."),
    ("iban", "RIB: FR14 2004 1010 0505 0001 3M02 606"),
    ("ip", "Logins from 81.2.69.160 were blocked."),
    ("ip", "resolver 2001:4860:4860::8888 is down"),
    ("national_id", "My SSN is 536-90-4399."),
    ("national_id", "NI number AB 12 34 56 C"),
    ("national_id", "numéro de sécurité sociale 2 95 10 99 126 111 93"),
    ("national_id", "DNI 54362315K y NIE X2482300W"),
    ("national_id", "codice fiscale RCCMNL83S18D969H"),
    ("national_id", "Steuer-ID: 36 574 261 809"),
    ("address", "I live at 221B Baker Street, London."),
    ("address", "Send it to 1600 Pennsylvania Avenue NW, Washington."),
    ("address", "Meet at 350 5th Ave. on Monday"),
    ("address", "She moved to 42 Wallaby Way in Sydney."),
]


@pytest.mark.parametrize(("kind", "text"), PLANTED)
def test_each_kind_is_redacted_in_a_sentence(stage: PiiStage, kind: str, text: str) -> None:
    outcome = _run(stage, {"text": text})
    marker = "[NATIONAL_ID]" if kind == "national_id" else f"[{kind.upper()}]"
    assert outcome.verdict.action is RowAction.REDACT
    assert outcome.document is not None
    assert marker in outcome.document.text
    assert outcome.document.fields["text"] == outcome.document.text
    assert kind in outcome.verdict.details
    assert outcome.verdict.rule is not None and kind in outcome.verdict.rule
    evidence = outcome.verdict.evidence or ""
    assert kind in evidence
    assert "@" not in evidence and not re.search(r"[0-9]{3}|[A-Z]{2}[0-9]{2}", evidence)


def test_verdict_names_kinds_and_counts_but_never_the_data(stage: PiiStage) -> None:
    text = "Mail ann@example.org or bob@example.com, or call +44 20 7946 0958."
    outcome = _run(stage, {"text": text, "meta": 1})
    verdict = outcome.verdict
    assert outcome.document is not None
    assert outcome.document.text == "Mail [EMAIL] or [EMAIL], or call [PHONE]."
    assert outcome.document.fields["meta"] == 1
    assert verdict.stage == "pii"
    assert verdict.score == 3.0
    assert verdict.reason == "personal_data"
    assert verdict.rule == "pii:email,phone"
    assert verdict.details == {"email": 2, "phone": 1}
    evidence = verdict.evidence or ""
    assert "email" in evidence and "phone" in evidence
    for secret in ("ann@", "example", "7946", "0958"):
        assert secret not in evidence
        assert secret not in str(verdict.to_dict())


def test_chat_messages_are_redacted_one_by_one(stage: PiiStage) -> None:
    outcome = _run(
        stage,
        {
            "messages": [
                {"role": "system", "content": "You are helpful."},
                {"role": "user", "content": "My card 4111 1111 1111 1111 was charged twice"},
                {"role": "assistant", "content": "Call us on (415) 555-2671 or mail help@shop.com"},
            ]
        },
    )
    doc = outcome.document
    assert doc is not None and doc.kind is DocumentKind.CHAT
    assert [content for _role, content in doc.messages] == [
        "You are helpful.",
        "My card [CARD] was charged twice",
        "Call us on [PHONE] or mail [EMAIL]",
    ]
    assert doc.fields["messages"][1] == {
        "role": "user",
        "content": "My card [CARD] was charged twice",
    }
    assert "[CARD]" in doc.prompt and "[EMAIL]" in doc.response
    assert outcome.verdict.details == {"card": 1, "email": 1, "phone": 1}


@pytest.mark.parametrize("key", ["response", "completion"])
def test_prompt_and_response_are_both_redacted(stage: PiiStage, key: str) -> None:
    outcome = _run(
        stage,
        {"prompt": "I am at 10 Downing Street, SSN 536-90-4399", key: "Noted, ann@example.org"},
    )
    doc = outcome.document
    assert doc is not None
    assert doc.prompt == "I am at [ADDRESS], SSN [NATIONAL_ID]"
    assert doc.response == "Noted, [EMAIL]"
    assert doc.fields[key] == "Noted, [EMAIL]"
    assert outcome.verdict.rule == "pii:email,national_id,address"


LOOK_ALIKES = [
    "uuid 123e4567-e89b-12d3-a456-426614174000",
    "commit 5d41402abc4b2a76b9719d911017c592",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "id 4111111111111111ab and key ab4111111111111111",
    "order number 2015550123",
    "Call us about it: my order number is 2015550123",
    "Order #201-555-0123 has shipped",
    "Your order 4829105733 is on its way",
    "invoice no. 2024-0001-5532",
    "on 2024-01-15 at 10:30:00 UTC",
    "2024-01-15 10:30",
    "born 12/25/2023, moved 15.01.2024",
    "price $1,299.99 or € 2.499,00",
    "version 1.2.3.4 and v10.0.19045.3803, Python 3.11.4",
    "ndk/25.1.8937393/build",
    "3 + 4 = 7",
    "12345 * 6789 = 83810205",
    "ISBN 978-3-16-148410-0 and ISBN 0-306-40615-2",
    "see 978-3-16-148410-0",
    "localhost 127.0.0.1, router 192.168.1.1, ::1, docs 203.0.113.7",
    "std::vector<int> v; a::b::c",
    "MAC 00:1A:2B:3C:4D:5E",
    "4 Wheel Drive and the 2064 Supreme Court hearing",
    "timestamp 1700000000000",
    "pi = 3.14159265358979323846 and gamma 0.5772156649015329",
    'transform="matrix(0.998638,0,0,-0.998638,0.39215,439.799858)"',
    "score\t0.995773256\n9/30/2023\tPOSITIVE\t0.98818934",
    "Pages 211-227 (2003), vol. 12",
    "from 1990 to 2020 prices rose 35 %",
    "pip install numpy==1.26.4 torch>=2.1.0",
    "the product code AB12 CDEF 3456",
    "Use ABC notation to write a melody in 6/8 time",
]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_are_not_redacted(stage: PiiStage, text: str) -> None:
    outcome = _run(stage, {"text": text})
    assert outcome.verdict.action is RowAction.KEEP, outcome.verdict.details
    assert outcome.verdict.score == 0.0
    assert outcome.document is None


INVALID = [
    "card 4111 1111 1111 1112",
    "card 5500000000000005",
    "IBAN GB82 WEST 1234 5698 7654 33",
    "IBAN DE89370400440532013001",
    "SSN 000-12-3456 or 536-00-4399 or 536-90-0000",
    "DNI 54362315A",
    "codice fiscale RCCMNL83S18D969A",
    "Steuer-ID: 36 574 261 808",
    "NIR 2 95 10 99 126 111 94",
    "NINO QQ 12 34 56 C",
    "call 555-0100",
    "phone 000 000 0000 or 999-999-9999",
]


@pytest.mark.parametrize("text", INVALID)
def test_invalid_checksums_and_numbers_are_not_redacted(stage: PiiStage, text: str) -> None:
    outcome = _run(stage, {"text": text})
    assert outcome.verdict.action is RowAction.KEEP, outcome.verdict.details


def test_a_bare_digit_run_is_a_phone_only_after_a_phone_word() -> None:
    assert DETECTOR.redact("ref 2015550123")[0] == "ref 2015550123"
    assert DETECTOR.redact("text me at 2015550123")[0] == "text me at [PHONE]"


def test_private_ips_are_redacted_when_asked(deps: StageDeps) -> None:
    stage = PiiStage(PiiOptions(private_ips=True), deps)
    outcome = _run(stage, {"text": "ssh admin@10.0.0.1 or 127.0.0.1"})
    assert outcome.document is not None
    assert outcome.document.text == "ssh admin@[IP] or [IP]"


def test_kinds_limits_what_is_redacted(deps: StageDeps) -> None:
    stage = PiiStage(PiiOptions(kinds=("email",)), deps)
    outcome = _run(stage, {"text": "ann@example.org, +44 20 7946 0958"})
    assert outcome.document is not None
    assert outcome.document.text == "[EMAIL], +44 20 7946 0958"


def test_regions_decide_numbers_without_a_country_code(deps: StageDeps) -> None:
    us_only = PiiStage(PiiOptions(regions=("US",)), deps)
    french = "Mon portable : 06 12 34 56 78"
    assert _run(us_only, {"text": french}).verdict.action is RowAction.KEEP
    assert _run(us_only, {"text": "Mon portable : +33 6 12 34 56 78"}).document is not None


@pytest.mark.parametrize(
    ("action", "expected"), [("drop", RowAction.DROP), ("flag", RowAction.FLAG)]
)
def test_drop_and_flag_leave_the_text_alone(
    deps: StageDeps, action: str, expected: RowAction
) -> None:
    stage = PiiStage(PiiOptions.model_validate({"action_on_found": action}), deps)
    outcome = _run(stage, {"text": "mail ann@example.org"})
    assert outcome.verdict.action is expected
    assert outcome.verdict.rule == "pii:email"
    assert outcome.document is None


@pytest.mark.parametrize(
    "options",
    [{"kinds": ["email", "names"]}, {"regions": ["XX"]}, {"action_on_found": "mask"}, {"x": 1}],
)
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PiiOptions.model_validate(options)


def test_registered_as_the_pii_row_stage() -> None:
    entry = getattr(PiiStage, PLUGIN_ATTR)
    assert (entry.name, entry.kind, entry.options, entry.cheap) == ("pii", "row", PiiOptions, True)
    assert PiiOptions().kinds == ("email", "iban", "card", "national_id", "ip", "address", "phone")


def test_one_outcome_per_row_in_order(stage: PiiStage) -> None:
    docs = [_doc({"text": t}) for t in ("plain", "ann@example.org", "", "3 + 4 = 7")]
    actions = [o.verdict.action for o in stage.run(docs)]
    assert actions == [RowAction.KEEP, RowAction.REDACT, RowAction.KEEP, RowAction.KEEP]
    assert stage.run([]) == []


@pytest.mark.parametrize(
    "text",
    [
        "a" * 1_000_000,
        "lorem ipsum 2015550123 dolor 4111-1111 sit " * 23_000,
        "1." * 500_000,
        "GB82 " * 200_000,
    ],
)
def test_megabyte_rows_finish(text: str) -> None:
    redacted, _counts = DETECTOR.redact(text)
    assert isinstance(redacted, str)


FRAGMENTS = [
    *(text for _kind, text in PLANTED),
    *LOOK_ALIKES,
    "\ud800",
    "\udfff",
    "\u200b",
    "\u202e",
    "\x00",
    "\x1b[31m",
    "\ufeff",
    "+",
    "@",
    "::",
    " ",
    "\n",
    "0",
    "4111",
    "-",
    ".",
    "(",
    "٣٤٥٦٧٨٩٠١٢",
    "１２３４５６７８９０",
]
ODD_TEXT = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30), st.binary(max_size=20).map(repr)),
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ODD_TEXT)
def test_never_raises_and_redaction_is_idempotent(text: str) -> None:
    once, counts = DETECTOR.redact(text)
    twice, more = DETECTOR.redact(once)
    assert twice == once
    assert not more
    assert sum(counts.values()) >= 0


@settings(max_examples=100, deadline=None)
@given(st.lists(ODD_TEXT, min_size=1, max_size=3))
def test_stage_never_raises_on_any_row_shape(deps: StageDeps, texts: list[str]) -> None:
    stage = PiiStage(PiiOptions(), deps)
    rows = [
        {"text": texts[0]},
        {"prompt": texts[0], "response": texts[-1]},
        {"messages": [{"role": "user", "content": t} for t in texts]},
    ]
    outcomes = stage.run([_doc(row) for row in rows])
    assert len(outcomes) == 3
    for outcome in outcomes:
        assert outcome.verdict.action in (RowAction.KEEP, RowAction.REDACT)
