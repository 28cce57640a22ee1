#!/usr/bin/env bash
# One-command set-up: a virtual environment in .venv with stance and its test tools.
# torch is pinned to 2.13.0 in pyproject.toml; the CPU build is chosen below (no multi-GB CUDA download).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# torch==2.13.0 from PyPI is the CUDA build on Linux (several GB): take the CPU build from PyTorch's
# CPU index where it can be reached (TORCH_CPU_INDEX= to skip), else what pip is configured with.
TORCH_CPU_INDEX=${TORCH_CPU_INDEX-https://download.pytorch.org/whl/cpu}
EXTRA=()
if [ -n "$TORCH_CPU_INDEX" ] && .venv/bin/python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/torch/', timeout=5)" "$TORCH_CPU_INDEX" 2>/dev/null; then
  EXTRA=(--extra-index-url "$TORCH_CPU_INDEX")
fi
.venv/bin/python -m pip install --quiet "${EXTRA[@]}" -e ".[dev]"
# Convert the shipped model for OpenVINO and time the backends once (about 20 s), so that the
# first `stance score` does not.
.venv/bin/stance models prepare default
echo "ready: . .venv/bin/activate && stance --help"
