"""The model card (Markdown) and the HTML report (matplotlib PNGs as data URIs)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bastion.training.data import Example
from bastion.training.figures import png_data_uri
from bastion.training.metrics import reliability

__all__ = ["CARD_FILE", "REPORT_FILE", "write_card", "write_report"]

CARD_FILE = "MODEL_CARD.md"
REPORT_FILE = "report.html"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _metric_rows(metrics: dict[str, Any]) -> list[str]:
    rows = [
        "| split | benign pass | unsafe catch | pass @0.5 | catch @0.5 | AUROC | ECE"
        " | n safe / unsafe |"
    ]
    rows.append("|---|---|---|---|---|---|---|---|")
    for name in ("dev", "test", "contrast_test"):
        m = metrics[name]
        at, half = m["at_threshold"], m["at_0.5"]
        rows.append(
            f"| {name} | {_pct(at['benign_pass_rate'])} | {_pct(at['unsafe_catch_rate'])} | "
            f"{_pct(half['benign_pass_rate'])} | {_pct(half['unsafe_catch_rate'])} | "
            f"{m['auroc']} | {m['ece']} | {at['n_benign']} / {at['n_unsafe']} |"
        )
    return rows


def _data_rows(data: dict[str, Any]) -> list[str]:
    rows = ["| source | file | records | sha256 |", "|---|---|---|---|"]
    for name, f in data["files"].items():
        rows.append(f"| {name} | `{f['path']}` | {f.get('records', 'n/a')} | `{f['sha256']}` |")
    rows += ["", "Examples used (split/source/label: count):", ""]
    rows += [f"- {key}: {count}" for key, count in data["used"].items()]
    return rows


def _baseline_rows(meta: dict[str, Any]) -> list[str]:
    scores = meta.get("baselines", {})
    if not scores.get("scores"):
        return []
    rows = [
        "## Baselines (same dev split)",
        "",
        "| detector | F1 | precision | recall | false-positive rate | ms / text |",
        "|---|---|---|---|---|---|",
    ]
    for s in scores["scores"]:
        rows.append(
            f"| {s['name']} | {s['f1']:.3f} | {s['precision']:.3f} | {s['recall']:.3f} | "
            f"{_pct(s['false_positive_rate'])} | {s['ms_per_text']} |"
        )
    rows += [f"- {name}: skipped ({why})" for name, why in scores.get("skipped", {}).items()]
    return [*rows, ""]


def _language_rows(meta: dict[str, Any]) -> list[str]:
    evals = meta.get("multilingual_eval")
    if not evals:
        return []
    rows = [
        "## Per language (project multilingual set, report only)",
        "",
        "| language | benign pass | unsafe catch | n safe / unsafe |",
        "|---|---|---|---|",
    ]
    for lang, r in evals["languages"].items():
        rows.append(
            f"| {lang} | {_pct(r['benign_pass_rate'])} | {_pct(r['unsafe_catch_rate'])} | "
            f"{r['n_benign']} / {r['n_unsafe']} |"
        )
    return [*rows, ""]


def _procedure(meta: dict[str, Any]) -> list[str]:
    lines = [
        "- Split: shared data by sha256(text) 70/15/15 train/dev/test; contrast `dev` pairs by",
        "  sha256(pair id) 70/30 train/dev, both prompts of a pair together, sample weight 3.",
        "- gsm8k_train capped at 25 % of the benign prompts; texts de-duplicated.",
    ]
    tune = meta["encoder"].get("finetune")
    if tune:
        lines += [
            f"- Encoder fine-tuned on the train split only ({tune['epochs']} epochs, batch"
            f" {tune['batch_size']}, AdamW lr {tune['lr']}, max {tune['max_length']} word pieces,",
            "  loss = weighted unsafe BCE + 0.5 x category BCE over mean-pooled states), then",
            "  exported to ONNX with weights quantised to int8 (`encoder.onnx`, hash-pinned).",
        ]
    return [
        *lines,
        "- Unsafe head: L2 logistic regression (C=4), balanced class weights. Category head:",
        f"  one-vs-rest logistic regression over {', '.join(meta['categories'])}.",
        f"- Calibration: Platt scaling on dev (a={meta['calibration']['platt_a']:.3f},"
        f" b={meta['calibration']['platt_b']:.3f}).",
        f"- Operating threshold {meta['threshold']:.4f}, rule `{meta['threshold_rule']}`: the"
        " highest threshold catching at least that share of unsafe dev prompts (this maximises"
        " the benign pass rate under that constraint).",
        f"- Seed {meta['seed']}; versions: {meta['versions']}.",
    ]


def write_card(out: Path, meta: dict[str, Any]) -> None:
    """Write ``MODEL_CARD.md``."""
    m = meta["metrics"]
    title = meta.get("card_title", "bastion prompt classifier v2 (tier 1)")
    english_only = "multilingual_eval" not in meta
    lines = [
        f"# {title}",
        "",
        f"Linear heads over {meta['encoder']['name']} sentence embeddings. Output: the",
        "calibrated probability that a user prompt is unsafe, plus a policy category.",
        "",
        "## Data",
        "",
        *_data_rows(meta["data"]),
        "",
        "Skipped: `toxicity/toxicity.jsonl` (tweets and statements, not requests). No public",
        "benchmark test split and no contrast-set `test` pair was used for training or tuning.",
        "",
        "## Training procedure",
        "",
        *_procedure(meta),
        "",
        "## Metrics (flag = calibrated p >= threshold)",
        "",
        *_metric_rows(m),
        "",
        f"Category head accuracy on categorised unsafe test prompts: {m['category_head']}.",
        "",
        *_baseline_rows(meta),
        *_language_rows(meta),
        "## Limits",
        "",
        "- English only; one small encoder (256 word pieces, longer text truncated)."
        if english_only
        else "- Trained on English prompts only; other languages rely on the encoder's"
        " cross-lingual space (see the per-language table).",
        "- The shared harmful prompts are template-heavy (HarmfulQA, AdvBench): a random split",
        "  overstates real-world catch rates. The contrast test split is the honest number.",
        "- Categories with fewer than 10 training examples have no category head; the layer",
        "  then names the closest category it knows.",
        "- Judges user prompts only; replies need a separate model.",
        "",
    ]
    (out / CARD_FILE).write_text("\n".join(lines), encoding="utf-8")


def _tradeoff(p: npt.NDArray[np.float64], y: npt.NDArray[np.int64], threshold: float) -> str:
    import matplotlib.pyplot as plt

    grid = np.linspace(0.0, 1.0, 201)
    passes = [float((p[y == 0] < t).mean()) for t in grid]
    catches = [float((p[y == 1] >= t).mean()) for t in grid]
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(passes, catches, label="dev, all thresholds")
    ax.scatter(
        [(p[y == 0] < threshold).mean()],
        [(p[y == 1] >= threshold).mean()],
        color="red",
        zorder=3,
        label=f"operating point {threshold:.3f}",
    )
    ax.set_xlabel("benign pass rate")
    ax.set_ylabel("unsafe catch rate")
    ax.legend(loc="lower left")
    url = png_data_uri(fig)
    plt.close(fig)
    return url


def _reliability_plot(p: npt.NDArray[np.float64], y: npt.NDArray[np.int64]) -> str:
    import matplotlib.pyplot as plt

    bins = reliability(p, y)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax.plot([b["mean_p"] for b in bins], [b["observed"] for b in bins], marker="o")
    ax.set_xlabel("mean predicted p(unsafe)")
    ax.set_ylabel("observed unsafe share")
    url = png_data_uri(fig)
    plt.close(fig)
    return url


def write_report(
    out: Path, meta: dict[str, Any], examples: list[Example], p: npt.NDArray[np.float64]
) -> None:
    """Write ``report.html``: trade-off curve, reliability diagram, per-category table."""
    import matplotlib

    matplotlib.use("Agg")
    split = np.asarray([e.split for e in examples])
    y = np.asarray([e.label for e in examples], dtype=np.int64)
    dev, held = split == "dev", np.isin(split, ["test", "contrast_test"])
    table = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{v['flagged_rate']:.3f}</td><td>{v['n']}</td></tr>"
        for name, v in meta["metrics"]["per_category"].items()
    )
    rule = html.escape(meta["threshold_rule"])
    trade = _tradeoff(p[dev], y[dev], meta["threshold"])
    calib = _reliability_plot(p[held], y[held])
    title = html.escape(meta.get("card_title", "bastion prompt classifier v1"))
    extra = "".join(
        f"<h2>{html.escape(key)}</h2><pre>{html.escape(_json(meta[key]))}</pre>"
        for key in ("baselines", "multilingual_eval")
        if key in meta
    )
    body = (
        f"<h1>{title}</h1>"
        f"<p>Operating threshold {meta['threshold']:.4f} ({rule}).</p>"
        f"<h2>Trade-off (dev)</h2><img src='{trade}'>"
        f"<h2>Reliability (test + contrast test)</h2><img src='{calib}'>"
        "<h2>Unsafe prompts flagged per category (test + contrast test)</h2>"
        f"<table border='1'><tr><th>category</th><th>flagged</th><th>n</th></tr>{table}</table>"
        f"<h2>Metrics</h2><pre>{html.escape(_json(meta['metrics']))}</pre>{extra}"
    )
    head = f"<head><meta charset='utf-8'><title>{title}</title></head>"
    page = f"<!doctype html><html>{head}<body>{body}</body></html>\n"
    (out / REPORT_FILE).write_text(page, encoding="utf-8")


def _json(data: Any) -> str:
    import json

    return json.dumps(data, indent=2, sort_keys=True)
