"""Average trained checkpoints into one model (a uniform model soup) and measure it on the dev sets.

    python bench/soup.py RUN_D/checkpoints/checkpoint-17349 RUN_E/checkpoints/checkpoint-17349 [--save DIR]
    python bench/soup.py OLD/model.safetensors NEW/model/model.safetensors --save DIR --like NEW/model

The weights of the given checkpoints (transformers Trainer checkpoints or `member.safetensors` files
of a `data_seeds` run) are averaged by `training.train.average_weights`, then the device thresholds
and the stance temperature are fitted on the dev sets of the config exactly as training's step 6
(`training.train.tune_on_dev`). Prints the dev headline (the mean of the five measures is the
selection rule), the temperature and the stance calibration error, and writes
bench/results/soup.json. One checkpoint alone gives that run's own dev figures, the baseline.

With ``--save DIR`` the soup is also saved as a model directory that `stance` loads like any other: its
``evaluation.json`` holds the soup's dev metrics and names the members (``soup_of``); ``--like RUN/model``
(a member trained on all the data the members saw together) gives it that run's training-data summary and
config, and its ``training.json`` and card follow from them.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from safetensors.torch import load_file  # noqa: E402

from stance.labels.taxonomy import Taxonomy  # noqa: E402
from stance.model.modeling import StanceModel  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.data import load_sets  # noqa: E402
from training.evaluate import headline  # noqa: E402
from training.train import _asdict, average_weights, save_model, tune_on_dev  # noqa: E402


def weights_file(path: Path) -> Path:
    return path if path.suffix == ".safetensors" else path / "model.safetensors"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", type=Path, nargs="+")
    parser.add_argument("--config", default=str(ROOT / "configs/default.yaml"), help="its dev sets and tuning settings")
    parser.add_argument("--model", default="default", help="a model of the same architecture (its config and tokenizer)")
    parser.add_argument("--save", type=Path, help="also save the soup as a model directory")
    parser.add_argument(
        "--like", type=Path, help="with --save: the model directory whose data summary and config the soup's card states"
    )
    args = parser.parse_args()

    config = TrainConfig.from_yaml(args.config)
    model = StanceModel.from_pretrained(args.model, device="cpu", bf16=True)
    model.network.load_state_dict(average_weights([load_file(str(weights_file(p))) for p in args.checkpoints]))
    model.config.stance_temperature = 1.0  # the temperature is fitted on predictions at 1, as after training
    taxonomy = Taxonomy.load()
    dev_sets = load_sets(config.dev, config.data_dir, taxonomy, config.seed)
    metrics = tune_on_dev(model, dev_sets, config)
    result = {
        "date": date.today().isoformat(),
        "checkpoints": [str(p) for p in args.checkpoints],
        "headline": headline(metrics),
        "temperature": model.config.stance_temperature,
        "ece": {name: m["stance"]["ece"] for name, m in metrics.items() if "stance" in m},
        "thresholds": {k: model.config.device_thresholds[k] for k in taxonomy.names if k in model.config.device_thresholds},
    }
    print(json.dumps(result, indent=1))
    out = ROOT / "bench/results/soup.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    if args.save:
        save(model, args.save, metrics, [str(p) for p in args.checkpoints], args.like, config)


def save(model: StanceModel, out: Path, metrics: dict, members: list[str], like: Path | None, config: TrainConfig) -> None:
    """Save the soup with its dev metrics, its members, training.json and card (see the module docstring)."""
    base = json.loads((like / "evaluation.json").read_text()) if like else {"config": _asdict(config)}
    evaluation = {**base, "headline": headline(metrics), "datasets": metrics, "train_seconds": None, "soup_of": members}
    evaluation.pop("held_out", None)  # a member's held-out figures are not the soup's
    save_model(model, out, evaluation, config)


if __name__ == "__main__":
    main()
