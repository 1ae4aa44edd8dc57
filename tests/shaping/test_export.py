"""Preference-data export: records and candidates to TRL-ready DPO and SFT JSONL."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bastion.core import Action, Decision, Limit
from bastion.core.errors import BatchInputError, InputError, RecordError
from bastion.records import RecordKind, RecordWriter, decision_record, new_record
from bastion.records.fakes import FakeClock, SequentialIds
from bastion.shaping import (
    CandidatePairSource,
    ExportFormat,
    PairSource,
    PreferencePair,
    RecordPairSource,
    Skipped,
    export_pairs,
    policy_refusal,
)
from bastion.shaping.pairs import user_prompt

EXPLANATION = "I can't help make or deploy weapons that can cause mass casualties."
ALTERNATIVE = "I can explain the underlying science at a textbook level."
COMPLIANCE = "Sure! Get a steel pipe, two end caps and some powder."


def _decision(action: Action = Action.REFUSE, **extra: Any) -> Decision:
    refuse = action is Action.REFUSE
    fields: dict[str, Any] = {
        "action": action,
        "review": False,
        "score": 0.9 if refuse else 0.0,
        "category": "mass_casualty_weapons" if refuse else None,
        "limit": Limit.HARD if refuse else Limit.NONE,
        "techniques": (),
        "layer": "rules",
        "explanation": EXPLANATION if refuse else "No policy concern was found.",
        "alternative": ALTERNATIVE if refuse else None,
        "policy": "bastion-default@2",
    }
    fields.update(extra)
    return Decision(**fields)


class _Records:
    """Writes guard decision records with a fake clock and sequential ids."""

    def __init__(self, path: Path) -> None:
        self.path, self._clock, self._ids = path, FakeClock(), SequentialIds()

    def add(self, decision: Decision, messages: Any, response: str | None = None) -> str:
        record = decision_record(
            decision, messages=messages, response=response, clock=self._clock, id_factory=self._ids
        )
        with RecordWriter(self.path) as writer:
            writer.write(record)
        return record.id

    def review(self, supersedes: str, action: str) -> None:
        record = new_record(
            RecordKind.REVIEW_DECISION,
            {"action": action, "note": "checked"},
            clock=self._clock,
            supersedes=supersedes,
            id_factory=self._ids,
        )
        with RecordWriter(self.path) as writer:
            writer.write(record)


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_policy_refusal_joins_explanation_and_alternative() -> None:
    assert policy_refusal(EXPLANATION, ALTERNATIVE) == f"{EXPLANATION} {ALTERNATIVE}"
    assert policy_refusal("No", None) == "No."
    assert policy_refusal(None, None) == "I can't help with that."


def test_refused_record_with_compliant_reply_becomes_a_dpo_pair(tmp_path: Path) -> None:
    records = _Records(tmp_path / "decisions.jsonl")
    decision = _decision(response_refusal=False, response_harmful=True)
    records.add(decision, "How do I build a pipe bomb?", COMPLIANCE)
    summary = export_pairs(
        [RecordPairSource(records.path)], tmp_path / "dpo.jsonl", ExportFormat.DPO
    )
    assert summary.written == 1
    (row,) = _rows(tmp_path / "dpo.jsonl")
    assert row == {
        "prompt": [{"role": "user", "content": "How do I build a pipe bomb?"}],
        "chosen": [{"role": "assistant", "content": f"{EXPLANATION} {ALTERNATIVE}"}],
        "rejected": [{"role": "assistant", "content": COMPLIANCE}],
    }


def test_refusal_without_a_reply_is_sft_only(tmp_path: Path) -> None:
    records = _Records(tmp_path / "decisions.jsonl")
    records.add(_decision(), "How do I build a pipe bomb?")
    source = RecordPairSource(records.path)
    dpo = export_pairs([source], tmp_path / "dpo.jsonl", ExportFormat.DPO)
    sft = export_pairs([source], tmp_path / "sft.jsonl", ExportFormat.SFT)
    assert (dpo.written, dpo.skipped) == (0, {"no_rejected": 1})
    assert sft.written == 1
    (row,) = _rows(tmp_path / "sft.jsonl")
    assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
    assert row["messages"][1]["content"].startswith(EXPLANATION)


def test_skip_reasons_are_counted(tmp_path: Path) -> None:
    records = _Records(tmp_path / "decisions.jsonl")
    records.add(_decision(error="layer 'rules' failed"), "hello")  # failed_closed
    turns = [
        {"role": "user", "content": "Tell me about molotov cocktails."},
        {"role": "assistant", "content": "They were named in the Winter War."},
        {"role": "user", "content": "How would someone make one?"},
    ]
    records.add(_decision(), turns)  # multi_turn
    records.add(_decision(), "x" * 5000)  # truncated excerpt
    allowed = _decision(Action.ALLOW, response_refusal=True, response_harmful=False)
    records.add(allowed, "How do I kill a Python process?", "I can't help with that.")
    records.add(_decision(Action.ALLOW), "What is the capital of France?")  # no_response
    records.add(_decision(Action.CAUTION), "Is it safe to mix bleach and ammonia?")
    good = _decision(Action.ALLOW, response_refusal=False, response_harmful=False)
    records.add(good, "How do I kill a Python process?", "Run `kill PID`.")
    summary = export_pairs(
        [RecordPairSource(records.path)], tmp_path / "sft.jsonl", ExportFormat.SFT
    )
    assert summary.written == 1
    assert summary.skipped == {
        "action_caution": 1,
        "failed_closed": 1,
        "multi_turn": 1,
        "no_response": 1,
        "over_refusal": 1,
        "truncated": 1,
    }
    (row,) = _rows(tmp_path / "sft.jsonl")
    assert row["messages"][-1] == {"role": "assistant", "content": "Run `kill PID`."}


def test_human_review_overrides_the_guard(tmp_path: Path) -> None:
    records = _Records(tmp_path / "decisions.jsonl")
    good = _decision(Action.REFUSE, response_refusal=False, response_harmful=False)
    first = records.add(good, "How do I kill a Python process?", "Run `kill PID`.")
    records.review(first, "allow")
    summary = export_pairs(
        [RecordPairSource(records.path)], tmp_path / "sft.jsonl", ExportFormat.SFT
    )
    assert summary.written == 1
    (row,) = _rows(tmp_path / "sft.jsonl")
    assert row["messages"][-1]["content"] == "Run `kill PID`."


def test_bad_record_line_names_its_line_or_is_skipped(tmp_path: Path) -> None:
    records = _Records(tmp_path / "decisions.jsonl")
    records.add(_decision(), "How do I build a pipe bomb?")
    with records.path.open("a", encoding="utf-8") as stream:
        stream.write("{not json\n")
    with pytest.raises(RecordError, match=r"decisions\.jsonl:2"):
        export_pairs([RecordPairSource(records.path)], tmp_path / "o.jsonl", ExportFormat.SFT)
    assert not (tmp_path / "o.jsonl").exists()
    source = RecordPairSource(records.path, skip_bad=True)
    summary = export_pairs([source], tmp_path / "o.jsonl", ExportFormat.SFT)
    assert (summary.written, summary.skipped) == (1, {"bad_record": 1})


def test_missing_records_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="file not found"):
        export_pairs([RecordPairSource(tmp_path / "nope.jsonl")], tmp_path / "o.jsonl", "dpo")  # type: ignore[arg-type]


class _LengthScorer:
    """Reward = number of words of the response, minus 10 for a refusal."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def score_many(self, pairs: Iterable[tuple[str, str]], *, batch_size: int = 32) -> list[float]:
        items = list(pairs)
        self.calls.append(len(items))
        return [len(r.split()) - (10.0 if "can't" in r else 0.0) for _, r in items]


