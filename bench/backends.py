"""Inference backends compared in one run: speed (model only) and agreement with the default
torch bf16 backend on dev sets.

    python bench/backends.py [--model default] [--repeats 3] [--threads 2] [--record]

For each backend (torch bf16 copy, torch bf16 autocast (the previous path, for reference),
torch fp32, OpenVINO (bf16 where the CPU has it), onnx fp32, onnx int8): sentences/s on the NewsMTSC dev sentences with their targets
(median of ``--repeats``), stance macro-F1 on newsmtsc:dev_rw and dev_mt, device partial F1 on the
framing and PTC dev splits, and against torch bf16: the share of identical stance labels and of
sentences with identical device spans. ``--record`` writes ``backends.json`` into the model
directory: each accelerated backend (``openvino``, ``onnx-int8``) "agrees" when no stance macro-F1 and
no device partial F1 drops by 0.005 or more (the rule for letting ``--backend auto`` consider it). Devices
count too: an int8 graph once kept the stance of a model soup and changed a third of its device spans,
and `auto` chose it (BENCHMARKS.md section 0s).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date
from pathlib import Path

import torch

from stance.labels.taxonomy import Taxonomy
from stance.model.backends import ACCELERATED, TorchBackend
from stance.model.modeling import StanceModel
from stance.store.model_files import model_version, resolve_model
from training.config import DataSpec
from training.data import load_records
from training.evaluate import evaluate_raw, predict_raw

STANCE_SETS = ("newsmtsc:dev_rw", "newsmtsc:dev_mt")
DEVICE_SETS = ("framing:dev", "ptc:dev")
MAX_DROP = 0.005


class AutocastBackend(TorchBackend):
    """The previous torch path: fp32 weights under bf16 autocast (weights cast on every call)."""

    def _inference_network(self):
        return self.network


def backend_models(model_name: str) -> dict[str, StanceModel]:
    models = {
        "torch-bf16": StanceModel.from_pretrained(model_name, backend="torch"),
        "torch-autocast": StanceModel.from_pretrained(model_name),
        "torch-fp32": StanceModel.from_pretrained(model_name, bf16=False),
        "openvino": StanceModel.from_pretrained(model_name, backend="openvino"),
        "onnx": StanceModel.from_pretrained(model_name, backend="onnx"),
        "onnx-int8": StanceModel.from_pretrained(model_name, backend="onnx-int8"),
    }
    auto = models["torch-autocast"]
    auto._backend = AutocastBackend(auto.network, auto.device, bf16=True)
    auto._backend.name = "torch-autocast"
    loaded = [m.backend.name for m in models.values()]  # export / load now, not inside a timing
    print("backends:", ", ".join(loaded))
    return models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="default")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--record", action="store_true", help="write backends.json into the model directory")
    parser.add_argument("--out", default="bench/results/backends.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    taxonomy = Taxonomy.load()
    data = {name: load_records(DataSpec(*name.split(":")), args.data_dir, taxonomy) for name in STANCE_SETS + DEVICE_SETS}
    speed_records = [r for name in STANCE_SETS for r in data[name]]
    models = backend_models(args.model)

    results: dict = {"date": str(date.today()), "threads": args.threads, "speed_sentences": len(speed_records), "backends": {}}
    raws = {name: {} for name in models}
    rates: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.repeats):  # interleaved, so that drifts in machine load hit every backend alike
        for name, model in models.items():
            t0 = time.perf_counter()
            predict_raw(model, speed_records, batch_size=args.batch_size)
            rates[name].append(len(speed_records) / (time.perf_counter() - t0))
    for name, model in models.items():
        raws[name] = {ds: predict_raw(model, records, batch_size=args.batch_size) for ds, records in data.items()}

    reference = models["torch-bf16"]
    for name, model in models.items():
        row: dict = {"sentences_per_s": statistics.median(rates[name]), "rates": rates[name]}
        for ds in data:
            metrics = evaluate_raw(raws[name][ds], model)
            if ds in STANCE_SETS:
                row[f"{ds}/stance_macro_f1"] = metrics["stance"]["macro_f1"]
            else:
                f1s = [v["partial"]["f1"] for k, v in metrics.get("devices", {}).items()]
                row[f"{ds}/device_partial_f1"] = statistics.mean(f1s) if f1s else None
        same_labels = total_labels = same_spans = total_sentences = 0
        for ds in data:
            for ref_sp, sp in zip(raws["torch-bf16"][ds].stance, raws[name][ds].stance):
                same_labels += int((ref_sp.argmax(-1) == sp.argmax(-1)).sum())
                total_labels += len(sp)
            ref_spans = spans(raws["torch-bf16"][ds], reference)
            for a, b in zip(ref_spans, spans(raws[name][ds], model)):
                same_spans += a == b
                total_sentences += 1
        row["identical_stance_labels"] = same_labels / max(total_labels, 1)
        row["identical_device_spans"] = same_spans / max(total_sentences, 1)
        results["backends"][name] = row

    ref = results["backends"]["torch-bf16"]
    for row in results["backends"].values():
        row["speedup_vs_torch_bf16"] = row["sentences_per_s"] / ref["sentences_per_s"]
        row["max_stance_macro_f1_drop"] = max(ref[f"{ds}/stance_macro_f1"] - row[f"{ds}/stance_macro_f1"] for ds in STANCE_SETS)
        row["max_device_partial_f1_drop"] = max(
            (
                ref[f"{ds}/device_partial_f1"] - row[f"{ds}/device_partial_f1"]
                for ds in DEVICE_SETS
                if ref[f"{ds}/device_partial_f1"] is not None
            ),
            default=0.0,
        )
    print_table(results)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    if args.record:
        record = {
            name: {
                "agrees": agrees(row),
                "rule": f"stance macro-F1 drop < {MAX_DROP} on {', '.join(STANCE_SETS)}, "
                f"device partial F1 drop < {MAX_DROP} on {', '.join(DEVICE_SETS)}",
                "max_stance_macro_f1_drop": row["max_stance_macro_f1_drop"],
                "max_device_partial_f1_drop": row["max_device_partial_f1_drop"],
                "identical_stance_labels": row["identical_stance_labels"],
                "identical_device_spans": row["identical_device_spans"],
                "speedup_vs_torch_bf16": row["speedup_vs_torch_bf16"],
                "threads": args.threads,
                "measured": results["date"],
                "model_version": model_version(resolve_model(args.model)),  # a verdict for these weights only
            }
            for name, row in results["backends"].items()
            if name in ACCELERATED
        }
        path = Path(resolve_model(args.model)) / "backends.json"
        path.write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {path}")


def agrees(row: dict) -> bool:
    """Whether a backend's measured row lets ``auto`` consider it: neither stance macro-F1 nor device
    partial F1 falls by ``MAX_DROP`` or more against torch bf16.

    Example:
        >>> agrees({"max_stance_macro_f1_drop": -0.005, "max_device_partial_f1_drop": 0.028})
        False
    """
    return row["max_stance_macro_f1_drop"] < MAX_DROP and row["max_device_partial_f1_drop"] < MAX_DROP


def spans(raw, model: StanceModel) -> list[set]:
    from stance.model.encoding import decode_spans

    cfg = model.config
    return [
        {
            (s, e, label)
            for s, e, label, _ in decode_spans(
                dp, enc.offsets, cfg.device_labels, cfg.device_thresholds, r.text, cfg.device_min_scores
            )
        }
        for r, enc, dp in zip(raw.records, raw.encoded, raw.devices)
    ]


def print_table(results: dict) -> None:
    columns = [c for c in next(iter(results["backends"].values())) if c != "rates"]
    print("| backend | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, row in results["backends"].items():
        print(f"| {name} | " + " | ".join(f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in columns) + " |")


if __name__ == "__main__":
    main()
