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

    from dataclasses import replace

    from stance.model.modeling import StanceModel
    from training.config import TrainConfig
    from training.evaluate import evaluate_raw, load_datasets, predict_raw
    from training.train import tune_on_dev

    model = StanceModel.from_pretrained(args.model)
    sets = load_datasets(list(DEV_SETS), args.data_dir)
    before = model.config.stance_temperature
    ece_before = [round(evaluate_raw(predict_raw(model, sets[name]), model)["stance"]["ece"], 3) for name in STANCE_SETS]
    # the temperature step of `stance retrain` (training.train.tune_on_dev), thresholds left as they are
    config = replace(TrainConfig(), tune_thresholds=False, calibrate_stance=True, stance_calibration=args.objective)
    metrics = tune_on_dev(model, sets, config)
    ece_after = [round(metrics[name]["stance"]["ece"], 3) for name in STANCE_SETS]
    print(
        f"temperature {before:.2f} -> {model.config.stance_temperature:.2f}; ECE {', '.join(STANCE_SETS)}: {ece_before} -> {ece_after}"
    )


if __name__ == "__main__":
    main()
