"""Is this tree faster than an earlier commit? `stance score` from both, interleaved, in the same run.

    python bench/ab_commits.py BASE_REV [--sentences 20000] [--repeats 3] [--workers 2]

1. Generates the benchmark corpus (bench/corpus.py) and checks BASE_REV out into a temporary git
   worktree; the shipped model's converted graph and backend choice (gitignored caches) are copied
   in from this tree when the model is the same, else the base prepares its own.
2. Runs the whole `stance score CORPUS --out ... --workers N` command from each tree in turn
   (`RUN_STANCE` with the tree first on PYTHONPATH), `--repeats`
   times, alternating, so that the machine's drifts in speed hit both alike. The time is the wall
   time of the command: Python start, imports, worker start-up, scoring and writing.
3. Prints the median sentences/s of each and their ratio; writes bench/results/ab_commits.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import generate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODEL = Path("stance") / "models" / "default"
# The `stance` command of whichever tree is first on PYTHONPATH: its app lives in stance.cli (before the
# relayout into wings) or stance.cli.main (after).
RUN_STANCE = (
    "import importlib, sys; sys.argv[0] = 'stance'; cli = importlib.import_module('stance.cli'); "
    "(getattr(cli, 'app', None) or importlib.import_module('stance.cli.main').app)()"
)


def score(tree: Path, corpus: Path, out: Path, workers: int) -> float:
    """Sentences per second of one `stance score` run from ``tree`` (wall time of the whole command)."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, "-c", RUN_STANCE, "score", str(corpus), "--out", str(out), "--workers", str(workers), "--overwrite"]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{tree}: {done.stderr[-3000:]}")
    run = json.loads(
        next(p for p in (out.with_name(out.stem + ".run.json"), out.parent / "run.json") if p.exists()).read_text()
    )  # run.json before OUT.run.json
    if not run["stance_version"] or Path(run["model"]["path"]).resolve().parents[2] != tree.resolve():
        raise SystemExit(f"{tree}: the run used another tree's package ({run['model']['path']})")
    return run["counts"]["sentences_scored"] / wall


def checkout(rev: str, where: Path) -> Path:
    """A git worktree of ``rev`` at ``where``, with this tree's prepared backend caches when the model is the
    same (remove it with `git worktree remove --force`)."""
    subprocess.run(["git", "worktree", "add", "--detach", str(where), rev], cwd=ROOT, check=True, capture_output=True)
    if (where / MODEL / "config.json").read_bytes() == (ROOT / MODEL / "config.json").read_bytes():
        for cache in ("openvino", "backends"):
            if (ROOT / MODEL / cache).is_dir():
                shutil.copytree(ROOT / MODEL / cache, where / MODEL / cache)
    return where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="the git revision to compare against (e.g. a commit hash or HEAD~3)")
    parser.add_argument("--sentences", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="bench/results/ab_commits.json")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    corpus = tmp / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(a) + "\n" for a in generate(args.sentences)))
    base = checkout(args.base, tmp / "base")
    try:
        trees = {"this tree": ROOT, args.base: base}
        rates: dict[str, list[float]] = {name: [] for name in trees}
        for i in range(args.repeats):
            for name, tree in trees.items():
                rates[name].append(
                    score(tree, corpus, tmp / f"{i}-{len(rates[name])}-{tree.name}" / "scores.parquet", args.workers)
                )
                print(f"{name}: {rates[name][-1]:.0f} sentences/s", flush=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, capture_output=True)
    medians = {name: statistics.median(r) for name, r in rates.items()}
    ratio = medians["this tree"] / medians[args.base]
    print(f"median: this tree {medians['this tree']:.0f}, {args.base} {medians[args.base]:.0f} sentences/s: {ratio:.2f}x")
    result = {
        "date": str(date.today()),
        "base": args.base,
        "sentences": args.sentences,
        "workers": args.workers,
        "rates": rates,
        "medians": medians,
        "ratio": ratio,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
