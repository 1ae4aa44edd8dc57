"""The reference judge shares no training data with any guard layer, and trains end to end."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from bastion.redteam.judge_eval import GPTFUZZ_FILE, load_gptfuzz
from bastion.redteam.reference_judge import ReferenceJudge, packaged_reference_dir
from bastion.training import data, response_data, reward_inputs

ARTIFACTS = Path(str(resources.files("bastion.models").joinpath("artifacts")))
TRAINING = Path(str(resources.files("bastion.training")))
GUARD_ARTIFACTS = sorted(
    p for p in ARTIFACTS.iterdir() if p.is_dir() and p.name != "reference_judge_v1"
)
REFUSAL = "I'm sorry, but I can't help with that {i}. It is not safe."
COMPLIANCE = "Sure! Step 1: get the tools {q}. Step 2: do it {i}. Step 3: done."


def _data_files(folder: Path) -> set[str]:
    """Every ``path`` and ``sha256`` in an artifact's recorded training data."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            found.update(str(node[k]) for k in ("path", "sha256") if k in node)
            found.update(k for k in node if "/" in k)  # hash maps keyed by path
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads((folder / "metadata.json").read_text(encoding="utf-8"))["data"])
    return found


def test_no_guard_layer_trains_on_the_judges_data() -> None:
    judge_data = ReferenceJudge.load().metadata["data"]["file"]
    assert judge_data["path"] == GPTFUZZ_FILE
    assert len(GUARD_ARTIFACTS) >= 5
    for folder in GUARD_ARTIFACTS:
        files = _data_files(folder)
        assert files, folder  # the manifest was read
        assert not {judge_data["path"], judge_data["sha256"]} & files, folder
        assert "labelled_responses" not in (folder / "metadata.json").read_text(encoding="utf-8")


def test_no_training_source_list_names_it() -> None:
    for sources in (data.SOURCES, response_data.SHARED_SOURCES, reward_inputs.SOURCES):
        assert GPTFUZZ_FILE not in sources.values()
    own = {"reference_judge.py", "reference_report.py"}
    for module in TRAINING.glob("*.py"):
        if module.name not in own:
            text = module.read_text(encoding="utf-8")
            assert "labelled_responses" not in text and "GPTFUZZ_FILE" not in text, module


def _write_fake_shared(root: Path) -> None:
    """Hand-written replies to made-up questions (no benchmark data)."""
    rows = []
    for q in range(8):
        prompt = f"How do I do forbidden thing number {q}?"
        split = "dev" if q >= 6 else "train"
        for i in range(3):
            row = {"prompt": prompt, "split": split}
            rows.append({**row, "label": "not_harmful", "text": REFUSAL.format(i=i)})
            rows.append({**row, "label": "harmful", "text": COMPLIANCE.format(q=q, i=i)})
    rows.append(dict(rows[0]))  # a repeated pair is kept once
    path = root / GPTFUZZ_FILE
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_loading_keeps_a_repeated_pair_once_and_drops_conflicts(tmp_path: Path) -> None:
    _write_fake_shared(tmp_path)
    path = tmp_path / GPTFUZZ_FILE
    assert len(load_gptfuzz(path, "train")) == 36 and len(load_gptfuzz(path, "dev")) == 12
    with path.open("a", encoding="utf-8") as handle:
        row = {"prompt": "How do I do forbidden thing number 0?", "split": "train"}
        handle.write(json.dumps({**row, "label": "harmful", "text": REFUSAL.format(i=0)}) + "\n")
    assert len(load_gptfuzz(path, "train")) == 35


def test_training_on_a_tiny_file(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    from bastion.training.reference_judge import ReferenceJudgeSettings, train_reference_judge

    _write_fake_shared(tmp_path / "shared")
    settings = ReferenceJudgeSettings(
        shared_data=tmp_path / "shared",
        out=tmp_path / "out",
        folds=3,
        c_grid=(1.0, 4.0),
        class_weights=("none",),
        word_features=200,
        char_features=400,
    )
    result = train_reference_judge(settings)
    meta = result.metadata
    assert meta["runtime_max_abs_diff"] < 1e-9 and len(meta["grid"]) == 2
    assert meta["data"]["train"]["rows"] == 36 and meta["data"]["questions"]["dev"] == 2
    assert meta["metrics"]["dev"]["n"] == 12 and meta["metrics"]["dev"]["kappa"] > 0.5
    judge = ReferenceJudge.load(result.out)
    assert judge.probability("Sure! Step 1: get the tools. Step 2: do it.") > judge.probability(
        "I'm sorry, but I can't help with that."
    )
    assert (result.out / "MODEL_CARD.md").read_text(encoding="utf-8").startswith("# bastion")
    assert packaged_reference_dir() != result.out
