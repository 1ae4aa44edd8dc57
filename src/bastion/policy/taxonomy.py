"""The standard hazard taxonomy (policy format 2): MLCommons / Llama Guard categories.

Categories follow the MLCommons hazard taxonomy that AILuminate and Llama Guard 3/4 share
(codes ``S1``..``S14``), plus ``targeted_attacks`` (this project's hard limit on
operational help against real targets, filed under ``S1``) and ``prompt_attack`` (no
Llama Guard code). Finer hazards are *subcategories*: the names layers of policy format 1
emit (``cybersecurity``, ``drugs``, ``violence``, ...) are subcategories of a standard
category, so old models and rules keep working and a context can still treat
security knowledge apart from other non-violent crime.

This module holds names only; actions live in the policy file.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

__all__ = [
    "CATEGORY_CODES",
    "OPENAI_KEYS",
    "OPENAI_MAP",
    "PROMPT_ATTACK",
    "STANDARD_CATEGORIES",
    "SUBCATEGORY_PARENT",
    "V1_TO_V2",
]

PROMPT_ATTACK: Final = "prompt_attack"

CATEGORY_CODES: Final = MappingProxyType(
    {
        "violent_crimes": "S1",
        "non_violent_crimes": "S2",
        "sex_related_crimes": "S3",
        "child_sexual_exploitation": "S4",
        "defamation": "S5",
        "specialized_advice": "S6",
        "privacy": "S7",
        "intellectual_property": "S8",
        "indiscriminate_weapons": "S9",
        "hate": "S10",
        "suicide_self_harm": "S11",
        "sexual_content": "S12",
        "elections": "S13",
        "code_interpreter_abuse": "S14",
        "targeted_attacks": "S1",
    }
)
"""Standard category -> its Llama Guard 3 / MLCommons hazard code."""

STANDARD_CATEGORIES: Final = (*CATEGORY_CODES, PROMPT_ATTACK)

SUBCATEGORY_PARENT: Final = MappingProxyType(
    {
        # format-1 category names, kept as subcategories
        "violence": "violent_crimes",
        "mass_harm": "targeted_attacks",
        "extremism": "violent_crimes",
        "weapons": "non_violent_crimes",
        "cybersecurity": "non_violent_crimes",
        "drugs": "non_violent_crimes",
        "sexual_minors": "child_sexual_exploitation",
        "mass_casualty_weapons": "indiscriminate_weapons",
        "self_harm": "suicide_self_harm",
        "sexual_adult": "sexual_content",
        "personal_data": "privacy",
        "medical_advice": "specialized_advice",
        "legal_advice": "specialized_advice",
        "financial_advice": "specialized_advice",
        "hate_harassment": "hate",
        "manipulation": PROMPT_ATTACK,
        # finer hazards new in format 2
        "fraud": "non_violent_crimes",
        "jailbreak": PROMPT_ATTACK,
        "prompt_injection": PROMPT_ATTACK,
        "system_prompt_extraction": PROMPT_ATTACK,
    }
)
"""Standard subcategory -> its category."""

V1_TO_V2: Final = MappingProxyType({**SUBCATEGORY_PARENT, "targeted_attacks": "targeted_attacks"})
"""Format-1 default category -> the format-2 category it belongs to."""

OPENAI_KEYS: Final = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)

OPENAI_MAP: Final = MappingProxyType(
    {
        "violent_crimes": ("violence", "illicit/violent"),
        "non_violent_crimes": ("illicit",),
        "sex_related_crimes": ("sexual", "illicit/violent"),
        "child_sexual_exploitation": ("sexual/minors", "sexual"),
        "defamation": ("harassment",),
        "privacy": ("harassment",),
        "indiscriminate_weapons": ("illicit/violent", "illicit"),
        "hate": ("hate", "harassment"),
        "suicide_self_harm": ("self-harm", "self-harm/intent"),
        "sexual_content": ("sexual",),
        "targeted_attacks": ("violence", "illicit/violent", "harassment/threatening"),
        # subcategories with a sharper OpenAI key than their category's
        "violence": ("violence", "violence/graphic"),
        "extremism": ("hate/threatening", "illicit/violent"),
        "weapons": ("illicit/violent",),
        "mass_harm": ("illicit/violent", "violence"),
        "hate_harassment": ("hate", "harassment"),
    }
)
"""Category or subcategory -> the OpenAI moderation keys it sets (most specific wins)."""
