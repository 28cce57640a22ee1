"""The pieces ``stance train`` hands to the transformers ``Trainer``: the batch collator, the callbacks (a JSON
log, the time budget, early stopping that survives a resume, periodic saves) and the ``Trainer`` subclass that
evaluates on the dev sets with the project's own measures (:func:`training.evaluate.evaluate_raw`).

Example:
    >>> trainer = StanceTrainer(model=network, args=args, data_collator=Collator(pad_id=0))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import torch
from transformers import EarlyStoppingCallback, Trainer, TrainerCallback

from stance.labels.format import LabelRecord
from stance.model.encoding import collate
from stance.model.modeling import StanceModel
from stance.model.network import StanceNetwork
from stance.store.model_files import STANCE_BRANCH_WEIGHTS
from training.evaluate import evaluate_raw, headline, predict_raw

logger = logging.getLogger("stance.train")


class Collator:
    """Pads a list of features (see training.data.build_features) into a training batch."""

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        arrays = collate([f["enc"] for f in features], pad_id=self.pad_id, labels=features)
        return {k: torch.from_numpy(v) for k, v in arrays.items()}


class JsonLogCallback(TrainerCallback):
    """Appends every log and evaluation to ``log.jsonl`` in the output directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_log(self, args, state, control, logs=None, **kwargs):
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"step": state.global_step, "epoch": state.epoch, **(logs or {})}) + "\n")


class TimeBudgetCallback(TrainerCallback):
    """Stops training after ``minutes`` of training time, evaluating and saving at that step, so that
    the best checkpoint so far is kept (``max_train_minutes`` in the config)."""

    def __init__(self, minutes: float) -> None:
        self.seconds = minutes * 60
        self.started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if time.perf_counter() - self.started > self.seconds:
            logger.warning("time budget of %.1f min reached at step %d: stopping", self.seconds / 60, state.global_step)
            control.should_training_stop = True
            control.should_evaluate = bool(args.eval_strategy != "no")
            control.should_save = True
        return control


class EpochEarlyStopping(EarlyStoppingCallback):
    """Early stopping on the epoch-end evaluations only. The time budget also evaluates where it stops,
    mid-epoch, so that its checkpoint can be chosen as the best; a run resumed from there (``--resume``)
    would otherwise measure its next epoch's end against that mid-epoch figure, taken at a high learning
    rate, and stop on it (run U did: BENCHMARKS.md 0x). After a resume the first epoch end sets the bar again
    (transformers restores callback states only with ``restore_callback_states_from_checkpoint``, which would
    also restore the budget's stop signal).

    Example:
        >>> EpochEarlyStopping(early_stopping_patience=1).best_epoch_metric is None
        True
    """

    def __init__(self, early_stopping_patience: int = 1, early_stopping_threshold: float | None = 0.0) -> None:
        super().__init__(early_stopping_patience, early_stopping_threshold)
        self.best_epoch_metric: float | None = None

    def on_evaluate(self, args, state, control, metrics, **kwargs):
        if state.epoch is not None and abs(state.epoch - round(state.epoch)) < 1e-6:
            super().on_evaluate(args, state, control, metrics, **kwargs)

    def check_metric_value(self, args, state, control, metric_value):
        best = self.best_epoch_metric
        gain = None if best is None else (metric_value - best) * (1 if args.greater_is_better else -1)
        if gain is None or gain > (self.early_stopping_threshold or 0.0):
            self.best_epoch_metric = float(metric_value)
            self.early_stopping_patience_counter = 0
        else:
            self.early_stopping_patience_counter += 1


class PeriodicSaveCallback(TrainerCallback):
    """Saves a checkpoint every ``minutes`` of training time as well as at each epoch's end, so that a
    run stopped mid-epoch (a session cut off, a laptop closed) resumes with ``--resume`` from at most
    that much before (``save_every_minutes`` in the config)."""

    def __init__(self, minutes: float) -> None:
        self.seconds = minutes * 60
        self.last = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if time.perf_counter() - self.last > self.seconds:
            self.last = time.perf_counter()
            control.should_save = True
        return control


# parameters trained at the encoder's learning rate (the stance branch is a copy of an encoder layer); the rest are heads
ENCODER_PARTS = ("encoder.", STANCE_BRANCH_WEIGHTS)


class StanceTrainer(Trainer):
    """Trainer whose evaluation runs the real prediction path on the dev sets."""

    def __init__(self, *args: Any, dev_sets: dict[str, list[LabelRecord]], head_learning_rate: float, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.dev_sets = dev_sets
        self.head_learning_rate = head_learning_rate

    def create_optimizer(self, model=None):
        if self.optimizer is None:
            named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
            groups = [
                {"params": [p for n, p in named if n.startswith(ENCODER_PARTS)], "lr": self.args.learning_rate},
                {"params": [p for n, p in named if not n.startswith(ENCODER_PARTS)], "lr": self.head_learning_rate},
            ]
            self.optimizer = torch.optim.AdamW(groups, weight_decay=self.args.weight_decay)
        return self.optimizer

    @property
    def network(self) -> StanceNetwork:
        """The network being trained (``self.model``, typed)."""
        if not isinstance(self.model, StanceNetwork):
            raise ValueError(f"StanceTrainer trains a StanceNetwork, not {type(self.model).__name__}")
        return self.model

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        network = self.network
        model = StanceModel(network, self.processing_class, device=str(self.args.device), bf16=self.args.bf16)
        started = time.perf_counter()
        per_set = {name: evaluate_raw(predict_raw(model, recs), model) for name, recs in self.dev_sets.items()}
        network.train()
        metrics = {f"{metric_key_prefix}_{k}": v for k, v in headline(per_set).items()}
        metrics[f"{metric_key_prefix}_runtime"] = time.perf_counter() - started
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics
