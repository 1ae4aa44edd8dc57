"""What the multilingual layer costs the default guard, per check, in English and elsewhere.

Builds the default guard (rules, prompt classifier for English, multilingual classifier
for other languages) and the same guard without the multilingual layer, then checks 60
English and 60 non-English prompts (the project's multilingual set: fr, de, es, it, pt)
one at a time, each guard in turn, ``ROUNDS`` times. Prints one JSON object: p50 / p90
wall time of a whole check per guard and language group, the added cost (p50 difference),
and the multilingual layer's own ``latency_ms`` from the verdicts.

Run: ``.venv/bin/python benchmarks/bench_multilingual.py [--prompt-artifact DIR]``
(``--prompt-artifact`` points the prompt classifier at another artifact folder).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from typing import Any

import numpy as np

from bastion.datasets.multilingual import load_multilingual_set
from bastion.guard import Guard, GuardConfig, LayerConfig

ROUNDS = 3


def _layers(prompt_artifact: str | None, multilingual: bool) -> list[LayerConfig]:
    out = []
    for spec in GuardConfig().layers:
        if spec.type == "multilingual_classifier" and not multilingual:
            continue
        if spec.type == "prompt_classifier" and prompt_artifact:
            spec = spec.model_copy(update={"params": {**spec.params, "artifact": prompt_artifact}})
        out.append(spec)
    return out


def _stats(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values)
    return {
        "p50_ms": round(float(np.percentile(arr, 50)), 2),
        "p90_ms": round(float(np.percentile(arr, 90)), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompt-artifact", default=None)
    args = parser.parse_args()
    rows = load_multilingual_set()
    prompts = {
        "english": [r.text for r in rows if r.lang == "en"] * 1,
        "non_english": [r.text for r in rows if r.lang != "en"][:60],
    }
    prompts["english"] = (prompts["english"] * 2)[:60]
    guards = {
        "default": Guard.from_config(GuardConfig(layers=_layers(args.prompt_artifact, True))),
        "without_multilingual": Guard.from_config(
            GuardConfig(layers=_layers(args.prompt_artifact, False))
        ),
    }
    for guard in guards.values():  # load every encoder before timing
        guard.check("warm up")
        guard.check("Bonjour, comment ça va ?")
    times: dict[str, dict[str, list[float]]] = {g: {k: [] for k in prompts} for g in guards}
    layer_ms: dict[str, list[float]] = {k: [] for k in prompts}
    for _ in range(ROUNDS):
        for group, texts in prompts.items():
            for text in texts:
                for name, guard in guards.items():
                    start = time.perf_counter()
                    decision = guard.check(text)
                    times[name][group].append((time.perf_counter() - start) * 1000)
                    if name == "default":
                        layer_ms[group] += [
                            v.latency_ms
                            for v in decision.verdicts
                            if v.layer == "multilingual_classifier"
                        ]
    out: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs visible",
        "rounds": ROUNDS,
        "n_per_group": {k: len(v) for k, v in prompts.items()},
    }
    for group in prompts:
        with_ml = _stats(times["default"][group])
        without = _stats(times["without_multilingual"][group])
        out[group] = {
            "default_guard": with_ml,
            "without_multilingual_layer": without,
            "added_p50_ms": round(with_ml["p50_ms"] - without["p50_ms"], 2),
            "multilingual_layer_own": _stats(layer_ms[group]) if layer_ms[group] else None,
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
