"""How well the stance temperature calibrates targets it was not fitted on.

    python bench/calibration_crossfit.py [--model default] [--repeats 200]

Training's step 6 fits the temperature on the two NewsMTSC dev sets and reports their calibration error
(ECE) there: an in-sample figure, optimistic by construction. This script predicts both sets once at
temperature 1 and reports:

1. in-sample: the temperature fitted as training fits it (``worst_ece``) on both whole sets, ECE on each;
2. across sets: fitted on one set (``nll``), ECE on the other;
3. split halves, repeated: each set's articles halved at random; fitted (``worst_ece``) on the first halves,
   ECE on the second (out of sample), beside the ECE of the second halves at a temperature fitted on
   themselves (in sample at the same size, which carries the same small-sample bias of the ECE):
   their difference is the optimism of the in-sample figure. Medians and 5-95% ranges over the repeats.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STANCE_SETS = ("newsmtsc:dev_rw", "newsmtsc:dev_mt")


def targets(model, records) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probabilities at temperature 1, gold indices and article ids of the gold targets of ``records``."""
    from training.evaluate import predict_raw

    raw = predict_raw(model, records)
    probs, gold, docs = [], [], []
    for i, (r, enc, sp) in enumerate(zip(raw.records, raw.encoded, raw.stance)):
        for t, slot in zip(r.targets, enc.target_slots):
            if t.stance is not None and slot is not None:
                probs.append(sp[slot])
                gold.append(model.stance_labels.index(t.stance))
                docs.append(r.doc_id or f"sentence-{i}")
    return np.array(probs), np.array(gold), np.array(docs)


def ece_at(probs: np.ndarray, gold: np.ndarray, temperature: float) -> float:
    from stance.store.model_files import temperature_scaled
    from training.metrics import expected_calibration_error

    return expected_calibration_error(temperature_scaled(probs, temperature), gold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="default")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from stance.model.modeling import StanceModel
    from training.evaluate import load_datasets
    from training.metrics import fit_temperature, fit_temperature_worst_ece

    model = StanceModel.from_pretrained(args.model)
    model.config.stance_temperature = 1.0  # the network's own probabilities, as training's step 6 fits from
    sets = {name: targets(model, recs) for name, recs in load_datasets(list(STANCE_SETS), args.data_dir).items()}
    names = list(sets)

    fitted = fit_temperature_worst_ece([(p, list(g)) for p, g, _ in sets.values()])
    result: dict = {"model": args.model, "targets": {n: len(sets[n][1]) for n in names}}
    result["in_sample"] = {"temperature": fitted, **{n: ece_at(sets[n][0], sets[n][1], fitted) for n in names}}
    across = {}
    for fit_on, measure_on in (names, names[::-1]):
        t = fit_temperature(sets[fit_on][0], list(sets[fit_on][1]))
        across[f"fit {fit_on}, measure {measure_on}"] = {"temperature": t, "ece": ece_at(*sets[measure_on][:2], t)}
    result["across_sets"] = across

    rng = np.random.default_rng(args.seed)
    outside: dict[str, list[float]] = {n: [] for n in names}
    inside: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(args.repeats):
        halves = {}
        for n, (p, g, d) in sets.items():
            docs = np.unique(d)
            first = set(rng.choice(docs, size=len(docs) // 2, replace=False))
            mask = np.array([x in first for x in d])
            halves[n] = ((p[mask], g[mask]), (p[~mask], g[~mask]))
        t_first = fit_temperature_worst_ece([(a[0], list(a[1])) for a, _ in halves.values()])
        t_second = fit_temperature_worst_ece([(b[0], list(b[1])) for _, b in halves.values()])
        for n, (_, (p, g)) in halves.items():
            outside[n].append(ece_at(p, g, t_first))
            inside[n].append(ece_at(p, g, t_second))

    def summary(values: list[float]) -> dict:
        return {
            "median": float(np.median(values)),
            "p5": float(np.percentile(values, 5)),
            "p95": float(np.percentile(values, 95)),
        }

    result["split_halves"] = {
        n: {
            "out_of_sample": summary(outside[n]),
            "in_sample_same_size": summary(inside[n]),
            "optimism": summary(list(np.subtract(outside[n], inside[n]))),
        }
        for n in names
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
