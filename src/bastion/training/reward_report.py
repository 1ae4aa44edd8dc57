"""The reward model's card (Markdown) and HTML report (score distributions per group)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from bastion.training.figures import png_data_uri
from bastion.training.report import CARD_FILE, REPORT_FILE
from bastion.training.reward_data import GROUPS, PreferenceExample

__all__ = ["write_reward_card", "write_reward_report"]

_HELD_OUT: Final = ("dev", "test", "contrast_test")
_SPLITS: Final = ("train", "dev", "test", "contrast_test")
_GROUP_ORDER: Final = (
    "hh",
    "refusal_vs_compliance",
    "helpful_vs_refusal",
    "prompt_sensitivity",
    "pyrit_ood",
)


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def accuracy_rows(metrics: dict[str, Any]) -> list[str]:
    """A Markdown table: pairwise accuracy per group and source, per split."""
    names = sorted(
        {k for split in _SPLITS for k in metrics.get(split, {})},
        key=lambda k: (k.startswith("source/"), k),
    )
    rows = ["| pairs | train | dev | test | contrast test |", "|---|---|---|---|---|"]
    for name in names:
        if name.endswith("/pyrit") or name.endswith("/pyrit_ood"):
            continue
        cells = [_cell(metrics.get(s, {}).get(name)) for s in _SPLITS]
        rows.append(f"| {name} | {' | '.join(cells)} |")
    pyrit = metrics.get("all", {}).get("group/pyrit_ood")
    if pyrit:
        rows.append(f"| group/pyrit_ood (never trained on; all pairs) | | {_cell(pyrit)} | | |")
    return rows


def _cell(m: dict[str, Any] | None) -> str:
    if not m or not m["n"]:
        return "n/a"
    low, high = m["ci95"]
    return f"{_pct(m['accuracy'])} [{100 * low:.0f}, {100 * high:.0f}] (n={m['n']})"


def _data_rows(data: dict[str, Any]) -> list[str]:
    rows = ["| input | file | records | sha256 |", "|---|---|---|---|"]
    for name, f in data["files"].items():
        rows.append(f"| {name} | `{f['path']}` | {f.get('records', 'n/a')} | `{f['sha256']}` |")
    rows += ["", "Pairs used (split/source: count):", ""]
    rows += [f"- {key}: {count}" for key, count in data["used"].items()]
    return rows


def _selection_rows(table: list[dict[str, Any]]) -> list[str]:
    groups = ("hh", "refusal_vs_compliance", "helpful_vs_refusal", "prompt_sensitivity")
    rows = [
        "| features | C | dev macro | " + " | ".join(groups) + " |",
        "|---|---|---|" + "---|" * len(groups),
    ]
    for r in table:
        cells = " | ".join(_pct(r[g]) if g in r else "n/a" for g in groups)
        rows.append(f"| {r['features']} | {r['C']} | {_pct(r['dev_macro_accuracy'])} | {cells} |")
    return rows


def write_reward_card(out: Path, meta: dict[str, Any]) -> None:
    """Write ``MODEL_CARD.md``."""
    lines = [
        "# bastion safety reward model v1",
        "",
        "A Bradley-Terry head over frozen all-MiniLM-L6-v2 embeddings (int8 ONNX, numpy",
        "inference). `reward(prompt, response)`: higher is better (safer and more helpful);",
        "`P(a preferred over b) = sigmoid(reward(a) - reward(b))`. 0 is the median reward",
        "of the training responses.",
        "",
        f"Features: `{meta['feature_name']}` (see `bastion.shaping.features`); L2 C ="
        f" {meta['regularisation_C']}; seed {meta['seed']}.",
        "",
        "## Pairwise accuracy (reward(chosen) > reward(rejected)), 95 % Wilson intervals",
        "",
        *accuracy_rows(meta["metrics"]),
        "",
        "## Feature and C selection (fitted on train, scored on dev)",
        "",
        *_selection_rows(meta["selection"]),
        "",
        "## Data",
        "",
        *_data_rows(meta["data"]),
        "",
        *_LIMITS,
        f"Versions: {meta['versions']}.",
        "",
    ]
    (out / CARD_FILE).write_text("\n".join(lines), encoding="utf-8")


_LIMITS: Final = (
    "## How the pairs are made",
    "",
    "- `hh`: Anthropic hh-rlhf harmless-base, last Human turn (earlier turns folded in",
    "  after it) and the two final replies. Human labels, noisy.",
    "- `refuse_harmful`, `contrast_unsafe`: a refusal over a harmful completion generated",
    "  by SmolLM2-135M or Qwen2.5-Coder-0.5B (`generated_responses_v1.jsonl`); `_short`:",
    "  over the completion's opening alone; `model_refusal`: Qwen's own refusal.",
    "- `help_benign`, `contrast_safe`: a helpful answer (AlpacaEval references, generated",
    "  answers) over a needless refusal; `_short`: the answer's opening; `hedge_benign`: over",
    "  a partial refusal; `model_over_refusal`: over a model's own needless refusal.",
    "- Refusals cycle through template, policy-grounded (explanation + alternative), bare,",
    "  echoing and lecturing styles, the same way on both sides of the pairs.",
    "- `harm_vs_benign`, `contrast_lookalike`: one reply across two prompts (a refusal fits",
    "  the unsafe prompt better, a compliant opening the safe one); they train only the",
    "  prompt-response interaction. `contrast test` is the contrast set's test split:",
    "  scored, never trained on.",
    "- `pyrit_ood`: human-scored replies from pyrit's scorer evaluations, never trained on.",
    "",
    "## Limits",
    "",
    "- Synthetic pairs partly measure *style*. `pyrit_ood` (real refusals and compliance",
    "  from other models, human-scored) is the honest check, and it is weak: read the",
    "  reward as a coarse signal for ranking candidates, not as a judge of one reply.",
    "- hh-rlhf harmless pairs are noisy (large reward models reach about 70 %) and often",
    "  prefer evasive replies; a frozen-MiniLM head gets near 60 % on them even alone.",
    "- Safe look-alikes ('How do I kill a Python process?') are the weak spot: a short",
    "  correct answer can score below a bare 'I'm sorry, I can't help with that.'. Compare",
    "  full answers, and use `min_margin` when exporting pairs.",
    "- English only; MiniLM reads 256 word pieces (about 1,000 characters) of each text:",
    "  a harmful tail after a long harmless opening is not seen.",
    "- A linear head over sentence embeddings judges topic and stance, not correctness:",
    "  a fluent wrong answer can outscore a terse right one.",
    "",
)


def _hist(chosen: npt.NDArray[np.float64], rejected: npt.NDArray[np.float64], title: str) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    low, high = min(chosen.min(), rejected.min()), max(chosen.max(), rejected.max())
    bins = [float(b) for b in np.linspace(low, high, 40)]
    ax.hist(chosen, bins=bins, alpha=0.6, label=f"chosen (n={len(chosen)})", color="tab:green")
    ax.hist(rejected, bins=bins, alpha=0.6, label="rejected", color="tab:red")
    ax.set_title(title)
    ax.set_xlabel("reward")
    ax.legend(loc="upper left", fontsize=8)
    url = png_data_uri(fig)
    plt.close(fig)
    return url


def write_reward_report(
    out: Path,
    meta: dict[str, Any],
    examples: list[PreferenceExample],
    scores: npt.NDArray[np.float64],
) -> None:
    """Write ``report.html``: chosen vs rejected reward histograms per group (dev + test;
    pyrit: all pairs) and the accuracy table. ``scores`` is ``(n, 2)``: chosen, rejected."""
    import matplotlib

    matplotlib.use("Agg")
    images = []
    for group in _GROUP_ORDER:
        rows = [
            i
            for i, e in enumerate(examples)
            if GROUPS[e.source] == group and (group == "pyrit_ood" or e.split in _HELD_OUT)
        ]
        if rows:
            title = f"{group} ({'all' if group == 'pyrit_ood' else 'held out'})"
            images.append(
                f"<h3>{html.escape(title)}</h3>"
                f"<img src='{_hist(scores[rows, 0], scores[rows, 1], title)}'>"
            )
    table = "\n".join(accuracy_rows(meta["metrics"]))
    body = (
        "<h1>bastion safety reward model v1</h1>"
        f"<p>Features <code>{html.escape(meta['feature_name'])}</code>,"
        f" C {meta['regularisation_C']}.</p>"
        "<h2>Reward distributions, chosen vs rejected</h2>"
        + "".join(images)
        + f"<h2>Pairwise accuracy</h2><pre>{html.escape(table)}</pre>"
        f"<h2>Metrics</h2><pre>{html.escape(json.dumps(meta['metrics'], indent=2))}</pre>"
    )
    head = "<head><meta charset='utf-8'><title>reward model</title></head>"
    page = f"<!doctype html><html>{head}<body>{body}</body></html>\n"
    (out / REPORT_FILE).write_text(page, encoding="utf-8")
