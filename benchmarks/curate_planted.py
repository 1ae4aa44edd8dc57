"""Curate a corpus with planted harm, duplicates and personal data, and count what was caught.

Builds a corpus of ``--rows`` rows from ``../shared/data`` (the project's training
material, not a public benchmark) at known rates, in shards, runs ``bastion curate`` on it
through the library, and scores the outputs against the plant:

- benign rows (70 % documents of four benign pieces of 120-300 characters, 10 %
  prompt/response pairs of such pieces), so that distinct rows are never near duplicates
  of each other (two rows sharing one piece have a Jaccard of about 0.15);
- harmful rows (5 %): 80 % a harmful request between two benign pieces, 20 % a harmful
  request with a harmful reply (GPTFuzz replies labelled harmful);
- personal data (5 %): benign documents with an email, a phone number, a Luhn-valid card
  number and a valid IBAN written into them;
- duplicates (5 % exact copies, 5 % copies with one word in 80 changed; each near copy
  records its true 5-gram Jaccard, and recall is also given over those at >= 0.8, the
  dedup stage's threshold) of earlier benign rows.

The guard's classifiers were trained on these shared prompts, so the harmful-row figure is
in-distribution: it shows the plumbing removes what the guard flags, not how the guard
does on other people's data (that is issue 20's outside-traffic benchmark).

Run: ``.venv/bin/python benchmarks/curate_planted.py --rows 1000000 --workers 2
[--stages quality,language,pii,toxicity,dedup] [--engine ray]``. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import resource
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bastion.curate.config import CurateConfig, load_curate_config
from bastion.curate.run import CurateRequest, curate
from bastion.policy.loader import load_policy

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RATES = {"harmful": 0.05, "pii": 0.05, "exact_dup": 0.05, "near_dup": 0.05, "pair": 0.10}


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _clip(text: str, limit: int = 600) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[: cut.rfind(". ") + 1] or cut


def _chunks(text: str, low: int = 120, high: int = 300) -> list[str]:
    """``text`` cut at sentence ends into pieces of ``low``..``high`` characters."""
    out, current = [], ""
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        current = f"{current} {sentence}".strip()
        if len(current) >= low:
            out.append(current[:high])
            current = ""
    return out


class Pools:
    """The source texts, as pieces of similar length (120-300 characters), so two rows
    that share one piece stay far below the near-duplicate threshold."""

    def __init__(self) -> None:
        responses = _jsonl(DATA / "responses/benign_responses.jsonl")
        prompts = _jsonl(DATA / "prompts/benign_real.jsonl") + _jsonl(DATA / "prompts/benign.jsonl")
        chosen = _jsonl(DATA / "preferences/borderline_pref.jsonl")
        self.pieces = sorted(
            {
                piece
                for text in [r["text"] for r in responses]
                + [r.get("text", "") for r in prompts]
                + [r.get("chosen", "") for r in chosen]
                for piece in _chunks(text)
            }
        )
        self.pairs = [(r["prompt"], _clip(r["text"], 1200)) for r in responses]
        harmful = _jsonl(DATA / "prompts/harmful.jsonl") + _jsonl(
            DATA / "prompts/roleplay_attacks.jsonl"
        )
        self.harmful = [r["text"] for r in harmful if r.get("text")]
        replies = _jsonl(DATA / "responses/labelled_responses.jsonl")
        self.harmful_pairs = [
            (r["prompt"], _clip(r["text"], 1200))
            for r in replies
            if r.get("label") == "harmful" and r["text"].isascii()
        ]


def _luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if index % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    digits.append((10 - total % 10) % 10)
    text = "".join(map(str, digits))
    return " ".join(text[i : i + 4] for i in range(0, 16, 4))


def _iban(rng: random.Random) -> str:
    bban = "WEST" + "".join(str(rng.randrange(10)) for _ in range(14))
    numeric = "".join(str(int(c, 36)) for c in bban + "GB00")
    check = 98 - int(numeric) % 97
    return f"GB{check:02d}{bban}"


def _pii(rng: random.Random) -> dict[str, str]:
    name = rng.choice(["anna", "li.wei", "omar", "j.smith", "maria.r", "kofi"])
    return {
        "email": f"{name}{rng.randrange(1000)}@example.{rng.choice(['com', 'org', 'net'])}",
        "phone": f"+44 20 7946 {rng.randrange(1000, 10000)}",
        "card": _luhn_card(rng),
        "iban": _iban(rng),
    }


def _near(text: str, rng: random.Random) -> tuple[str, float]:
    """A copy with one word in 80 replaced, and its true 5-gram-shingle Jaccard to ``text``."""
    words = text.split()
    for _ in range(max(1, len(words) // 80)):
        words[rng.randrange(len(words))] = rng.choice(["really", "quite", "very", "also"])
    return " ".join(words), _jaccard(text.split(), words)


def _jaccard(a: list[str], b: list[str], n: int = 5) -> float:
    def shingles(words: list[str]) -> set[tuple[str, ...]]:
        lowered = [w.lower() for w in words]
        return {tuple(lowered[i : i + n]) for i in range(max(1, len(lowered) - n + 1))}

    left, right = shingles(a), shingles(b)
    return len(left & right) / len(left | right)


def build_rows(n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """The planted corpus, row by row (each row carries its ``plant`` label)."""
    rng = random.Random(seed)
    pools = Pools()
    earlier: list[dict[str, Any]] = []
    for index in range(n):
        draw = rng.random()
        row = _planted(draw, rng, pools, earlier)
        if row["plant"] == "benign" and len(earlier) < 50_000:
            earlier.append(row)
        row["plant_id"] = index
        yield row


def _planted(
    draw: float, rng: random.Random, pools: Pools, earlier: list[dict[str, Any]]
) -> dict[str, Any]:
    edges = list(RATES.items())
    low = 0.0
    for kind, rate in edges:
        if low <= draw < low + rate:
            return _make(kind, rng, pools, earlier)
        low += rate
    return _make("benign", rng, pools, earlier)


def _document(rng: random.Random, pools: Pools) -> str:
    return "\n\n".join(rng.sample(pools.pieces, 4))


def _make(
    kind: str, rng: random.Random, pools: Pools, earlier: list[dict[str, Any]]
) -> dict[str, Any]:
    if kind in ("exact_dup", "near_dup") and earlier:
        source = rng.choice(earlier)
        if kind == "exact_dup":
            return {"text": source["text"], "plant": kind, "copy_of": source["plant_id"]}
        text, jaccard = _near(source["text"], rng)
        return {"text": text, "plant": kind, "copy_of": source["plant_id"], "jaccard": jaccard}
    if kind == "harmful":
        if rng.random() < 0.2:
            prompt, reply = rng.choice(pools.harmful_pairs)
            return {"prompt": prompt, "response": reply, "plant": "harmful"}
        parts = [rng.choice(pools.pieces), rng.choice(pools.pieces), rng.choice(pools.harmful)]
        rng.shuffle(parts)
        return {"text": "\n\n".join(parts), "plant": "harmful"}
    if kind == "pii":
        pii = _pii(rng)
        sentence = (
            f"Contact me at {pii['email']} or on {pii['phone']}. Card {pii['card']}, "
            f"account {pii['iban']}."
        )
        return {"text": f"{_document(rng, pools)}\n\n{sentence}", "plant": "pii", "pii": pii}
    if kind == "pair":
        prompt, *reply = rng.sample(pools.pieces, 4)
        return {"prompt": prompt, "response": "\n\n".join(reply), "plant": "benign_pair"}
    return {"text": _document(rng, pools), "plant": "benign"}


def write_corpus(folder: Path, rows: int, shard_rows: int) -> None:
    """Write the corpus as JSON Lines shards of ``shard_rows`` rows."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = None
    for index, row in enumerate(build_rows(rows)):
        if index % shard_rows == 0:
            if handle:
                handle.close()
            handle = (folder / f"shard-{index // shard_rows:05d}.jsonl").open("w", encoding="utf-8")
        assert handle is not None
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    if handle:
        handle.close()


