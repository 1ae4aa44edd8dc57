"""The harm stage's own logic: paragraph units and the curation contexts' mapping."""

from __future__ import annotations

from bastion.core.types import Action
from bastion.curate.contexts import DEFAULT_CONTEXTS
from bastion.curate.stages.harm import paragraphs
from bastion.curate.verdict import RowAction


def test_paragraphs_split_at_blank_lines_and_merge_short_ones() -> None:
    text = "Title\n\nA first paragraph that is long enough to stand alone.\n\n\n\nShort.\n\nEnd."
    assert paragraphs(text, 32) == [
        "Title\n\nA first paragraph that is long enough to stand alone.",
        "Short.\n\nEnd.",
    ]


def test_paragraphs_past_the_limit_are_merged_into_the_last_unit() -> None:
    text = "\n\n".join(f"paragraph number {i} with enough words to count" for i in range(10))
    units = paragraphs(text, 3)
    assert len(units) == 3
    assert units[-1].count("paragraph number") == 8


def test_blank_text_has_no_units() -> None:
    assert paragraphs(" \n\n \n", 5) == []


def test_prompt_attacks_are_left_to_the_injection_stage_in_every_default_context() -> None:
    for context in DEFAULT_CONTEXTS.values():
        assert context.row_action(Action.REFUSE, "prompt_attack", "soft") is RowAction.KEEP
        assert context.row_action(Action.REFUSE, "violent_crimes", "soft") is RowAction.DROP
        assert context.row_action(Action.CAUTION, "indiscriminate_weapons", "hard") is (
            RowAction.DROP
        )


def test_minors_context_is_stricter() -> None:
    minors, general = DEFAULT_CONTEXTS["sft_minors"], DEFAULT_CONTEXTS["sft_general"]
    assert minors.policy_context == "minors"
    assert minors.row_action(Action.ASK_CONTEXT, "cybersecurity", "soft") is RowAction.DROP
    assert general.row_action(Action.ASK_CONTEXT, "cybersecurity", "soft") is RowAction.FLAG
    assert minors.row_action(Action.CAUTION, "sexual_content", "soft") is RowAction.DROP