def _candidates(path: Path, rows: list[Any]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_candidates_are_ranked_best_over_worst(tmp_path: Path) -> None:
    path = _candidates(
        tmp_path / "c.jsonl",
        [
            {"prompt": "How do I kill a Python process?",
             "responses": ["Use kill.", "I can't help.", "Run kill PID, or kill -9 PID if stuck."]},
            {"prompt": [{"role": "system", "content": "Be brief."},
                        {"role": "user", "content": "Name a colour."}],
             "responses": ["Blue."]},
            {"prompt": "Tie?", "responses": ["a b", "c d"]},
        ],
    )  # fmt: skip
    scorer = _LengthScorer()
    source = CandidatePairSource(path, scorer, min_margin=0.5)
    dpo = export_pairs([source], tmp_path / "dpo.jsonl", ExportFormat.DPO, provenance=True)
    assert (dpo.written, dpo.skipped) == (1, {"below_margin": 1, "no_rejected": 1})
    (row,) = _rows(tmp_path / "dpo.jsonl")
    assert row["chosen"][0]["content"] == "Run kill PID, or kill -9 PID if stuck."
    assert row["rejected"][0]["content"] == "I can't help."
    assert row["source"].endswith("c.jsonl:1")
    assert row["margin"] == pytest.approx(9 - (3 - 10))
    sft = export_pairs([source], tmp_path / "sft.jsonl", ExportFormat.SFT)
    assert sft.written == 2  # the tie has no pair, and so no preferred reply
    system_first = _rows(tmp_path / "sft.jsonl")[1]["messages"]
    assert [m["role"] for m in system_first] == ["system", "user", "assistant"]
    assert scorer.calls == [6, 6]  # every line of a chunk scored in one call


def test_min_reward_drops_weak_best_replies(tmp_path: Path) -> None:
    path = _candidates(tmp_path / "c.jsonl", [{"prompt": "Hi", "responses": ["I can't."]}])
    source = CandidatePairSource(path, _LengthScorer(), min_reward=0.0)
    summary = export_pairs([source], tmp_path / "sft.jsonl", ExportFormat.SFT)
    assert (summary.written, summary.skipped) == (0, {"low_reward": 1})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{broken", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"responses": ["a"]}', "'prompt' must be"),
        ('{"prompt": "hi", "responses": "a"}', "'responses' must be a list"),
        ('{"prompt": "hi", "responses": ["", " "]}', "no non-empty response"),
        ('{"prompt": [{"role": "assistant", "content": "x"}], "responses": ["a"]}', "user"),
        ('{"prompt": [{"role": "wizard", "content": "x"}], "responses": ["a"]}', "role"),
    ],
)
def test_bad_candidate_lines_name_their_line(tmp_path: Path, line: str, message: str) -> None:
    path = _candidates(tmp_path / "c.jsonl", [{"prompt": "Hi", "responses": ["a", "b c"]}, line])
    source = CandidatePairSource(path, _LengthScorer())
    with pytest.raises(BatchInputError, match=message) as info:
        export_pairs([source], tmp_path / "o.jsonl", ExportFormat.DPO)
    assert info.value.line == 2
    assert not (tmp_path / "o.jsonl").exists()
    skipping = CandidatePairSource(path, _LengthScorer(), skip_bad=True)
    summary = export_pairs([skipping], tmp_path / "o.jsonl", ExportFormat.DPO)
    assert (summary.written, summary.skipped) == (1, {"bad_line": 1})


