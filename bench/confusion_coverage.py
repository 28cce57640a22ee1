"""Coverage of `stance compare`'s corrected-share (acc) intervals when the confusion matrix comes from few labels.

    python bench/confusion_coverage.py [--trials 2000] [--bootstrap 400] [--labels 60 150 600]

A true confusion matrix with rare confusions (1% and 0.5% cells) and true stance shares are fixed. Each
trial draws the labelled dev targets the matrix is measured on, and 20,000 scored mentions; the corrected
shares come from `stance.analysis.quantify.adjust_shares`, and their 95% interval from replicates that
redraw the mentions and the matrix, the matrix in two ways, in the same run: ``multinomial`` (each gold
row's counts redrawn from its observed rates, the method before session 25: a cell seen 0 times stays 0)
and ``dirichlet`` (`Confusion.resampled_rates`: each row from its Dirichlet(counts + 1/2) posterior).
Prints the share of trials whose interval holds each true share. Seeded: the same arguments give the
same figures.
"""

from __future__ import annotations

import argparse

import numpy as np

from stance.analysis.quantify import Confusion, adjust_shares, adjust_shares_each, interval

TRUE_RATES = np.array([[0.80, 0.19, 0.01], [0.08, 0.84, 0.08], [0.005, 0.145, 0.85]])  # gold neg, neu, pos
TRUE_SHARES = np.array([0.3, 0.5, 0.2])
MENTIONS = 20_000


def multinomial_rates(conf: Confusion, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """The earlier resampling: each gold row's counts redrawn as a multinomial of its observed rates."""
    totals = conf.counts.sum(axis=1)
    counts = np.stack([rng.multinomial(int(n), row, size=replicates) for n, row in zip(totals, conf.rates)], axis=1)
    return counts / counts.sum(axis=2, keepdims=True)


METHODS = {"multinomial": multinomial_rates, "dirichlet": lambda c, b, rng: c.resampled_rates(b, rng)}


def trial(labels: np.ndarray, bootstrap: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per method, which of the three true shares the trial's 95% interval holds."""
    conf = Confusion(np.stack([rng.multinomial(n, row) for n, row in zip(labels, TRUE_RATES)]).astype(float))
    gold = rng.multinomial(MENTIONS, TRUE_SHARES)
    predicted = sum(rng.multinomial(n, row) for n, row in zip(gold, TRUE_RATES)) / MENTIONS
    estimate = adjust_shares(predicted[None], conf.rates)[0]
    shares = rng.multinomial(MENTIONS, predicted, size=bootstrap) / MENTIONS
    held = {}
    for name, resample in METHODS.items():
        reps = adjust_shares_each(shares[:, None, :], resample(conf, bootstrap, rng))[:, 0, :]
        lo, hi = interval(reps, 0.95)
        held[name] = (lo <= TRUE_SHARES) & (TRUE_SHARES <= hi) & np.isfinite(estimate)
    return held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--bootstrap", type=int, default=400)
    parser.add_argument("--labels", type=int, nargs="+", default=[60, 150, 600], help="labelled targets behind the matrix")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print("labels behind the matrix | method | coverage of negative / neutral / positive share (95% nominal)")
    for total in args.labels:
        labels = np.maximum(np.round(TRUE_SHARES * total).astype(int), 1)
        hits = {name: np.zeros(3) for name in METHODS}
        for _ in range(args.trials):
            for name, held in trial(labels, args.bootstrap, rng).items():
                hits[name] += held
        for name in METHODS:
            print(f"{total} | {name} | " + " / ".join(f"{h / args.trials:.3f}" for h in hits[name]))


if __name__ == "__main__":
    main()
