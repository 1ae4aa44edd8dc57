"""Project-authored datasets that ship with bastion.

The over-refusal contrast set pairs safe prompts that look unsafe with minimally different
unsafe prompts; see ``CONTRAST_CARD.md`` beside this module for how it was made and how to
use it::

    from bastion.datasets import load_contrast_set

    dev = load_contrast_set("dev")  # tune and train on this
    test = load_contrast_set("test")  # report on this; never train on it
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

__all__ = [
    "CATEGORY_IDS",
    "CONTRAST_SET_NAME",
    "CONTRAST_SET_SHA256",
    "DEV_PERCENT",
    "KINDS",
    "SPLITS",
    "ContrastPair",
    "contrast_set_bytes",
    "load_contrast_set",
    "parse_contrast_lines",
    "split_for",
    "verify_contrast_set",
]