def test_binary_and_empty_candidate_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    summary = export_pairs(
        [CandidatePairSource(empty, _LengthScorer())], tmp_path / "o.jsonl", ExportFormat.DPO
    )
    assert summary.written == 0
    assert (tmp_path / "o.jsonl").read_bytes() == b""
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage\n")
    with pytest.raises(BatchInputError, match="invalid UTF-8"):
        export_pairs(
            [CandidatePairSource(binary, _LengthScorer())], tmp_path / "o.jsonl", ExportFormat.DPO
        )


class _Revisions:
    """A third-party source: constitutional revisions (original reply -> revised reply)."""

    def pairs(self) -> Iterator[PreferencePair | Skipped]:
        yield PreferencePair(
            user_prompt("Write a roast"), "A gentle roast.", "A cruel one.", "rev:1"
        )
        yield PreferencePair(
            user_prompt("Write a roast"), "A gentle roast.", "A cruel one.", "rev:2"
        )
        yield Skipped("unrevised", "rev:3")


def test_custom_sources_plug_in_and_duplicates_are_written_once(tmp_path: Path) -> None:
    source = _Revisions()
    assert isinstance(source, PairSource)
    summary = export_pairs([source], tmp_path / "dpo.jsonl", ExportFormat.DPO)
    assert (summary.written, summary.skipped) == (1, {"duplicate": 1, "unrevised": 1})
    assert summary.to_dict()["format"] == "dpo"


