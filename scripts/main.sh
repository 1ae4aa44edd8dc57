#!/usr/bin/env bash
# The README's first command: install everything, then run the main job on the embedded
# defaults (the guided tour of the guard: hard limits, soft limits by context, obfuscation,
# multi-turn escalation and output checks).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/bastion demo "$@"
