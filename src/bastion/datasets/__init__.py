"""Project-authored datasets that ship with bastion.

The over-refusal contrast set pairs safe prompts that look unsafe with minimally different
unsafe prompts; see ``CONTRAST_CARD.md`` beside this module for how it was made and how to
use it::

    from bastion.datasets import load_contrast_set

    dev = load_contrast_set("dev")  # tune and train on this
    test = load_contrast_set("test")  # report on this; never train on it

The frozen world dev set holds hand-written prompts in five languages and styles no
training source has, for choosing models and thresholds; see ``WORLD_DEV_CARD.md``::

    from bastion.datasets import load_world_dev_set

    french = load_world_dev_set("fr")  # never train on it
"""

from bastion.datasets.contrast import (
    CATEGORY_IDS,
    CONTRAST_SET_NAME,
    CONTRAST_SET_SHA256,
    DEV_PERCENT,
    KINDS,
    SPLITS,
    ContrastPair,
    contrast_set_bytes,
    load_contrast_set,
    parse_contrast_lines,
    split_for,
    verify_contrast_set,
)
from bastion.datasets.world import (
    WORLD_DEV_LABELS,
    WORLD_DEV_LANGUAGES,
    WORLD_DEV_SET_NAME,
    WORLD_DEV_SET_SHA256,
    WORLD_DEV_STYLES,
    WorldPrompt,
    load_world_dev_set,
    parse_world_lines,
    verify_world_dev_set,
    world_dev_set_bytes,
)

__all__ = [
    "CATEGORY_IDS",
    "CONTRAST_SET_NAME",
    "CONTRAST_SET_SHA256",
    "DEV_PERCENT",
    "KINDS",
    "SPLITS",
    "WORLD_DEV_LABELS",
    "WORLD_DEV_LANGUAGES",
    "WORLD_DEV_SET_NAME",
    "WORLD_DEV_SET_SHA256",
    "WORLD_DEV_STYLES",
    "ContrastPair",
    "WorldPrompt",
    "contrast_set_bytes",
    "load_contrast_set",
    "load_world_dev_set",
    "parse_contrast_lines",
    "parse_world_lines",
    "split_for",
    "verify_contrast_set",
    "verify_world_dev_set",
    "world_dev_set_bytes",
]