def score(out: Path) -> dict[str, Any]:
    """Planted-rate figures from the run's kept and removed rows."""
    kept: Counter[str] = Counter()
    removed: Counter[str] = Counter()
    removed_by: Counter[str] = Counter()
    near = Counter()
    pii_total = pii_left = 0
    for path in sorted((out / "kept").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            kept[row["plant"]] += 1
            if row["plant"] == "near_dup" and row["jaccard"] >= 0.8:
                near["missed"] += 1
            if row["plant"] == "pii":
                text = row["text"]
                pii_total += len(row["pii"])
                pii_left += sum(value in text for value in row["pii"].values())
    for path in sorted((out / "removed").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            plant = row["row"]["plant"]
            removed[plant] += 1
            if plant == "near_dup" and row["row"]["jaccard"] >= 0.8:
                near["caught"] += 1
            by = row["removed_by"] or {}
            removed_by[f"{plant}<-{by.get('stage')}:{by.get('reason')}"] += 1
    rates = _rates(kept, removed, removed_by, pii_total, pii_left)
    planted_near = near["caught"] + near["missed"]
    rates["near_duplicates_jaccard_0.8_removed_pct"] = (
        round(100 * near["caught"] / planted_near, 2) if planted_near else None
    )
    return rates


def _rates(
    kept: Counter[str],
    removed: Counter[str],
    removed_by: Counter[str],
    pii_total: int,
    pii_left: int,
) -> dict[str, Any]:
    def share(kinds: tuple[str, ...], of: Counter[str]) -> float | None:
        total = sum(kept[k] + removed[k] for k in kinds)
        return round(100 * sum(of[k] for k in kinds) / total, 2) if total else None

    return {
        "rows": {k: kept[k] + removed[k] for k in sorted(set(kept) | set(removed))},
        "harmful_removed_pct": share(("harmful",), removed),
        "duplicates_removed_pct": share(("exact_dup", "near_dup"), removed),
        "exact_duplicates_removed_pct": share(("exact_dup",), removed),
        "near_duplicates_removed_pct": share(("near_dup",), removed),
        "pii_redacted_pct": round(100 * (pii_total - pii_left) / pii_total, 2)
        if pii_total
        else None,
        "benign_kept_pct": share(("benign", "benign_pair", "pii"), kept),
        "removed_by": dict(removed_by.most_common(40)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--shard-rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engine", choices=("local", "ray"), default="local")
    parser.add_argument("--stages", default="", help="comma-separated subset (default: all)")
    parser.add_argument("--work", type=Path, default=ROOT / "artifacts" / "curate_planted")
    parser.add_argument("--keep-corpus", action="store_true", help="reuse a built corpus")
    args = parser.parse_args()
    corpus = args.work / f"corpus-{args.rows}"
    if not (args.keep_corpus and corpus.is_dir()):
        shutil.rmtree(corpus, ignore_errors=True)
        started = time.perf_counter()
        write_corpus(corpus, args.rows, args.shard_rows)
        build_s = time.perf_counter() - started
    else:
        build_s = 0.0
    out = args.work / "out"
    shutil.rmtree(out, ignore_errors=True)
    config = _config(args.stages)
    request = CurateRequest(
        source=corpus,
        out=out,
        config=config,
        policy=load_policy(None),
        engine=args.engine,
        workers=args.workers,
    )
    result = curate(request)
    print(
        json.dumps(
            {
                "benchmark": "curate_planted",
                "machine": f"{platform.machine()} {platform.system()}, {_cores()} cores, Python "
                f"{platform.python_version()}",
                "rows": args.rows,
                "engine": args.engine,
                "workers": args.workers,
                "stages": [s.name for s in config.enabled_stages()],
                "build_corpus_s": round(build_s, 1),
                "curate_s": round(result.seconds, 1),
                "rows_per_s": round(args.rows / result.seconds, 1),
                "peak_rss_mb": _peak_rss_mb(),
                **score(out),
            },
            indent=2,
        )
    )


def _config(stages: str) -> CurateConfig:
    config = load_curate_config(None)
    if not stages:
        return config
    wanted = set(stages.split(","))
    specs = [s.model_copy(update={"enabled": s.name in wanted}) for s in config.stages]
    return config.model_copy(update={"stages": tuple(specs)})


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


def _peak_rss_mb() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"driver": round(own, 1), "largest_worker": round(children, 1)}


if __name__ == "__main__":
    main()
