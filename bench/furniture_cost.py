"""The cost of the page-furniture rule of `stance compare` / `stance actors` on a generated frame.

    python bench/furniture_cost.py [--sentences 1000000]

Sentences of 20,000 articles of 300 outlets, one in 50 a newsletter line; prints the seconds of
`stance.io.score_files.without_repeated_sentences` and its note.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from stance.io.score_files import without_repeated_sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.sentences
    docs = np.random.default_rng(0).integers(0, 20_000, n)
    frame = pd.DataFrame(
        {
            "doc_id": [f"d{d}" for d in docs],
            "sentence_id": np.arange(n),
            "outlet": [f"o{d % 300}" for d in docs],
            "text": [f"Sentence number {i} about things {i % 997}." for i in range(n)],
        }
    )
    frame.loc[::50, "text"] = "View all newsletters."
    start, notes = time.perf_counter(), []
    kept = without_repeated_sentences(frame, notes)
    print(f"{time.perf_counter() - start:.1f} s for {n:,} sentences; {n - len(kept):,} left out; {notes[0][:120]}")


if __name__ == "__main__":
    main()
