"""Coverage and width of `stance compare`'s corrected (acc) intervals near and away from the bounds.

    python bench/acc_boundary_coverage.py [--groups 1000]

Simulated as the test suite simulates (tests/test_compare.py's ``simulate``: groups of 30 articles whose stances
vary between articles, predicted through the same confusion matrix that corrects them, 400 resamples): for each
true mix of shares, the share of groups whose 95% interval holds the truth, per measure, the share of net-stance
intervals of zero width and their median width. Seeded: the same arguments give the same figures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_compare import CONFUSION, CONFUSION_JSON, coverage, simulate, truth_of  # noqa: E402

from stance.analysis.compare import compare_scores  # noqa: E402

TRUTHS = ([0.02, 0.96, 0.02], [0.0, 1.0, 0.0], [0.05, 0.85, 0.10], [0.35, 0.35, 0.30])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=1000)
    args = parser.parse_args()
    for shares in TRUTHS:
        truth = np.array(shares)
        frame = simulate(args.groups, 30, truth, seed=5, confusion=CONFUSION, concentration=8.0, sentences=2)
        result = compare_scores(
            frame, by="outlet", confusion=CONFUSION_JSON, bootstrap=400, min_mentions=1, differences=False, examples=0
        )
        rows = result.stance[result.stance["method"] == "acc"]
        width = (rows["ci_high"] - rows["ci_low"])[rows["measure"] == "net"]
        covered = {k: round(v, 3) for k, v in coverage(result, "acc", truth_of(truth)).items()}
        print(
            shares,
            covered,
            "zero-width net",
            round(float((width < 1e-9).mean()), 3),
            "median net width",
            round(float(width.median()), 3),
        )


if __name__ == "__main__":
    main()
