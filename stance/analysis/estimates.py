"""The bootstrap over articles: per group, one set of article resamples shared by every actor, method
and device. Each group's articles become rows of column blocks (:mod:`stance.analysis.measures`), the
resamples' column sums are drawn once, and every method and measure is computed from the sums, with a
percentile interval expanded for few articles (:func:`stance.analysis.quantify.interval`).

Example:
    >>> from stance.analysis.estimates import estimate
    >>> found = estimate(table, conf, ["cc", "acc"], "acc", replicates=1000, seed=0, level=0.95)  # doctest: +SKIP
    >>> found.stance.head()  # group, actor, measure, method, estimate, ci_low, ci_high  # doctest: +SKIP
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from stance.analysis.groups import Table
from stance.analysis.measures import (
    DEVICE_MEASURES,
    DIFFERENCE_MEASURE,
    METHODS,
    STANCE_MEASURES,
    Block,
    Layout,
    device_values,
    stance_values,
)
from stance.analysis.quantify import Confusion, bootstrap_sums, bounded, interval

STANCE_COLUMNS = [
    "group",
    "actor",
    "measure",
    "method",
    "estimate",
    "ci_low",
    "ci_high",
    "n_mentions",
    "n_articles",
    "low_support",
]
DEVICE_COLUMNS = ["group", "device", "measure", "estimate", "ci_low", "ci_high", "n_spans", "n_sentences", "n_articles", "rank"]
ESTIMATE_COLUMNS = STANCE_COLUMNS[:7]  # what the bootstrap gives; compare adds the support

MEASURE_LOWER = np.array([m.lower for m in STANCE_MEASURES])  # each stance measure's range, to cut intervals to
MEASURE_UPPER = np.array([m.upper for m in STANCE_MEASURES])
CONFUSION_STREAM = 0xC0F  # keeps the confusion matrix's resamples apart from any other use of the same seed


@dataclass(frozen=True)
class GroupReplicates:
    """One group's estimates of one measure and their bootstrap replicates, for differences between groups.

    ``names``: the actors (or devices) estimated; ``estimate``: (names,); ``replicates``: (replicates, names)
    as float32; ``units``: the articles resampled behind each estimate (per actor, or the group's articles
    for devices); ``spans``: the device spans behind each estimate (None for actors)."""

    measure: str
    names: np.ndarray
    estimate: np.ndarray
    replicates: np.ndarray
    units: np.ndarray | int
    spans: np.ndarray | None = None


@dataclass(frozen=True)
class Estimates:
    """What :func:`estimate` returns: the ``stance`` rows (group, actor, measure, method, estimate, ci_low,
    ci_high), the ``devices`` rows (DEVICE_COLUMNS), the shown method's net stance per group (``net``),
    each device measure per group (``device_replicates``: group -> measure -> replicates) and the devices
    (``device_names``, the same columns for every group)."""

    stance: pd.DataFrame
    devices: pd.DataFrame
    net: dict[str, GroupReplicates]
    device_replicates: dict[str, dict[str, GroupReplicates]]
    device_names: list[str]


def estimate(
    table: Table, conf: Confusion | None, methods: Sequence[str], shown: str, replicates: int, seed: int, level: float
) -> Estimates:
    """Every method's stance measures per group x actor and every device measure per group x device, with
    intervals from ``replicates`` resamples of each group's articles (deterministic for ``seed``; a group's
    draws depend on its name, not on the other groups). For a corrected method each replicate corrects with
    its own resample of the confusion matrix's labelled sentences. ValueError for an unknown method, or a
    corrected one without ``conf``.

    Example:
        >>> found = estimate(table, None, ["cc"], "cc", replicates=200, seed=0, level=0.95)  # doctest: +SKIP
        >>> found.net["Ledger"].estimate  # net stance per actor of the group 'Ledger'  # doctest: +SKIP
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; expected {', '.join(METHODS)}")
    if conf is None and any(METHODS[m].corrected for m in methods):
        raise ValueError("a corrected method (acc) needs a confusion matrix")
    # The confusion matrix is an estimate too: each replicate corrects with the matrix of its own
    # resample of the labelled sentences (the same draws for every group, as one matrix serves them all).
    point_rates = conf.rates if conf is not None else None
    rate_reps = conf.resampled_rates(replicates, np.random.default_rng([seed, CONFUSION_STREAM])) if conf is not None else None
    device_names = sorted(table.devices["device"].unique())
    names = table.groups["group"].tolist()
    s_code = pd.Categorical(table.sentences["group"], categories=names).codes
    # article number within its group: 0 .. n_articles - 1
    s_local = table.sentences.groupby(s_code)["article"].rank(method="dense").to_numpy(dtype=int) - 1
    mentions = _split_by(table.mentions, s_code)
    devices = _split_by(table.devices, s_code)
    device_code = {d: i for i, d in enumerate(device_names)}
    n_dev = len(device_names)
    stance_parts: dict[str, list] = {name: [] for name in ESTIMATE_COLUMNS}
    device_parts: list[pd.DataFrame] = []
    net: dict[str, GroupReplicates] = {}
    device_reps: dict[str, dict[str, GroupReplicates]] = {}
    net_index = [m.name for m in STANCE_MEASURES].index(DIFFERENCE_MEASURE)
    for code, group in enumerate(names):
        n = int(table.groups.at[code, "n_articles"])
        ms, ds = mentions[code], devices[code]
        actors, actor_idx = np.unique(ms["actor"].to_numpy().astype(str), return_inverse=True)
        k = len(actors)
        m_art = s_local[ms["row"].to_numpy()]
        cell_articles = np.bincount(np.unique(m_art * k + actor_idx) % k, minlength=k) if k else np.zeros(0, int)
        counts = sparse.csr_matrix((np.ones(len(ms)), (m_art, actor_idx * 3 + ms["label"].to_numpy())), shape=(n, 3 * k))
        probs = np.nan_to_num(ms[["p_negative", "p_neutral", "p_positive"]].to_numpy(dtype=float))
        prob_cols = (actor_idx[:, None] * 3 + np.arange(3)).ravel()
        prob_mat = sparse.csr_matrix((probs.ravel(), (np.repeat(m_art, 3), prob_cols)), shape=(n, 3 * k))
        dev = np.zeros((n, n_dev + 1))
        np.add.at(dev, (s_local[ds["row"].to_numpy()], ds["device"].map(device_code).to_numpy(dtype=int)), 1.0)
        dev[:, n_dev] = np.bincount(s_local[s_code == code], minlength=n)
        layout = Layout((Block("counts", (k, 3)), Block("probs", (k, 3)), Block("devices", (n_dev,)), Block("sentences", (1,))))
        data = sparse.hstack([counts, prob_mat, sparse.csr_matrix(dev)], format="csr")

        rng = np.random.default_rng([seed, zlib.crc32(str(group).encode("utf-8"))])
        reps = layout.split(bootstrap_sums(data, replicates, rng))
        point = layout.split(np.asarray(data.sum(axis=0)).ravel()[None, :])
        for name in methods:
            method = METHODS[name]
            est = stance_values(method.shares(point, point_rates))
            boot = stance_values(method.interval_shares(reps, rate_reps))  # a corrected method's unbounded replicates
            if method.corrected and point_rates is not None:  # their spread about the unbounded estimate, moved onto
                # the bounded one that is reported, so that its interval and its tests of differences agree
                boot = boot + (est - stance_values(method.interval_shares(point, point_rates[None])))
            lo, hi = bounded(*interval(boot, level, n=cell_articles[:, None]), est[0], MEASURE_LOWER, MEASURE_UPPER)
            for column, values in _stance_rows(group, actors, name, est[0], lo, hi).items():
                stance_parts[column].append(values)
            if name == shown:
                net[group] = GroupReplicates(
                    DIFFERENCE_MEASURE, actors, est[0, :, net_index], boot[:, :, net_index].astype(np.float32), cell_articles
                )
        if n_dev:
            spans, sentences = point["devices"][0], int(point["sentences"][0, 0])
            device_reps[group] = {}
            for measure in DEVICE_MEASURES:
                value, boot = device_values(measure, point)[0], device_values(measure, reps)
                lo, hi = interval(boot, level, n=n)
                device_parts.append(_device_rows(group, device_names, measure.name, value, lo, hi, spans, sentences, n))
                device_reps[group][measure.name] = GroupReplicates(
                    measure.name, np.asarray(device_names, dtype=object), value, boot.astype(np.float32), n, spans
                )
    stance = pd.DataFrame({column: np.concatenate(parts) if parts else [] for column, parts in stance_parts.items()})
    for column in ("group", "actor", "measure", "method"):
        stance[column] = stance[column].astype(object)
    devices_table = pd.concat(device_parts, ignore_index=True) if device_parts else pd.DataFrame(columns=DEVICE_COLUMNS)
    return Estimates(stance, devices_table, net, device_reps, device_names)


