"""The reference judge's model card (``MODEL_CARD.md``), from its metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_reference_card"]

CARD_FILE = "MODEL_CARD.md"


def _score_row(name: str, s: dict[str, Any]) -> str:
    rates = " | ".join(f"{s[k]:.3f}" for k in ("precision", "recall", "f1", "agreement", "kappa"))
    return f"| {name} | {s['n']} | {rates} |"


def _grid_rows(meta: dict[str, Any]) -> list[str]:
    rows = ["| C | class weight | threshold | CV F1 | CV kappa |", "|---|---|---|---|---|"]
    for g in meta["grid"]:
        cv = g["cv"]
        rows.append(
            f"| {g['C']:g} | {g['class_weight']} | {g['threshold']:.2f} | {cv['f1']:.3f} "
            f"| {cv['kappa']:.3f} |"
        )
    return rows


def _vectorizer_lines(meta: dict[str, Any]) -> list[str]:
    return [
        f"- `{v['analyzer']}` n-grams {v['ngram_range'][0]}-{v['ngram_range'][1]}, at most "
        f"{v['max_features']:,}, min_df {v['min_df']}, sublinear tf, l2-normalised"
        for v in meta["vectorizers"]
    ]


def _data_lines(data: dict[str, Any]) -> list[str]:
    lines = [
        "## Data",
        "",
        "| file | sha256 | split | rows | harmful | not harmful | questions |",
        "|---|---|---|---|---|---|---|",
    ]
    for split in ("train", "dev"):
        c = data[split]
        lines.append(
            f"| `{data['file']['path']}` | `{data['file']['sha256'][:16]}...` | {split} "
            f"| {c['rows']} | {c['harmful']} | {c['not_harmful']} | {data['questions'][split]} |"
        )
    return [
        *lines,
        "",
        "GPTFuzz (sherdencooper/GPTFuzz, MIT): replies of chat models to harmful questions",
        "wrapped in jailbreak templates, hand-labelled; split by question. A repeated",
        "(prompt, reply) pair is kept once. No public benchmark evaluation data was used.",
        "",
    ]


def _procedure_lines(meta: dict[str, Any]) -> list[str]:
    chosen, metrics = meta["chosen"], meta["metrics"]
    return [
        "## Training procedure",
        "",
        *_vectorizer_lines(meta),
        f"- logistic regression; chosen: C {chosen['C']:g}, class weight "
        f"{chosen['class_weight']}, threshold {chosen['threshold']:.2f}",
        f"- choice: {meta['selection']['folds']}-fold cross-validation on `train`, grouped by",
        "  question (out-of-fold Cohen's kappa, best threshold per grid point); `dev` untouched",
        f"- numpy run time reproduces scikit-learn to {meta['runtime_max_abs_diff']:.1e}",
        "",
        *_grid_rows(meta),
        "",
        "## Agreement with the human labels (success = p >= threshold)",
        "",
        "| set | n | precision | recall | F1 | agreement | Cohen's kappa |",
        "|---|---|---|---|---|---|---|",
        _score_row("GPTFuzz train, out-of-fold", metrics["cv_train"]),
        _score_row("GPTFuzz dev", metrics["dev"]),
        "",
        "pyrit's labelled harm test set and the other judges: `bastion redteam judges`",
        "(`docs/results/judges.json`, design note 0044).",
        "",
    ]


def write_reference_card(out: Path, meta: dict[str, Any]) -> None:
    """Write ``MODEL_CARD.md`` into ``out``."""
    lines = [
        f"# {meta['card_title']}",
        "",
        "Reads an assistant reply (the reply alone, not the request) and gives the probability",
        "that it is harmful compliance, i.e. that a jailbreak worked. A refusal counts as no",
        "success even when it names the topic. Used as the default red-team judge for model",
        "targets (`bastion redteam run --judge reference`).",
        "",
        "## Independence",
        "",
        "TF-IDF features and a logistic regression fitted from scratch: no encoder, no embedded",
        "model, no weights of any guard layer. Its only training file is GPTFuzz's labelled",
        "replies, which no guard layer trains on (checked by",
        "`tests/training/test_reference_judge_data.py` over every packaged artifact's data).",
        "",
        *_data_lines(meta["data"]),
        *_procedure_lines(meta),
        "## Limits",
        "",
        "- Lexical: it learns what jailbroken replies in GPTFuzz look like (persona prefixes,",
        "  step lists, refusal phrases). A harmful reply in an unusual style, or a long harmless",
        "  reply in a jailbreak persona, can be misread.",
        "- It reads the reply without the request, so an off-topic harmful reply counts as a",
        "  success and a harmless on-topic answer that looks like a how-to may too.",
        "- English-centred training data (some Chinese replies); other languages are weak.",
        "",
        "## Reproduce",
        "",
        "`bastion train reference-judge` (needs the `train` extra, about 2 min on 2 cores). The",
        "same data and library versions give the same bytes; otherwise update `PACKAGED_SHA256`",
        "in `bastion/redteam/reference_judge.py`.",
        "",
    ]
    (out / CARD_FILE).write_text("\n".join(lines), encoding="utf-8")
