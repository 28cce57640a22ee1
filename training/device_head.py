"""New device labels in a model: :func:`grow_device_head` adds a retrain's new device labels
(``stance retrain --add-device``, and device labels of the new labels that the base lacks) to the model's
device head, keeping what the old rows learned.
"""

from __future__ import annotations


def grow_device_head(model, labels: tuple[str, ...]) -> None:
    """Add device labels to a model: the device head gets three more output rows (B/I/O) per label,
    the old rows kept, the new ones started from the mean of the old ones (so a new label starts as
    "mostly outside", like the others); the labels join the config (threshold 0.5).

    Example:
        >>> grow_device_head(model, ("attribution_cue",))  # doctest: +SKIP
    """
    import torch
    from torch import nn

    from stance.model.encoding import DEFAULT_DEVICE_THRESHOLD

    network = model.network
    config = network.config
    if dup := [x for x in labels if x in config.device_labels]:
        raise ValueError(f"the model has the device labels {dup} already")
    old = network.device_head
    n_old = len(config.device_labels)
    head = nn.Linear(old.in_features, 3 * (n_old + len(labels)), dtype=old.weight.dtype, device=old.weight.device)
    with torch.no_grad():
        head.weight[: 3 * n_old] = old.weight
        head.bias[: 3 * n_old] = old.bias
        mean_w = old.weight.view(n_old, 3, -1).mean(0)
        mean_b = old.bias.view(n_old, 3).mean(0)
        for i in range(len(labels)):
            rows = slice(3 * (n_old + i), 3 * (n_old + i + 1))
            head.weight[rows] = mean_w
            head.bias[rows] = mean_b
    network.device_head = head
    config.device_labels = [*config.device_labels, *labels]
    config.device_thresholds = {**config.device_thresholds, **{x: DEFAULT_DEVICE_THRESHOLD for x in labels}}
