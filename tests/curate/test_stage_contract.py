"""Contract tests over every registered curation stage (built-in and fakes)."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from bastion.core.errors import ConfigError
from bastion.core.registry import Registry
from bastion.curate.config import load_curate_config
from bastion.curate.document import Document, parse_document
from bastion.curate.fakes import fake_registry
from bastion.curate.registry import build_stage_registry
from bastion.curate.stages.base import (
    CorpusStage,
    RowOutcome,
    RowStage,
    StageDeps,
    StagePlugin,
)
from bastion.curate.verdict import CuratedRow, RowAction
from bastion.policy.loader import load_policy

REGISTRY = build_stage_registry(entry_points=False)
ALL: list[StagePlugin] = [*REGISTRY, *fake_registry()]
CONFIG = load_curate_config(None)
# Options a stage needs beyond its defaults to be built at all.
NEEDS: dict[str, dict[str, object]] = {}


@pytest.fixture(scope="module")
def deps(tmp_path_factory: pytest.TempPathFactory) -> StageDeps:
    base = tmp_path_factory.mktemp("evals")
    item = "a held out evaluation question about the longest rivers of the world"
    (base / "eval.jsonl").write_text(json.dumps({"text": item}) + "\n")
    NEEDS["decontamination"] = {"paths": ["eval.jsonl"]}
    return StageDeps(load_policy(None), CONFIG.curation_context(), base)


ODD = [
    "",
    " ",
    "plain English text about the weather today",
    "\x00\x01\x02 control characters \x7f",
    "zero\u200bwidth \u202eright-to-left\u202c and a lone surrogate \udc80",
    "日本語のテキストと emoji 🎉🎉🎉",
    "x" * 200_000,
    "word " * 20_000,
    "\n\n\n".join(["line"] * 500),
]


def _docs() -> list[Document]:
    docs = [parse_document({"text": t}, shard="s", line=i) for i, t in enumerate(ODD, start=1)]
    docs.append(parse_document({"prompt": "hi", "response": ""}, shard="s", line=90))
    docs.append(
        parse_document({"messages": [{"role": "system", "content": "be nice"}]}, shard="s", line=91)
    )
    return docs


def _build(entry: StagePlugin, deps: StageDeps) -> RowStage | CorpusStage:
    options = entry.options.model_validate(NEEDS.get(entry.name, {}))
    return entry.build(options, deps)


@pytest.fixture(params=ALL, ids=lambda e: e.name)
def built(request: pytest.FixtureRequest, deps: StageDeps) -> Iterator[tuple[StagePlugin, object]]:
    entry: StagePlugin = request.param
    stage = _build(entry, deps)
    yield entry, stage
    closer = getattr(stage, "close", None)
    if closer is not None:
        closer()


def test_every_default_stage_is_registered() -> None:
    for spec in CONFIG.stages:
        assert spec.name in REGISTRY


def test_defaults_of_every_options_model_are_valid() -> None:
    for entry in ALL:
        entry.options()  # does not raise
        assert entry.summary
        assert entry.kind in ("row", "corpus")


def test_unknown_options_are_refused() -> None:
    for entry in ALL:
        with pytest.raises(ValueError, match="Extra inputs"):
            entry.options.model_validate({"no_such_option": 1})


def test_a_stage_has_its_registered_name(built: tuple[StagePlugin, object]) -> None:
    entry, stage = built
    assert getattr(stage, "name", None) == entry.name


def test_a_stage_answers_every_row_and_never_raises(built: tuple[StagePlugin, object]) -> None:
    entry, stage = built
    docs = _docs()
    if entry.kind == "row":
        assert isinstance(stage, RowStage)
        outcomes = stage.run(docs)
        assert len(outcomes) == len(docs)
        for outcome in outcomes:
            assert isinstance(outcome, RowOutcome)
            assert outcome.verdict.stage == entry.name
            if outcome.verdict.action is RowAction.DROP:
                assert outcome.verdict.reason, "a removal must say why"
        return
    assert isinstance(stage, CorpusStage)
    features = stage.features(docs)
    assert len(features) == len(docs)
    pickle.loads(pickle.dumps(features))  # features travel between processes
    for doc, feature in zip(docs, features, strict=True):
        verdict = stage.observe(CuratedRow(doc, ()), feature)
        assert verdict.stage == entry.name


def test_a_stage_that_cannot_be_built_says_why(deps: StageDeps) -> None:
    entry = REGISTRY.get("decontamination")
    with pytest.raises(ConfigError):
        entry.build(entry.options(), deps)


def test_fake_registry_is_separate_from_the_default() -> None:
    assert "fake_keyword" not in REGISTRY
    assert isinstance(fake_registry(), Registry)


def test_the_default_config_builds(deps: StageDeps) -> None:
    from bastion.curate.pipeline import GraphSpec, StageGraph

    graph = StageGraph.build(GraphSpec(CONFIG, load_policy(None), "pretraining", Path.cwd()))
    try:
        assert graph.names[-1] == "dedup"
        assert "harm" in graph.names
    finally:
        graph.close()
