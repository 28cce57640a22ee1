"""Coverage of `stance compare`'s bootstrap interval for a mean over n articles (the reason for `--min-articles`).

    python bench/interval_coverage.py [--trials 2000] [--bootstrap 1000]

Per-article values are drawn from a normal and from a skewed distribution; each sample of n articles is
resampled as `stance compare` resamples articles, and its 95% interval comes from
`stance.analysis.quantify.interval` (expanded for n units). Prints the share of samples whose interval holds
the true mean. Seeded: the same arguments give the same figures.
"""

from __future__ import annotations

import argparse

import numpy as np

from stance.analysis.quantify import interval

DISTRIBUTIONS = {
    "normal(0.2, 0.5)": (lambda rng, k: rng.normal(0.2, 0.5, k), 0.2),
    "beta(2,5) on [-1, 1]": (lambda rng, k: rng.beta(2, 5, k) * 2 - 1, 2 * 2 / 7 - 1),
}


def coverage(n: int, draw, mean: float, trials: int, bootstrap: int, rng: np.random.Generator) -> float:
    """Share of ``trials`` samples of ``n`` values whose 95% interval holds ``mean``."""
    hits = 0
    for _ in range(trials):
        x = draw(rng, n)
        boot = x[rng.integers(0, n, (bootstrap, n))].mean(axis=1)
        lo, hi = interval(boot[:, None], 0.95, n=n)
        hits += bool(lo[0] <= mean <= hi[0])
    return hits / trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--articles", type=int, nargs="+", default=[3, 5, 10, 20])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print("distribution | " + " | ".join(f"n={n}" for n in args.articles))
    for name, (draw, mean) in DISTRIBUTIONS.items():
        row = [coverage(n, draw, mean, args.trials, args.bootstrap, rng) for n in args.articles]
        print(f"{name} | " + " | ".join(f"{c:.3f}" for c in row))


if __name__ == "__main__":
    main()