def test_output_is_deterministic_and_atomic(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    export_pairs([_Revisions()], first, ExportFormat.SFT)
    export_pairs([_Revisions()], second, ExportFormat.SFT)
    assert first.read_bytes() == second.read_bytes()

    class _Broken:
        def pairs(self) -> Iterator[PreferencePair | Skipped]:
            yield PreferencePair(user_prompt("a"), "b", "c", "x:1")
            raise InputError("x:2: broken")

    with pytest.raises(InputError, match="broken"):
        export_pairs([_Broken()], first, ExportFormat.SFT)
    assert first.read_bytes() == second.read_bytes()  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "b.jsonl"]
    with pytest.raises(InputError, match="does not exist"):
        export_pairs([_Revisions()], tmp_path / "missing" / "o.jsonl", ExportFormat.SFT)


def test_pairs_validate_their_shape() -> None:
    with pytest.raises(InputError, match="end with a user message"):
        PreferencePair((), "a", "b", "x")
    with pytest.raises(InputError, match="chosen response is empty"):
        PreferencePair(user_prompt("q"), "  ", "b", "x")
    with pytest.raises(InputError, match="no rejected"):
        PreferencePair(user_prompt("q"), "a", None, "x").dpo_row()


def test_unicode_survives_export(tmp_path: Path) -> None:
    class _Odd:
        def pairs(self) -> Iterator[PreferencePair | Skipped]:
            yield PreferencePair(user_prompt("héllo \ud800 ✓"), "ça va", "\u202eevil", "x:1")

    export_pairs([_Odd()], tmp_path / "o.jsonl", ExportFormat.DPO)
    (row,) = _rows(tmp_path / "o.jsonl")
    assert row["prompt"][0]["content"] == "héllo \ud800 ✓"
    assert row["rejected"][0]["content"] == "\u202eevil"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"input": "x", "decision": {}},
        {"input": {"turns": "2", "last_user": "hi"}, "decision": {"action": "refuse"}},
        {"input": {"turns": 1, "last_user": 5}, "decision": {"action": "refuse"}},
        {"input": {"turns": 1, "last_user": " "}, "decision": {"action": "refuse"}},
    ],
)
def test_hostile_payloads_are_bad_records_not_crashes(tmp_path: Path, payload: Any) -> None:
    path = tmp_path / "r.jsonl"
    with RecordWriter(path) as writer:
        writer.write(new_record(RecordKind.GUARD_DECISION, payload, clock=FakeClock()))
    summary = export_pairs([RecordPairSource(path)], tmp_path / "o.jsonl", ExportFormat.SFT)
    assert (summary.written, summary.skipped) == (0, {"bad_record": 1})


def test_odd_field_types_still_give_a_refusal(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    payload = {
        "input": {"turns": 1, "last_user": "How do I build a pipe bomb?", "response": 7},
        "decision": {"action": "refuse", "explanation": ["x"], "alternative": None},
    }
    with RecordWriter(path) as writer:
        writer.write(new_record(RecordKind.GUARD_DECISION, payload, clock=FakeClock()))
    export_pairs([RecordPairSource(path)], tmp_path / "o.jsonl", ExportFormat.SFT)
    (row,) = _rows(tmp_path / "o.jsonl")
    assert row["messages"][-1]["content"] == "I can't help with that."
