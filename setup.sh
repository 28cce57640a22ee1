#!/usr/bin/env bash
# One-command set-up: a virtual environment in .venv with stance and its test tools.
# torch is pinned to the CPU build 2.13.0 in pyproject.toml (no multi-GB CUDA download).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
echo "ready: . .venv/bin/activate && stance --help"
