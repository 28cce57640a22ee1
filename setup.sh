#!/usr/bin/env bash
# One-command set-up: a virtual environment in .venv with stance and its test tools.
# torch is pinned to the CPU build 2.13.0 in pyproject.toml (no multi-GB CUDA download).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
# Convert the shipped model for OpenVINO and time the backends once (about 20 s), so that the
# first `stance score` does not.
.venv/bin/stance models prepare default
echo "ready: . .venv/bin/activate && stance --help"
