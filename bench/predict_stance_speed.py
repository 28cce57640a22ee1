"""`stance predict-stance` on each backend, interleaved in one run: what `--backend auto` buys over torch.

    python bench/predict_stance_speed.py [--sentences 3000] [--repeats 3] [--backends torch,auto] [--model default]

1. Generates the benchmark corpus (bench/corpus.py) and finds its actors with the pipeline's own actor finder,
   one sentence per input line with its actors' spans as targets (the line format of `stance predict-stance`).
2. Runs the whole command (`stance predict-stance IN --out OUT --backend B`, a fresh process each time: Python
   start, imports, model loading, prediction, writing) once per backend as a warm-up (it converts a graph the
   first time), then `--repeats` rounds that visit the backends in turn.
3. Prints the median targets/s of each, their ratio to the first, and the share of targets whose stance each
   backend gives as the first does; writes bench/results/predict_stance_speed.json.
"""

from __future__ import annotations

import argparse
import json
import platform
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


def target_lines(n_sentences: int) -> list[dict]:
    """One line per sentence of the generated corpus that has an actor, its mentions as targets."""
    sys.path.insert(0, str(ROOT))
    from stance.pipeline.actors import ActorFinder
    from stance.pipeline.sentences import get_splitter

    splitter, finder = get_splitter(), ActorFinder()
    lines = []
    for article in generate(n_sentences):
        for sentence in splitter.split(article["text"]):
            mentions = finder.find(sentence.text)
            if mentions:
                targets = [{"start": m.start, "end": m.end} for m in mentions]
                lines.append({"id": f"{article['id']}:{sentence.start}", "text": sentence.text, "targets": targets})
    return lines


def run(src: Path, out: Path, backend: str, model: str) -> float:
    """Wall seconds of one whole `stance predict-stance` command."""
    cmd = [sys.executable, "-m", "stance", "predict-stance", str(src), "--out", str(out), "--model", model]
    started = time.perf_counter()
    done = subprocess.run([*cmd, "--backend", backend], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{backend}: {done.stderr[-3000:]}")
    return time.perf_counter() - started


def stances(path: Path) -> list[str]:
    return [t["stance"] for line in path.read_text().splitlines() for t in json.loads(line)["targets"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=3000, help="sentences of the generated corpus")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backends", default="torch,auto", help="comma-separated --backend values; the first is the base")
    parser.add_argument("--model", default="default")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "predict_stance_speed.json")
    args = parser.parse_args()
    backends = args.backends.split(",")

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "targets.jsonl"
        lines = target_lines(args.sentences)
        src.write_text("".join(json.dumps(line) + "\n" for line in lines))
        n_targets = sum(len(line["targets"]) for line in lines)
        outs = {b: Path(tmp) / f"{b}.jsonl" for b in backends}
        for backend in backends:  # warm-up: the first run of an exported backend converts its graph
            run(src, outs[backend], backend, args.model)
        seconds: dict[str, list[float]] = {b: [] for b in backends}
        for _ in range(args.repeats):
            for backend in backends:
                seconds[backend].append(run(src, outs[backend], backend, args.model))
        base = stances(outs[backends[0]])
        same = {b: sum(x == y for x, y in zip(stances(outs[b]), base, strict=True)) / len(base) for b in backends}

    rate = {b: n_targets / statistics.median(s) for b, s in seconds.items()}
    result = {
        "date": date.today().isoformat(),
        "machine": platform.processor() or platform.machine(),
        "command": " ".join(["python bench/predict_stance_speed.py", *sys.argv[1:]]),
        "lines": len(lines),
        "targets": n_targets,
        "seconds": seconds,
        "targets_per_second": rate,
        "ratio_to_first": {b: rate[b] / rate[backends[0]] for b in backends},
        "share_of_stances_as_first": same,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    for b in backends:
        print(f"{b}: {rate[b]:.0f} targets/s (x{rate[b] / rate[backends[0]]:.2f}), {same[b]:.4f} of stances as {backends[0]}'s")


if __name__ == "__main__":
    main()
