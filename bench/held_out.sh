#!/usr/bin/env bash
# The held-out checks of a candidate model against the shipped one, measured once before a shipping decision.
#
#     bench/held_out.sh OLD_MODEL NEW_MODEL OUT_DIR
#
# Both models run as `stance score` would run them (`--backend auto`, read from each model's backends.json;
# record it first with `python bench/backends.py --model NEW --record`, whose rule keeps device spans too).
# Writes to OUT_DIR: heldout.json (`stance evaluate` on ptc:test, framing:heldout, allsides:heldout),
# devices.json (the six devices of `stance score` on held-out real news, both models and their paired
# difference with a bootstrap interval), ptc.json (PTC test span identification of the reported spans) and
# challenge.json (the stance challenge set). Nothing is trained or tuned on these sets.
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: bench/held_out.sh OLD_MODEL NEW_MODEL OUT_DIR" >&2
  exit 2
fi
OLD=$1 NEW=$2 OUT=$3
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
mkdir -p "$OUT"
$PY -m stance evaluate "$NEW" --data ptc:test --data framing:heldout --data allsides:heldout --out "$OUT/heldout.json"
$PY bench/devices_real.py --model "$OLD" --model "$NEW" --out "$OUT/devices.json" > /dev/null
$PY bench/ptc_si.py --model "$OLD" --model "$NEW" --out "$OUT/ptc.json" > /dev/null
$PY bench/challenge.py --model "$OLD" --model "$NEW" --out "$OUT/challenge.json" > /dev/null
$PY - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
devices = json.load(open(f"{out}/devices.json"))
for m in devices["models"]:
    macro = m["macro"]
    print(f"{m['model']}: devices P/R/F1 {macro['precision']:.3f}/{macro['recall']:.3f}/{macro['f1']:.3f}, "
          f"device-free flagged {m['device_free_flagged_share']:.3f}")
paired = devices["paired"]
print(f"macro F1 difference {paired['macro_f1_diff']:+.3f}, 95% interval [{paired['ci95'][0]:+.3f}, {paired['ci95'][1]:+.3f}]")
PY
