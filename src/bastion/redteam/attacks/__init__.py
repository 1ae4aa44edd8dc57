"""The built-in attacks, one module per kind of technique (see :data:`BUILT_IN`)."""

from __future__ import annotations

from bastion.redteam.attacks.framing import (
    AuthorityAttack,
    DanTemplatesAttack,
    DirectAttack,
    EmotionalAttack,
    FictionAttack,
    PersonaAttack,
    ResearchAttack,
)
from bastion.redteam.attacks.injection import DirectInjectionAttack, IndirectInjectionAttack
from bastion.redteam.attacks.multiturn import CrescendoAttack, PairAttack
from bastion.redteam.attacks.obfuscation import (
    Base64Attack,
    HomoglyphAttack,
    LeetspeakAttack,
    PayloadSplitAttack,
    Rot13Attack,
    ZeroWidthAttack,
)
from bastion.redteam.attacks.persuasion import PersuasionAttack
from bastion.redteam.attacks.rewrites import (
    FutureTenseAttack,
    LanguageSwitchAttack,
    ManyShotAttack,
    PastTenseAttack,
)

__all__ = ["BUILT_IN"]

BUILT_IN: tuple[type, ...] = (
    DirectAttack,
    DanTemplatesAttack,
    PersonaAttack,
    FictionAttack,
    ResearchAttack,
    EmotionalAttack,
    AuthorityAttack,
    PersuasionAttack,
    DirectInjectionAttack,
    IndirectInjectionAttack,
    Base64Attack,
    Rot13Attack,
    LeetspeakAttack,
    HomoglyphAttack,
    ZeroWidthAttack,
    PayloadSplitAttack,
    PastTenseAttack,
    FutureTenseAttack,
    ManyShotAttack,
    LanguageSwitchAttack,
    CrescendoAttack,
    PairAttack,
)
"""Every attack class bastion ships, in listing order."""
