"""stance: sentence-level stance toward actors and framing-device spans in news text.

Light to import: the model and pipeline modules load on first use.

Example:
    >>> from stance import StanceModel
    >>> model = StanceModel.from_pretrained("default")
    >>> [(d.label, d.text) for d in model.predict("Critics say the reform failed.").devices]
    [('unsourced_claim', 'Critics say')]
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "StanceModel": "stance.model.modeling",
    "SentencePrediction": "stance.model.outputs",
    "TargetPrediction": "stance.model.outputs",
    "DevicePrediction": "stance.model.outputs",
    "StanceScorer": "stance.pipeline.scorer",
    "LabelRecord": "stance.labels.format",
    "read_label_file": "stance.labels.format",
    "STANCE_LABELS": "stance.labels.format",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'stance' has no attribute {name!r}")
