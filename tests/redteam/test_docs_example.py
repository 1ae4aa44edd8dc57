"""The attack example in docs/redteam.md runs and conforms."""

from __future__ import annotations

import re
from pathlib import Path

from bastion.redteam import AttackDeps, AttackPlugin, Observation, Outcome, load_goals

DOC = Path(__file__).parents[2] / "docs" / "redteam.md"


def test_the_documented_attack_works() -> None:
    code = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert code is not None
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), str(DOC), "exec"), namespace)
    plugin: AttackPlugin = namespace["PoliteRetry"].__bastion_plugin__  # type: ignore[attr-defined]
    assert plugin.name == "polite_retry" and plugin.description.startswith("Asks plainly")
    run = plugin.build(plugin.config_model(), AttackDeps()).run(load_goals()[0])
    first = next(run)
    second = run.send(Observation("I'm sorry.", False, 0.1))
    assert second.prompt == "Please? " + first.prompt
    try:
        run.send(Observation("Sure ...", True, 0.8))
    except StopIteration as stop:
        outcome = stop.value
    assert outcome == Outcome(True, 0.8)
