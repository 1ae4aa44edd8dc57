#!/usr/bin/env bash
# Pin the server install with hashes and describe it as a CycloneDX SBOM, in one command:
#   bash scripts/sbom.sh
# writes requirements/server.lock (pip-compile --generate-hashes over pyproject.toml's core
# dependencies and the `serve` extra) and sbom.cdx.json (CycloneDX 1.6 JSON of that lock).
# Install from the lock with: pip install --require-hashes -r requirements/server.lock
# then: pip install --no-deps . (see docs/security.md, "Supply chain").
# Needs the dev extra (pip-tools, cyclonedx-bom) and the package index; resolves for this
# interpreter and platform (Linux, CPython 3.11 in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV_BIN="${VENV_BIN:-.venv/bin}"
LOCK=requirements/server.lock
SBOM="${SBOM:-sbom.cdx.json}"
# Existing pins are kept while pyproject.toml allows them; UPGRADE=1 moves every package to
# the newest allowed version (review the diff before committing it).
CUSTOM_COMPILE_COMMAND="bash scripts/sbom.sh" "$VENV_BIN/pip-compile" \
  --quiet ${UPGRADE:+--upgrade} --generate-hashes --allow-unsafe --strip-extras \
  --no-emit-index-url --no-emit-find-links --extra serve \
  --output-file "$LOCK" pyproject.toml
# A lock file has no dependency graph; cyclonedx-py warns about that on every run.
PYTHONWARNINGS=ignore::UserWarning "$VENV_BIN/cyclonedx-py" requirements \
  --pyproject pyproject.toml --mc-type application --output-reproducible \
  --of JSON -o "$SBOM" "$LOCK"
echo "wrote $LOCK ($(grep -cE '^[A-Za-z0-9].*==' "$LOCK") pinned packages) and $SBOM"
