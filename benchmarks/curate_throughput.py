"""Throughput of the curation stages and engines (issue 23).

- per stage, in this process on one core: documents/s over short documents (the shared
  benign and harmful prompts, median ~60 characters) and over ~1,000-character documents
  (benign answers), so a stage's cost per character shows;
- the cheap stages together (quality, language, pii, toxicity, dedup) on one core, over
  short prompt/response pairs (short documents would stop at Gopher's 50-word minimum
  in the quality stage, and the later stages would never run) and ~1,000-character
  documents;
- the learned stages (harm, injection) through the local engine with 1 and 2 workers;
- engines: local and Ray with 1 and 2 workers over the cheap stage graph, 5 x ``--rows``
  short pairs in one file (wall time includes start-up: Ray's is 10-20 s here).

Targets: cheap stages >= 2,000 short documents/s per core; harm >= 150 documents/s on 2
cores. Run: ``.venv/bin/python benchmarks/curate_throughput.py [--rows N] [--no-ray]``.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bastion.curate.config import CurateConfig, load_curate_config
from bastion.curate.document import Document, parse_document
from bastion.curate.pipeline import GraphSpec, StageGraph
from bastion.curate.run import CurateRequest, curate
from bastion.policy.loader import load_policy

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CHEAP = ("quality", "language", "pii", "toxicity", "dedup")
POLICY = load_policy(None)


def _texts(name: str, field: str = "text") -> list[str]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return [json.loads(line)[field] for line in handle if line.strip()]


def short_docs(n: int) -> list[Document]:
    texts = _texts("prompts/benign.jsonl") + _texts("prompts/harmful.jsonl")
    texts = [t for t in texts if len(t) <= 300]
    return [
        parse_document({"text": texts[i % len(texts)] + f" ({i})"}, shard="s", line=i)
        for i in range(n)
    ]


def short_pairs(n: int) -> list[Document]:
    """Short prompt/response rows (SFT data): the quality stage's short profile keeps
    them, so every cheap stage runs on every row."""
    texts = [t for t in _texts("prompts/benign.jsonl") if len(t) <= 300]
    return [
        parse_document(
            {"prompt": texts[i % len(texts)], "response": f"Here is an answer, number {i}."},
            shard="s",
            line=i,
        )
        for i in range(n)
    ]


def long_docs(n: int) -> list[Document]:
    texts = [t[:1000] for t in _texts("responses/benign_responses.jsonl") if len(t) >= 1000]
    return [parse_document({"text": texts[i % len(texts)]}, shard="s", line=i) for i in range(n)]


def _config(names: tuple[str, ...]) -> CurateConfig:
    base = load_curate_config(None)
    specs = [s.model_copy(update={"enabled": s.name in names}) for s in base.stages]
    return base.model_copy(update={"stages": tuple(specs)})


def stage_rate(names: tuple[str, ...], docs: list[Document]) -> float:
    """Documents/s of the map and reduce steps of ``names`` in this process."""
    graph = StageGraph.build(GraphSpec(_config(names), POLICY, "pretraining", ROOT))
    try:
        graph.map_batch(docs[:16])  # warm up (model loading, first ONNX run)
        started = time.perf_counter()
        for start in range(0, len(docs), 256):
            for mapped in graph.map_batch(docs[start : start + 256]):
                graph.reduce(mapped)
        return len(docs) / (time.perf_counter() - started)
    finally:
        graph.close()


def engine_rate(
    names: tuple[str, ...], docs: list[Document], engine: str, workers: int
) -> dict[str, float]:
    """Rows/s of a whole ``bastion curate`` run (start-up included and excluded)."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "corpus.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for doc in docs:
                handle.write(json.dumps(dict(doc.fields)) + "\n")
        request = CurateRequest(
            source=source,
            out=Path(tmp) / "out",
            config=_config(names),
            policy=POLICY,
            engine="ray" if engine == "ray" else "local",
            workers=workers,
        )
        started = time.perf_counter()
        curate(request)
        wall = time.perf_counter() - started
        shutil.rmtree(Path(tmp) / "out", ignore_errors=True)
    return {"rows_per_s": round(len(docs) / wall, 1), "wall_s": round(wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000, help="short rows per cheap test")
    parser.add_argument("--learned-rows", type=int, default=600)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    short, long = short_docs(args.rows), long_docs(2_000)
    learned_short = short[: args.learned_rows]
    out: dict[str, Any] = {
        "benchmark": "curate_throughput",
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
        f"Python {platform.python_version()}",
        "short_doc_chars_mean": round(sum(len(d.content) for d in short) / len(short)),
        "per_stage_one_core_docs_per_s": {},
    }
    for name in CHEAP:
        out["per_stage_one_core_docs_per_s"][name] = {
            "short": round(stage_rate((name,), short)),
            "1000_chars": round(stage_rate((name,), long)),
        }
    pairs = short_pairs(args.rows)
    out["cheap_stages_together_one_core"] = {
        "short_pairs": round(stage_rate(CHEAP, pairs)),
        "1000_chars": round(stage_rate(CHEAP, long)),
    }
    for name in ("harm", "injection"):
        out["per_stage_one_core_docs_per_s"][name] = {
            "short": round(stage_rate((name,), learned_short), 1),
            "1000_chars": round(stage_rate((name,), long[:200]), 1),
        }
    out["harm_local_2_workers"] = engine_rate(("harm",), learned_short * 2, "local", 2)
    engines: dict[str, Any] = {}
    for engine in ("local", *(() if args.no_ray else ("ray",))):
        for workers in (1, 2):
            engines[f"{engine}_{workers}"] = engine_rate(CHEAP, pairs * 5, engine, workers)
    out["engines_cheap_stages"] = engines
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
