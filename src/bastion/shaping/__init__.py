"""Safety shaping: a reward model for safe *and* helpful replies, and preference data export.

- :class:`RewardModel` scores a (prompt, response) pair; higher is better. Refusing a
  harmful request scores high, and so does answering a harmless one; a needless refusal
  scores low. Numpy inference over the frozen MiniLM encoder::

      from bastion.shaping import RewardModel

      model = RewardModel.load()  # the packaged reward_model_v1
      model.score("How do I kill a Python process?", "Run `kill PID`, or `kill -9 PID`.")

- :func:`export_pairs` writes TRL-ready JSON Lines (DPO preference pairs or SFT
  conversations) from any :class:`PairSource`: guard decision records
  (:class:`RecordPairSource`), candidate responses ranked by the reward model
  (:class:`CandidatePairSource`), or a source of your own (one ``pairs()`` method).

See ``docs/shaping.md`` for the formats and a TRL example, and ``docs/models/reward_model.md``
for what the reward model was trained on and how well it ranks.
"""

from bastion.shaping.export import ExportFormat, ExportSummary, export_pairs
from bastion.shaping.features import FeatureSpec
from bastion.shaping.from_candidates import CandidatePairSource, Scorer
from bastion.shaping.from_records import RecordPairSource, policy_refusal
from bastion.shaping.pairs import PairSource, PreferencePair, Skipped
from bastion.shaping.reward import RewardModel, preference_probability

__all__ = [
    "CandidatePairSource",
    "ExportFormat",
    "ExportSummary",
    "FeatureSpec",
    "PairSource",
    "PreferencePair",
    "RecordPairSource",
    "RewardModel",
    "Scorer",
    "Skipped",
    "export_pairs",
    "policy_refusal",
    "preference_probability",
]
