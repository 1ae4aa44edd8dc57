"""The curation summary (counts, merge, JSON) and the report files drawn from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.core.errors import InputError
from bastion.curate.document import parse_document
from bastion.curate.report import report_view, write_report
from bastion.curate.report_html import PLOTS
from bastion.curate.summary import (
    MAX_KEYS,
    OTHER,
    SCORE_SAMPLE,
    CurationSummary,
    SummaryBuilder,
)
from bastion.curate.verdict import CuratedRow, RowAction, StageVerdict
from bastion.records import Record, RecordKind, read_records
from bastion.records.fakes import FakeClock

KEEP, DROP, FLAG, REDACT = RowAction.KEEP, RowAction.DROP, RowAction.FLAG, RowAction.REDACT
HOSTILE = "<script>alert('x')</script> & $\\frac{ | pipe"


def _row(line: int, *verdicts: StageVerdict, text: str | None = None) -> CuratedRow:
    doc = parse_document({"text": text or f"row number {line}"}, shard="s", line=line)
    return CuratedRow(doc, verdicts)


def _corpus(n: int = 60) -> list[CuratedRow]:
    """Rows exercising every table: quality drops, languages, PII, harm, dedup clusters."""
    rows = []
    for i in range(n):
        if i % 10 == 9:
            rows.append(
                _row(
                    i,
                    StageVerdict(
                        "quality", DROP, 120.0 + i, "too_short", "gopher.min_words<50", "9 words"
                    ),
                    text=f"{HOSTILE} {i}",
                )
            )
            continue
        lang = ("en", "fr", "de")[i % 3]
        verdicts = [
            StageVerdict("quality", KEEP, float(i)),
            StageVerdict("language", KEEP, 0.9, details={"language": lang, "confidence": 0.9}),
            StageVerdict("pii", REDACT if i % 4 == 0 else KEEP, None, "email" if i % 4 else None),
        ]
        if i % 7 == 3:
            verdicts.append(
                StageVerdict(
                    "harm",
                    DROP,
                    0.97,
                    "harm:violent_crimes",
                    "policy default: violent_crimes/facilitate -> refuse",
                    "explains how to hurt someone",
                    {"category": "violent_crimes", "intent": "facilitate", "action": "refuse"},
                )
            )
        else:
            harm_action = FLAG if i % 11 == 5 else KEEP
            reason = "refusal_example" if harm_action is FLAG else None
            verdicts.append(StageVerdict("harm", harm_action, i / n, reason, details={}))
            cluster = f"s:{i - i % 4}"  # clusters of up to 4 rows: the first is kept
            dedup = KEEP if i % 4 == 0 else DROP
            verdicts.append(
                StageVerdict(
                    "dedup",
                    dedup,
                    reason=None if dedup is KEEP else "near_duplicate",
                    details={"cluster": cluster},
                )
            )
        rows.append(_row(i, *verdicts))
    return rows


def _summary(rows: list[CuratedRow], errors: int = 0) -> CurationSummary:
    builder = SummaryBuilder()
    for row in rows:
        builder.add(row)
    for line in range(errors):
        builder.add_error("s", 1000 + line, "not JSON", "{broken")
    return builder.build()


def test_builder_counts_rows_stages_reasons_and_tables() -> None:
    rows = _corpus()
    summary = _summary(rows, errors=2)
    kept = sum(r.kept for r in rows)
    totals = summary.totals
    assert (totals.rows, totals.kept, totals.removed, totals.errors) == (62, kept, 60 - kept, 2)
    assert totals.redacted == sum(
        r.kept and any(v.action is REDACT for v in r.verdicts) for r in rows
    )
    quality = summary.stages["quality"]
    assert (quality.seen, quality.dropped) == (60, 6)
    assert quality.reasons == {"drop": {"too_short": 6}}
    assert not quality.scores.bounded and quality.scores.count == 60
    harm = summary.stages["harm"]
    assert harm.dropped == summary.harm["violent_crimes"].removed
    assert harm.flagged == sum(harm.reasons["flag"].values())
    assert summary.stages["harm"].scores.bounded
    assert sum(summary.stages["harm"].scores.bins) == harm.seen
    assert sum(v.kept + v.removed for v in summary.languages.values()) == 54
    assert summary.languages["en"].removed == sum(
        1
        for r in rows
        if r.verdicts[1:2] and r.verdicts[1].details["language"] == "en" and not r.kept
    )
    assert max(summary.clusters.values()) == 4 and sum(summary.clusters.values()) == 46
    assert [s.reason for s in summary.removed_samples["quality"]["too_short"]] == ["too_short"] * 5
    sample = summary.removed_samples["harm"]["harm:violent_crimes"][0]
    assert (sample.score, sample.evidence) == (0.97, "explains how to hurt someone")
    assert summary.flagged_samples["harm"]["refusal_example"]
    assert len(summary.error_samples) == 2


def test_merge_equals_one_pass_and_json_round_trips(tmp_path: Path) -> None:
    rows = _corpus(80)
    whole = _summary(rows, errors=1)
    first, second = _summary(rows[:33]), _summary(rows[33:], errors=1)
    assert first.merge(second) == whole
    assert first.merge(CurationSummary()) == first == CurationSummary().merge(first)
    path = tmp_path / "state" / "s.json"
    whole.save(path)
    assert CurationSummary.load(path) == whole
    assert CurationSummary.model_validate(json.loads(path.read_text("utf-8"))) == whole


def test_load_refuses_what_is_not_a_summary(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"format": "something else"}', "utf-8")
    with pytest.raises(InputError, match="not a curation summary"):
        CurationSummary.load(path)


def test_samples_scores_and_keys_stay_bounded() -> None:
    builder = SummaryBuilder()
    for i in range(SCORE_SAMPLE + 50):
        builder.add(_row(i, StageVerdict("quality", DROP, float(i), f"reason-{i % 1100}")))
    summary = builder.build()
    stats = summary.stages["quality"]
    assert len(stats.scores.sample) == SCORE_SAMPLE and stats.scores.high == SCORE_SAMPLE + 49
    assert len(stats.reasons["drop"]) == MAX_KEYS + 1 and OTHER in stats.reasons["drop"]
    assert sum(stats.reasons["drop"].values()) == SCORE_SAMPLE + 50
    assert all(len(rows) <= 5 for rows in summary.removed_samples["quality"].values())


def test_report_files_record_and_escaping(tmp_path: Path) -> None:
    summary = _summary(_corpus(), errors=1)
    files = write_report(
        summary, tmp_path, title="Curation of corpus", meta={"engine": "local"}, clock=FakeClock()
    )
    assert all(p.is_file() for p in (files.json, files.markdown, files.html))
    (record,) = read_records(files.json)
    assert record.kind is RecordKind.CURATION_REPORT
    assert Record.model_validate_json(files.json.read_text("utf-8")) == record
    payload = record.payload
    assert payload["totals"]["rows"] == 61 and payload["meta"]["engine"] == "local"
    assert payload["duplicates"]["largest"][0]["rows"] == 4
    assert not payload["scores"]["quality"]["exact"] and payload["scores"]["harm"]["exact"]
    html = files.html.read_text("utf-8")
    assert html.count("<img") == len(PLOTS)
    assert "<script" not in html and "&lt;script&gt;alert(" in html
    markdown = files.markdown.read_text("utf-8")
    assert "| quality | drop | too_short | 6 |" in markdown and "<script" not in markdown


def test_empty_summary_gives_a_valid_report(tmp_path: Path) -> None:
    files = write_report(SummaryBuilder().build(), tmp_path, title="empty", meta={})
    (record,) = read_records(files.json)
    assert record.payload["totals"]["rows"] == 0
    html = files.html.read_text("utf-8")
    assert "No rows were read." in html and "<img" not in html
    assert "No rows were read." in files.markdown.read_text("utf-8")


def test_odd_scores_and_labels_still_plot(tmp_path: Path) -> None:
    builder = SummaryBuilder()
    odd = ["$\\frac{", "\x00\u202e", "日本語", "a" * 500, "\ud800"]
    for i, label in enumerate(odd):
        score = (1e308, -1e308, float("nan"), float("inf"), 5.0)[i]
        details: dict[str, Any] = {"category": label, "language": label, "cluster": label}
        for stage in ("harm", "language", "dedup"):
            builder.add(_row(i, StageVerdict(stage, DROP, score, label, label, label, details)))
    summary = builder.build()
    json.dumps(summary.model_dump(mode="json"), allow_nan=False).encode("utf-8")
    files = write_report(summary, tmp_path, title=odd[0], meta={"note": odd[-1]})
    assert files.html.read_text("utf-8").count("<img") == len(PLOTS)


def test_view_histogram_of_a_single_unbounded_value() -> None:
    builder = SummaryBuilder()
    builder.add(_row(1, StageVerdict("quality", KEEP, 42.0)))
    hist = report_view(builder.build(), title="t", meta={})["scores"]["quality"]
    assert hist["counts"] == [1] and hist["edges"][0] < 42.0 < hist["edges"][1]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
_verdicts = st.builds(
    StageVerdict,
    stage=st.sampled_from(["harm", "language", "dedup", "quality", ""]) | st.text(),
    action=st.sampled_from(list(RowAction)),
    score=st.none() | st.floats(),
    reason=st.none() | st.text(),
    rule=st.none() | st.text(),
    evidence=st.none() | st.text(),
    details=st.dictionaries(
        st.sampled_from(["category", "language", "cluster", "intent"]) | st.text(), _json
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_verdicts, max_size=4), max_size=6), st.text())
def test_arbitrary_verdicts_never_break_the_builder(
    verdict_lists: list[list[StageVerdict]], text: str
) -> None:
    rows = [_row(i + 1, *verdicts, text=text or "x") for i, verdicts in enumerate(verdict_lists)]
    cut = len(rows) // 2
    summary = _summary(rows)
    assert summary.totals.rows == len(rows)
    assert _summary(rows[:cut]).merge(_summary(rows[cut:])) == summary
    data = json.dumps(summary.model_dump(mode="json"), allow_nan=False, ensure_ascii=False)
    data.encode("utf-8")  # no lone surrogates left: the state file always writes
    assert CurationSummary.model_validate(json.loads(data)) == summary
    json.dumps(report_view(summary, title=text, meta={}), allow_nan=False)
