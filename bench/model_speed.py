"""Model-only inference speed: sentences/s of StanceModel on NewsMTSC dev sentences with their
targets (bf16 autocast and fp32, same run), median of several repeats.

    python bench/model_speed.py [--model default] [--repeats 5] [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date
from pathlib import Path

import torch

from stance.modeling import StanceModel
from training.convert.newsmtsc import convert


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="default")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", default="bench/results/model_speed.json")
    args = parser.parse_args()
    records = list(convert(Path(args.data_dir), "dev_rw")) + list(convert(Path(args.data_dir), "dev_mt"))
    texts = [r.text for r in records] * 4
    targets = [[(t.start, t.end) for t in r.targets] for r in records] * 4
    results = {"date": str(date.today()), "sentences": len(texts), "threads": torch.get_num_threads()}
    for name, bf16 in (("bf16", True), ("fp32", False)):
        model = StanceModel.from_pretrained(args.model, bf16=bf16)
        model.predict(texts[:128], targets[:128])  # warm-up
        rates = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            model.predict(texts, targets, batch_size=args.batch_size)
            rates.append(len(texts) / (time.perf_counter() - t0))
        results[name] = {"median_sentences_per_s": statistics.median(rates), "rates": rates}
        print(name, f"{statistics.median(rates):.0f} sentences/s")
    results["bf16_speedup"] = results["bf16"]["median_sentences_per_s"] / results["fp32"]["median_sentences_per_s"]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
