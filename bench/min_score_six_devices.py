"""A minimum span score for the six fixed devices, measured on dev (BENCHMARKS.md 0zd; not applied).

    python bench/min_score_six_devices.py [--model default]

The model's dev predictions on framing:dev and allsides:dev (torch), decoded at its thresholds with one minimum for
all six devices (macro precision / recall / partial F1 over the six), then each device alone at several minimums.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETS = ("framing:dev", "allsides:dev")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    args = parser.parse_args()

    from stance.labels.taxonomy import FIXED_DEVICES
    from stance.model.modeling import StanceModel
    from training.evaluate import evaluate_raw, load_datasets, predict_raw

    model = StanceModel.from_pretrained(args.model, backend="torch")
    raws = {name: predict_raw(model, records) for name, records in load_datasets(list(SETS), args.data_dir).items()}
    for floor in (0.0, 0.4, 0.5, 0.6, 0.7, 0.8):
        minimums = {**model.config.device_min_scores, **dict.fromkeys(FIXED_DEVICES, floor)}
        row = []
        for name, raw in raws.items():
            devices = evaluate_raw(raw, model, None, minimums)["devices"]
            p, r, f = (np.mean([devices[d]["partial"][k] for d in FIXED_DEVICES]) for k in ("precision", "recall", "f1"))
            row.append(f"{name} P/R/F1 {p:.3f}/{r:.3f}/{f:.3f}")
        print(floor, " | ".join(row))
    for device in FIXED_DEVICES:
        cells = []
        for floor in (0.0, 0.5, 0.6, 0.7, 0.8, 0.9):
            f1 = [evaluate_raw(raw, model, None, {device: floor})["devices"][device]["partial"]["f1"] for raw in raws.values()]
            cells.append(f"{floor}:{f1[0]:.3f}/{f1[1]:.3f}")
        print(device, model.config.device_thresholds[device], " ".join(cells))


if __name__ == "__main__":
    main()
