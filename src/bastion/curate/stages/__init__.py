"""The built-in curation stages, in their default order."""

from bastion.curate.stages.decontamination import DecontaminationStage
from bastion.curate.stages.dedup import DedupStage
from bastion.curate.stages.harm import HarmStage
from bastion.curate.stages.injection import InjectionStage
from bastion.curate.stages.language import LanguageStage
from bastion.curate.stages.pii import PiiStage
from bastion.curate.stages.quality import QualityStage
from bastion.curate.stages.toxicity import ToxicityStage

__all__ = ["BUILT_IN"]

BUILT_IN: tuple[type, ...] = (
    QualityStage,
    LanguageStage,
    DecontaminationStage,
    PiiStage,
    ToxicityStage,
    InjectionStage,
    HarmStage,
    DedupStage,
)
