"""The multilingual classifier v2's model card (Markdown), written from its metadata."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from bastion.training.multilingual_data import LANGUAGES

__all__ = ["CARD_FILE", "write_multilingual_card"]

CARD_FILE = "MODEL_CARD.md"


def _pct(cell: dict[str, Any]) -> str:
    if not cell["n"]:
        return "n/a"
    low, high = cell["ci95"]
    return f"{100 * cell['rate']:.1f} % [{100 * low:.1f}, {100 * high:.1f}] (n={cell['n']})"


def _data_rows(data: dict[str, Any]) -> list[str]:
    rows = ["| source | file | records | sha256 |", "|---|---|---|---|"]
    for name, f in data["files"].items():
        rows.append(f"| {name} | `{f['path']}` | {f.get('records', 'n/a')} | `{f['sha256']}` |")
    per: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for key, count in data["used"].items():
        source, lang, label = key.split("/")
        per[source][lang][int(label)] += count
    rows += [
        "",
        f"Intent set: {data['intent_set']}.",
        "",
        "Examples used (harmful / benign per language):",
        "",
        "| source | languages |",
        "|---|---|",
    ]
    for source, langs in sorted(per.items()):
        cells = ", ".join(f"{lang} {h}/{b}" for lang, (b, h) in sorted(langs.items()))
        rows.append(f"| {source} | {cells} |")
    rows += ["", "Skipped: " + "; ".join(data["skipped"]) + "."]
    return rows


def _language_rows(table: dict[str, Any], worst: bool) -> list[str]:
    head = "| language | harmful caught [95 % CI] | benign passed [95 % CI] |"
    rule = "|---|---|---|"
    if worst:
        head += " worst source (harmful caught) |"
        rule += "---|"
    rows = [head, rule]
    for lang, cell in table.items():
        line = f"| {lang} | {_pct(cell['harmful_caught'])} | {_pct(cell['benign_passed'])} |"
        if worst:
            w = cell.get("worst_source")
            line += f" {w['source']} {100 * w['harmful_caught']:.1f} % |" if w else " n/a |"
        rows.append(line)
    return rows


def _source_rows(loso: dict[str, Any]) -> list[str]:
    rows = [
        "| language | held-out source | harmful caught [95 % CI] | benign passed [95 % CI] |",
        "|---|---|---|---|",
    ]
    for lang in LANGUAGES:
        for source, cell in loso.get(lang, {}).get("by_source", {}).items():
            rows.append(
                f"| {lang} | {source} | {_pct(cell['harmful_caught'])} |"
                f" {_pct(cell['benign_passed'])} |"
            )
    return rows


def _target_rows(targets: dict[str, Any]) -> list[str]:
    names = sorted({k for checks in targets.values() for k in checks})
    rows = ["| language | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for lang, checks in targets.items():
        marks = " | ".join("met" if checks.get(n) else "**missed**" for n in names)
        rows.append(f"| {lang} | {marks} |")
    return rows


def _procedure(meta: dict[str, Any]) -> list[str]:
    cal = meta["calibration"]
    folds = meta["evaluation"]["folds"]
    offsets: dict[str, float] = meta.get("language_offsets", {})
    return [
        "- Every text embedded with multilingual-e5-small (`query:` prefix, unit length).",
        "- Unsafe head: L2 logistic regression (C=4), balanced class weights times sample",
        "  weights (contrast pairs 3, project sets 2). Category head: one-vs-rest logistic",
        f"  regression over {', '.join(meta['categories'])}",
        "  (taxonomy ids, `bastion.policy.taxonomy`; classes with at least 10 examples).",
        f"- Leave one language out: for each language and each of {folds} folds of item",
        "  groups (translations together), the head is fitted on the other languages minus",
        "  that fold and scores that language's rows in the fold: language and item unseen.",
        "- Leave one source out: the head is fitted on every other source (minus any item",
        "  group the held-out source shares) and scores the held-out source.",
        "- Language offsets (logits): "
        + (", ".join(f"{k} {v:+.3f}" for k, v in sorted(offsets.items())) or "none")
        + ". Each language with at least 500 benign prompts is shifted so that its own",
        "  benign-target threshold (the stricter of the two schemes) meets the strictest",
        "  language's; the layer adds the guessed language's offset before calibration, and",
        "  a language without one (Italian, Portuguese, any other) is read unshifted.",
        f"- Calibration: Platt scaling of the shifted leave-one-language-out logits"
        f" (a={cal['platt_a']:.3f}, b={cal['platt_b']:.3f}).",
        f"- Operating threshold {meta['threshold']:.4f}: {meta['threshold_rule']}. The tables"
        " below are read at that threshold, so their benign rows were used to choose it.",
        "- The shipped heads are then fitted on all the data with that calibration and threshold.",
        f"- Seed {meta['seed']}; versions: {meta['versions']}.",
    ]


def write_multilingual_card(out: Path, meta: dict[str, Any]) -> None:
    """Write ``MODEL_CARD.md`` beside the artifact."""
    ev = meta["evaluation"]
    agreement = ev["category_head_training_agreement"]
    lines = [
        f"# {meta['card_title']}",
        "",
        f"Linear heads over {meta['encoder']['name']} sentence embeddings, trained on",
        "prompts in English, German, French, Spanish, Italian and Portuguese. Output: the",
        "calibrated probability that a user prompt is harmful, plus a taxonomy category.",
        "Served by the `multilingual_classifier` layer for turns the language guess does not",
        "call English (design note 0047).",
        "",
        "## Data",
        "",
        *_data_rows(meta["data"]),
        "",
        "XSafety items were labelled one by one from their English text (harmful, benign or",
        "left out; rules and every exception in `bastion.training.multilingual_labels`): most",
        "of its Mental_Health, Physical_Harm, Ethics_And_Morality, commonsense,",
        "Prompt_Leaking and Reverse_Exposure items are not harmful requests.",
        "",
        "## Training procedure",
        "",
        *_procedure(meta),
        "",
        "## Leave one language out",
        "",
        *_language_rows(ev["leave_one_language_out"], worst=False),
        "",
        "## Leave one source out",
        "",
        *_language_rows(
            {k: v for k, v in ev["leave_one_source_out"].items() if k in LANGUAGES}, worst=True
        ),
        "",
        "Worst source: the lowest harmful catch among held-out sources with at least 20",
        "harmful prompts in that language.",
        "",
        *_source_rows(ev["leave_one_source_out"]),
        "",
        "## Targets",
        "",
        *_target_rows(ev["targets"]),
        "",
        "## Category head",
        "",
        "Training-set agreement on categorised harmful prompts (an upper bound, not a "
        "held-out figure): "
        + ", ".join(f"{lang} {100 * c['rate']:.1f} % (n={c['n']})" for lang, c in agreement.items())
        + ".",
        "",
        "## Limits",
        "",
        "- The held-out figures are per source and per language, but every source is one",
        "  style: XSafety is translated from Chinese-origin prompts, MT-Bench-X and XQuAD are",
        "  translations; real non-English traffic (code-switching, slang, informal spelling)",
        "  is not measured here.",
        "- Italian and Portuguese harmful prompts come from the project's small sets only,",
        "  so their intervals are wide.",
        "- No intent head: a flagged turn is read as `facilitate` (the policy's default), so",
        "  a non-English person in crisis who is flagged may be refused rather than supported;",
        "  suicidal statements were left out of training for that reason.",
        "- Texts are read up to 2,000 characters (512 tokens); a long non-English prompt with",
        "  the request at its end may be read in part only.",
        "- Judges user prompts only; replies need a separate model.",
        "",
    ]
    (out / CARD_FILE).write_text("\n".join(lines), encoding="utf-8")
