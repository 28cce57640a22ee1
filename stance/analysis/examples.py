"""Example sentences for the report: a few sentences per group x actor, from different articles, drawn at
random (seeded), with the mention and device spans to highlight.

Example:
    >>> from stance.analysis.examples import draw_examples
    >>> draw_examples(table, per_cell=3, seed=0).head()  # group, actor, doc_id, sentence_id, text, spans  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from stance.analysis.groups import Table
from stance.labels.format import STANCE_LABELS

EXAMPLE_COLUMNS = ["group", "actor", "doc_id", "sentence_id", "text", "spans"]
EXAMPLES_STREAM = 0x5EED  # keeps example draws apart from any other use of the same seed


def draw_examples(table: Table, per_cell: int, seed: int) -> pd.DataFrame:
    """Up to ``per_cell`` sentences per group x actor, from different articles, drawn at random (seeded).
    ``spans``: the cell's actor mentions (``kind`` mention, its stance as ``label``) and every device span
    of the sentence (``kind`` device). ValueError when ``per_cell`` is below 1.

    Example:
        >>> draw_examples(table, 2, seed=0).query("actor == 'Russia'")  # doctest: +SKIP
    """
    if per_cell < 1:
        raise ValueError(f"per_cell must be at least 1, got {per_cell}")
    m, s = table.mentions, table.sentences
    if m.empty:
        return pd.DataFrame(columns=EXAMPLE_COLUMNS)
    pick = pd.DataFrame(
        {
            "row": m["row"],
            "actor": m["actor"],
            "group": s["group"].to_numpy()[m["row"]],
            "article": s["article"].to_numpy()[m["row"]],
        }
    )
    pick["key"] = np.random.default_rng([seed, EXAMPLES_STREAM]).random(len(pick))
    pick = (
        pick.sort_values("key")
        .drop_duplicates(["group", "actor", "article"])
        .groupby(["group", "actor"], sort=False)
        .head(per_cell)
    )
    rows = set(pick["row"])
    spans: dict[int, list[dict[str, Any]]] = {}
    near = m[m["row"].isin(rows)]
    for row, actor, label, start, end in zip(near["row"], near["actor"], near["label"], near["start"], near["end"], strict=True):
        spans.setdefault(row, []).append(
            {"kind": "mention", "actor": actor, "start": int(start), "end": int(end), "label": STANCE_LABELS[label]}
        )
    near = table.devices[table.devices["row"].isin(rows)]
    for row, device, start, end in zip(near["row"], near["device"], near["start"], near["end"], strict=True):
        spans.setdefault(row, []).append({"kind": "device", "start": int(start), "end": int(end), "label": device})
    doc_ids, sentence_ids, texts = s["doc_id"].to_numpy(), s["sentence_id"].to_numpy(), s["text"].to_numpy()
    records = []
    for row, actor, group in zip(pick["row"], pick["actor"], pick["group"], strict=True):
        cell_spans = [x for x in spans[row] if x["kind"] == "device" or x["actor"] == actor]
        records.append(
            {
                "group": group,
                "actor": actor,
                "doc_id": doc_ids[row],
                "sentence_id": int(sentence_ids[row]),
                "text": texts[row],
                "spans": [{k: v for k, v in x.items() if k != "actor"} for x in cell_spans],
            }
        )
    return pd.DataFrame.from_records(records).sort_values(["group", "actor", "doc_id", "sentence_id"], ignore_index=True)
