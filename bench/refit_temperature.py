"""Refit a model's stance temperature on the dev sets, as `stance retrain` does, and print the calibration
error of the NewsMTSC dev sets before and after (in-sample, as the shipped model's figure).

    python bench/refit_temperature.py runs/retrain/model
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEV_SETS = ("newsmtsc:dev_rw", "newsmtsc:dev_mt", "ptc:dev", "framing:dev", "allsides:dev")
STANCE_SETS = ("newsmtsc:dev_rw", "newsmtsc:dev_mt")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--objective", default="worst_ece")
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    args = parser.parse_args()

    from stance.model.modeling import StanceModel
    from training.evaluate import calibrate_stance, evaluate_raw, load_datasets, predict_raw

    model = StanceModel.from_pretrained(args.model)
    sets = load_datasets(list(DEV_SETS), args.data_dir)

    def ece() -> list[float]:
        return [round(evaluate_raw(predict_raw(model, sets[name]), model)["stance"]["ece"], 3) for name in STANCE_SETS]

    before, ece_before = model.config.stance_temperature, ece()
    model.config.stance_temperature = 1.0
    after = calibrate_stance([predict_raw(model, records) for records in sets.values()], model, args.objective)
    print(f"temperature {before:.2f} -> {after:.2f}; ECE {', '.join(STANCE_SETS)}: {ece_before} -> {ece()}")


if __name__ == "__main__":
    main()
