"""The response classifier's model card (Markdown) and HTML report (matplotlib PNGs)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bastion.models.response_classifier import KINDS
from bastion.training.figures import png_data_uri
from bastion.training.report import CARD_FILE, REPORT_FILE
from bastion.training.response_data import ResponseExample
from bastion.training.response_metrics import reliability

__all__ = ["write_response_card", "write_response_report"]

Float = npt.NDArray[np.float64]


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _split_rows(metrics: dict[str, Any]) -> list[str]:
    rows = [
        "| split | n | decline F1 | full-refusal F1 | 3-way macro-F1 | harmful AUROC"
        " | harmful F1 | catch | pass | harmful ECE |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ("dev", "test", "ood"):
        m = metrics[name]
        kind, harm = m["kind"], m["harmful"]
        rows.append(
            f"| {name} | {m['n']} | {_num(m['decline']['f1'])} | "
            f"{_num(kind.get('full_refusal', {}).get('f1'))} | {_num(kind.get('macro_f1'))} | "
            f"{_num(harm['auroc'])} | {_num(harm['at_threshold']['f1'])} | "
            f"{_num(harm['catch_rate'])} | {_num(harm['pass_rate'])} | {_num(harm['ece'])} |"
        )
    return rows


def _source_rows(metrics: dict[str, Any], split: str) -> list[str]:
    rows = [
        f"Per source ({split}): decline = refusal or partial vs compliance, at p >= 0.5;"
        " harmful at the operating threshold.",
        "",
        "| source | n | decline F1 | decline acc. | 3-way macro-F1 (n) | harmful AUROC"
        " | catch | pass |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, m in metrics[split]["per_source"].items():
        kind, harm = m["kind"], m["harmful"]
        rows.append(
            f"| {name} | {m['n']} | {_num(m['decline']['f1'])} | "
            f"{_num(m['decline']['accuracy'])} | {_num(kind.get('macro_f1'))} ({kind['n']}) | "
            f"{_num(harm['auroc'])} | {_num(harm['catch_rate'])} | {_num(harm['pass_rate'])} |"
        )
    return rows


def _tradeoff_rows(metrics: dict[str, Any]) -> list[str]:
    rows = [
        "Harmful head trade-off on dev (source-balanced rates; the highest threshold that",
        "reaches each catch target):",
        "",
        "| catch target | threshold | catch | pass (harmless replies) |",
        "|---|---|---|---|",
    ]
    rows += [
        f"| {r['target_catch']:.2f} | {r['threshold']:.4f} | {r['catch']:.3f} | {r['pass']:.3f} |"
        for r in metrics.get("harm_tradeoff_dev", [])
    ]
    return rows


def _confusion_rows(metrics: dict[str, Any], split: str) -> list[str]:
    matrix = metrics[split]["kind"].get("confusion")
    if not matrix:
        return []
    rows = [
        f"Confusion matrix ({split}, rows = true kind, columns = predicted):",
        "",
        "| true \\ predicted | " + " | ".join(KINDS) + " |",
        "|---|---|---|---|",
    ]
    for kind, counts in zip(KINDS, matrix["rows_true_cols_pred"], strict=True):
        rows.append(f"| {kind} | " + " | ".join(str(c) for c in counts) + " |")
    return rows


def _data_rows(data: dict[str, Any]) -> list[str]:
    rows = ["| source file | sha256 |", "|---|---|"]
    rows += [f"| `{f['path']}` | `{f['sha256'][:16]}...` |" for f in data["files"].values()]
    rows += [
        "",
        f"Generated replies included: **{'yes' if data['generated_included'] else 'no'}**.",
    ]
    rows += [f"- note: {p}" for p in data["problems"]]
    rows += ["", "Examples used (split/source/kind/harmful: count):", ""]
    rows += [f"- {key}: {count}" for key, count in data["used"].items()]
    return rows


def _procedure(meta: dict[str, Any]) -> list[str]:
    calib = meta["calibration"]
    platt = ", ".join(f"{h} a={c['platt_a']:.3f} b={c['platt_b']:.3f}" for h, c in calib.items())
    return [
        "- Split by sha256(prompt), 70/15/15 train/dev/test: every reply to one prompt is in",
        "  one split (the prompt classifier's split for shared prompts).",
        f"- Features per head: {meta['features']} (MiniLM embeddings of the normalised reply,"
        " its first sentence and the prompt: the guard's `canonical` view, typography folded).",
        "- Heads: L2 logistic regression (C=4), balanced classes, source-balanced weights;"
        " `decline` (refusal or partial vs compliance), `full` (refusal vs partial, among"
        " declines), `harmful`; category head one-vs-rest over"
        f" {', '.join(meta['categories']) or 'no category'}.",
        f"- Calibration: Platt scaling on dev ({platt}).",
        f"- Harmful threshold {meta['threshold']:.4f}, rule `{meta['threshold_rule']}` (targets:"
        f" catch >= {meta['targets']['catch']}, pass >= {meta['targets']['pass']} of harmless"
        " replies, source-balanced, on dev).",
        f"- Seed {meta['seed']}; versions: {meta['versions']}.",
    ]


def _pass_note(meta: dict[str, Any]) -> list[str]:
    if not str(meta["threshold_rule"]).startswith("catch"):
        return []
    return [
        "- No threshold reached both targets on dev: the catch target won (safety first).",
        "  See the trade-off table; a layer's `act_threshold` trades catch for pass.",
    ]


def write_response_card(out: Path, meta: dict[str, Any]) -> None:
    """Write ``MODEL_CARD.md``."""
    m = meta["metrics"]
    lines = [
        f"# {meta.get('card_title', 'bastion response classifier v1')}",
        "",
        f"Calibrated logistic heads over {meta['encoder']['name']} sentence embeddings of an",
        "assistant reply and its prompt. Output: the reply's kind (refusal, partial refusal,",
        "compliance), the probability it refuses at least in part, the calibrated probability",
        "it is harmful, and a policy category.",
        "",
        "## Data",
        "",
        *_data_rows(meta["data"]),
        "",
        "## Training procedure",
        "",
        *_procedure(meta),
        "",
        "## Metrics",
        "",
        *_split_rows(m),
        "",
        *_tradeoff_rows(m),
        "",
        *_confusion_rows(m, "dev"),
        "",
        *_confusion_rows(m, "test"),
        "",
        *_source_rows(m, "dev"),
        "",
        *_source_rows(m, "test"),
        "",
        "`ood` is pyrit's human-labelled refusal set (score 1 = the reply refuses, fully or",
        "partly), held out whole: never trained, calibrated or tuned on.",
        "",
        f"Category head accuracy on harmful test replies: {m['test']['category_head']}.",
        "",
        "## Limits",
        "",
        "- English only; the encoder reads the first 256 word pieces of a reply, so harm late",
        "  in a long reply is invisible to it (the rules layer still scans the whole reply).",
        "- Template refusals share phrase lists across splits: template rows overstate",
        "  quality. The pyrit rows (human labels) and generated rows are the honest numbers.",
        "- pyrit counts an off-topic answer as a refusal; those rows are dropped, and the",
        "  model does not judge whether a reply answers the question asked.",
        "- Harm labels come from few sources (pyrit's scored responses, generated replies);",
        "  categories outside them fall back to the layer's default category.",
        *_pass_note(meta),
        "",
    ]
    (out / CARD_FILE).write_text("\n".join(lines), encoding="utf-8")


def _confusion_plot(matrix: list[list[int]], title: str) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(np.asarray(matrix), cmap="Blues")
    for (i, j), value in np.ndenumerate(np.asarray(matrix)):
        ax.text(j, i, str(value), ha="center", va="center")
    ax.set_xticks(range(3), KINDS)
    ax.set_yticks(range(3), KINDS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    url = png_data_uri(fig)
    plt.close(fig)
    return url


def _reliability_plot(curves: dict[str, tuple[Float, npt.NDArray[np.int64]]]) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    for label, (p, y) in curves.items():
        bins = reliability(p, y)
        ax.plot([b["mean_p"] for b in bins], [b["observed"] for b in bins], marker="o", label=label)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed share")
    ax.legend(loc="upper left")
    url = png_data_uri(fig)
    plt.close(fig)
    return url


def _held_out(
    examples: list[ResponseExample], probs: dict[str, Float]
) -> dict[str, tuple[Float, npt.NDArray[np.int64]]]:
    test = [i for i, e in enumerate(examples) if e.split == "test"]
    harm = [i for i in test if examples[i].harmful is not None]
    decl = [i for i in test if examples[i].declines is not None]
    return {
        "harmful (test)": (
            probs["harmful"][harm],
            np.asarray([examples[i].harmful for i in harm], dtype=np.int64),
        ),
        "decline (test)": (
            probs["decline"][decl],
            np.asarray([examples[i].declines for i in decl], dtype=np.int64),
        ),
    }


def write_response_report(
    out: Path, meta: dict[str, Any], examples: list[ResponseExample], probs: dict[str, Float]
) -> None:
    """Write ``report.html``: confusion matrices, reliability diagram, metrics."""
    import matplotlib

    matplotlib.use("Agg")
    m = meta["metrics"]
    images = "".join(
        f"<h2>Reply kind, {split}</h2><img src='{_confusion_plot(matrix, split)}'>"
        for split in ("dev", "test")
        if (matrix := m[split]["kind"].get("confusion", {}).get("rows_true_cols_pred"))
    )
    calib = _reliability_plot(_held_out(examples, probs))
    title = html.escape(meta.get("card_title", "bastion response classifier v1"))
    rule = html.escape(meta["threshold_rule"])
    body = (
        f"<h1>{title}</h1><p>Harmful threshold {meta['threshold']:.4f} ({rule}); features "
        f"{html.escape(str(meta['features']))}.</p>{images}"
        f"<h2>Reliability (test)</h2><img src='{calib}'>"
        f"<h2>Metrics</h2><pre>{html.escape(json.dumps(m, indent=2, sort_keys=True))}</pre>"
    )
    head = f"<head><meta charset='utf-8'><title>{title}</title></head>"
    page = f"<!doctype html><html>{head}<body>{body}</body></html>\n"
    (out / REPORT_FILE).write_text(page, encoding="utf-8")
