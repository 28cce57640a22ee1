"""How often a model flags device-free dev sentences, by how the sentences were sampled.

    python bench/flagged_share.py default runs/default/model [--config configs/default.yaml]

For each model and each dev set of the config that has device-free sentences (annotated for the six
fixed devices, with none of them), the share given any of the six at the model's own thresholds:
over the sentences that the false-alarm limit of training's step 6 reads (not chosen by a model), over
those chosen where a model found a device (``meta["chosen_by"]``, see training/convert/allsides.py), and
the number of device-free sentences of each kind. A large gap between the two shares is why the limit leaves model-chosen sentences out:
they are rich in the sampling model's false alarms (BENCHMARKS.md section 0r). Writes
bench/results/flagged_share.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stance.labels.taxonomy import Taxonomy  # noqa: E402
from stance.model.modeling import StanceModel  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.data import load_sets  # noqa: E402
from training.evaluate import flagged_counts, predict_raw  # noqa: E402


def shares(model: StanceModel, records: list) -> dict:
    """The flagged share of the not-model-chosen and of the model-chosen device-free sentences, with their counts."""
    raw = predict_raw(model, records)
    (free_read, flagged_read), (free_chosen, flagged_chosen) = (
        flagged_counts([raw], model, model.config.device_thresholds, model_chosen=chosen) for chosen in (False, True)
    )
    return {
        "read_by_the_limit": flagged_read / free_read if free_read else None,
        "model_chosen": flagged_chosen / free_chosen if free_chosen else None,
        "device_free_read": free_read,
        "device_free_model_chosen": free_chosen,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+")
    parser.add_argument("--config", default=str(ROOT / "configs/default.yaml"), help="its dev sets")
    args = parser.parse_args()
    config = TrainConfig.from_yaml(args.config)
    dev_sets = load_sets(config.dev, config.data_dir, Taxonomy.load(), config.seed)
    result: dict = {"date": date.today().isoformat(), "config": args.config, "models": {}}
    for name in args.models:
        model = StanceModel.from_pretrained(name, device="cpu", bf16=True)
        per_set = {}
        for set_name, records in dev_sets.items():
            if any(r.device_labels for r in records):
                measured = shares(model, records)
                if measured["read_by_the_limit"] is not None or measured["model_chosen"] is not None:
                    per_set[set_name] = measured
        result["models"][name] = per_set
    print(json.dumps(result, indent=1))
    out = ROOT / "bench/results/flagged_share.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