def _split_by(part: pd.DataFrame, sentence_group: np.ndarray) -> list[pd.DataFrame]:
    """``part`` (mentions or devices, with a sentence ``row``) split by group code, in code order."""
    codes = sentence_group[part["row"].to_numpy()]
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(sentence_group.max(initial=-1) + 2))
    ordered = part.iloc[order]
    return [ordered.iloc[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def _stance_rows(
    group: str, actors: np.ndarray, method: str, est: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> dict[str, np.ndarray]:
    """Columns of the stance rows of one group and method: actors x measures, flattened."""
    size = len(actors) * len(STANCE_MEASURES)
    names = np.array([m.name for m in STANCE_MEASURES], dtype=object)
    return {
        "group": np.full(size, group, dtype=object),
        "actor": np.repeat(np.asarray(actors, dtype=object), len(STANCE_MEASURES)),
        "measure": np.tile(names, len(actors)),
        "method": np.full(size, method, dtype=object),
        "estimate": est.ravel(),
        "ci_low": lo.ravel(),
        "ci_high": hi.ravel(),
    }


def _device_rows(
    group: str,
    names: list[str],
    measure: str,
    value: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    spans: np.ndarray,
    sentences: int,
    n: int,
) -> pd.DataFrame:
    """The device rows of one group and measure, ranked (1 = the group's highest estimate)."""
    rows = pd.DataFrame(
        {
            "group": group,
            "device": names,
            "measure": measure,
            "estimate": value,
            "ci_low": lo,
            "ci_high": hi,
            "n_spans": spans.astype(int),
            "n_sentences": sentences,
            "n_articles": n,
        }
    )
    rows["rank"] = rows["estimate"].rank(ascending=False, method="first").astype(int)
    return rows
