"""Retraining speed: `stance retrain` of the shipped default model on 1,000 newly labelled sentences,
end to end (loading, replay sampling, training, saving, evaluating base and new on the fixed dev sets
and the held-out new labels, the gate, registering), as one timed command.

The "new labels" are 1,000 sentences of whole PolNeAR training articles (a source the default model
was never trained on), with PolNeAR's attribution cues as a *new* device label, ``attribution_cue``
(so the device head grows). They are written to ``runs/bench-retrain/new_labels.jsonl`` (ignored by
git; never commit them).

    python bench/retrain_speed.py [--n 1000] [--data-dir ../shared/data] [--config configs/retrain.yaml]

Writes bench/results/retrain_speed.json (wall time, stage times, counts, the gate report).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from stance.labels.format import DeviceLabel, LabelRecord, write_label_file
from training.convert import get_converter

NEW_DEVICE = "attribution_cue"


def new_labels(data_dir: Path, n: int, seed: str = "bench") -> list[LabelRecord]:
    """``n`` sentences from whole PolNeAR training articles (in a stable hashed order), cues -> ``attribution_cue``."""
    by_doc: dict[str, list[LabelRecord]] = {}
    for r in get_converter("polnear")(data_dir, "train"):
        by_doc.setdefault(r.doc_id, []).append(r)
    order = sorted(by_doc, key=lambda d: hashlib.sha256(f"{seed}:{d}".encode()).hexdigest())
    out: list[LabelRecord] = []
    for doc in order:
        for r in by_doc[doc]:
            devices = tuple(
                sorted(
                    {DeviceLabel(d.start, d.end, NEW_DEVICE) for d in r.devices if d.label == "cue"},
                    key=lambda d: (d.start, d.end),
                )
            )
            out.append(LabelRecord(text=r.text, devices=devices, device_labels=(NEW_DEVICE,), source="polnear-bench", doc_id=doc))
            if len(out) == n:
                return out
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--config", default=None, help="retrain YAML (default configs/retrain.yaml)")
    parser.add_argument("--work-dir", default="runs/bench-retrain")
    parser.add_argument("--out", default="bench/results/retrain_speed.json")
    args = parser.parse_args()
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    records = new_labels(Path(args.data_dir), args.n)
    labels = work / "new_labels.jsonl"
    write_label_file(records, labels)
    home = tempfile.mkdtemp(prefix="stance-home-")  # an empty registry: base = the shipped default
    command = [
        sys.executable,
        "-m",
        "stance.cli.main",
        "retrain",
        "--base",
        "default",
        "--new",
        str(labels),
        "--add-device",
        NEW_DEVICE,
        "--output-dir",
        str(work / "out"),
        "--data-dir",
        args.data_dir,
        "--promote",
    ]
    if args.config:
        command += ["--config", args.config]
    print("$", " ".join(command), flush=True)
    started = time.perf_counter()
    proc = subprocess.run(command, env={**os.environ, "STANCE_HOME": home})
    wall = time.perf_counter() - started
    summary = json.loads((work / "out" / "retrain.json").read_text())
    gate = json.loads((work / "out" / "gate.json").read_text())
    result = {
        "date": str(date.today()),
        "command": " ".join(command[1:]),
        "exit_code": proc.returncode,
        "wall_seconds": round(wall, 1),
        "stage_seconds": summary["seconds"],
        "counts": summary["counts"],
        "new_sentences": len(records),
        "new_articles": len({r.doc_id for r in records}),
        "gate_passed": gate["passed"],
        "promoted": summary["promoted"],
        "gate": gate,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print((work / "out" / "gate.md").read_text())
    print(
        f"wall time {wall:.1f} s for {len(records)} new sentences ({result['new_articles']} articles); stages {summary['seconds']}"
    )


if __name__ == "__main__":
    main()
