"""Stance quality and speed of several models side by side, speed measured interleaved in one run.

    python bench/model_speed.py runs/teacher/model default runs/default/model --repeats 3 \
        --out bench/results/model_speed.json

For each model: NewsMTSC dev_rw / dev_mt macro-F1 (training.evaluate, the model's own prediction
path: one pass per target for a teacher saved so, one pass per sentence otherwise), and the
sentences per second of that path over the dev_rw and dev_mt sentences (torch backend, bf16 where
the CPU has it, 2 threads), the median of ``--repeats`` rounds that visit the models in turn.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    import torch

    from stance.labels.taxonomy import Taxonomy
    from stance.model.modeling import StanceModel
    from training.config import DataSpec
    from training.data import load_records
    from training.evaluate import evaluate_raw, predict_raw

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(2)
    tax = Taxonomy.load()
    dev = {s: load_records(DataSpec(source="newsmtsc", split=s), args.data_dir, tax) for s in ("dev_rw", "dev_mt")}
    sentences = [r for recs in dev.values() for r in recs]
    models = {name: StanceModel.from_pretrained(name, backend="torch") for name in args.models}
    results = {name: {"quality": {}, "seconds": []} for name in models}
    for name, model in models.items():
        predict_raw(model, sentences[:64])  # warm-up
        for split, recs in dev.items():
            m = evaluate_raw(predict_raw(model, recs), model)["stance"]
            results[name]["quality"][split] = {"macro_f1": m["macro_f1"], "f1": m["f1"], "ece": m.get("ece")}
    for _ in range(args.repeats):
        for name, model in models.items():
            t = time.perf_counter()
            predict_raw(model, sentences)
            results[name]["seconds"].append(time.perf_counter() - t)
    for name, r in results.items():
        r["sentences"] = len(sentences)
        r["sentences_per_second"] = len(sentences) / statistics.median(r["seconds"])
        r["one_target_per_pass"] = bool(getattr(models[name].config, "one_target_per_pass", False))
        print(
            f"{name:40s} dev_rw {r['quality']['dev_rw']['macro_f1']:.3f} dev_mt {r['quality']['dev_mt']['macro_f1']:.3f} "
            f"{r['sentences_per_second']:.1f} sentences/s"
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
