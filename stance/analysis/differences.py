"""Differences between groups (group a minus group b, for every pair of groups): net stance toward each
actor both mention, and each device measure, with bootstrap intervals from the groups' independent
resamples, Wald p-values with the same small-sample correction, and Benjamini-Hochberg q-values.

Example:
    >>> from stance.analysis.differences import stance_differences
    >>> found = estimate(table, None, ["cc"], "cc", replicates=1000, seed=0, level=0.95)  # doctest: +SKIP
    >>> stance_differences(found.net, cell_counts(table), min_mentions=20, method="cc", level=0.95)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from stance.analysis.quantify import MIN_ARTICLES, benjamini_hochberg, bounded, interval, wald_p_values

if TYPE_CHECKING:
    from stance.analysis.estimates import GroupReplicates

DIFFERENCE_COLUMNS = [
    "group_a",
    "group_b",
    "actor",
    "measure",
    "method",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "n_mentions_a",
    "n_mentions_b",
    "low_support",
]
DEVICE_DIFFERENCE_COLUMNS = [
    "group_a",
    "group_b",
    "device",
    "measure",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "n_spans_a",
    "n_spans_b",
]


def stance_differences(
    net: dict[str, GroupReplicates],
    counts: pd.DataFrame,
    min_mentions: int,
    method: str,
    level: float,
    *,
    min_articles: int = MIN_ARTICLES,
) -> pd.DataFrame:
    """Net stance of group a minus group b for every actor both mention (DIFFERENCE_COLUMNS), from ``net``
    (group -> its estimates and replicates) and ``counts`` (group, actor, n_mentions). A pair is flagged
    ``low_support`` when either side has fewer than ``min_mentions`` mentions or ``min_articles`` articles, and
    then has no interval or p-value (NaN); q-values (Benjamini-Hochberg) are over the other rows.

    Example:
        >>> stance_differences(found.net, cell_counts(table), 20, "acc", 0.95).query("q_value < 0.05")  # doctest: +SKIP
    """
    support = counts.set_index(["group", "actor"])["n_mentions"].to_dict()
    groups = sorted(net)
    columns: dict[str, list] = {name: [] for name in DIFFERENCE_COLUMNS if name != "q_value"}
    for i, a in enumerate(groups):
        for b in groups[i + 1 :]:
            ra, rb = net[a], net[b]
            common, ia, ib = np.intersect1d(ra.names, rb.names, return_indices=True)
            if not len(common):
                continue
            diff = ra.estimate[ia] - rb.estimate[ib]
            boot = ra.replicates[:, ia].astype(float) - rb.replicates[:, ib]
            units = np.minimum(
                np.asarray(ra.units)[ia], np.asarray(rb.units)[ib]
            )  # conservative: the smaller side sets the correction
            lo, hi = bounded(*interval(boot, level, n=units), diff, -2.0, 2.0)  # net stance lies in [-1, 1]
            n_a = np.array([support[(a, x)] for x in common])
            n_b = np.array([support[(b, x)] for x in common])
            values = {
                "group_a": [a] * len(common),
                "group_b": [b] * len(common),
                "actor": common.tolist(),
                "measure": [ra.measure] * len(common),
                "method": [method] * len(common),
                "difference": diff,
                "ci_low": lo,
                "ci_high": hi,
                "p_value": wald_p_values(diff, boot, n=units),
                "n_mentions_a": n_a,
                "n_mentions_b": n_b,
                "low_support": (np.minimum(n_a, n_b) < min_mentions) | (units < min_articles),
            }
            for name, value in values.items():
                columns[name].append(value)
    if not columns["actor"]:
        return pd.DataFrame(columns=DIFFERENCE_COLUMNS)
    out = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})
    for name in ("group_a", "group_b", "actor"):
        out[name] = out[name].astype(object)
    tested = ~out["low_support"]
    out.loc[~tested, ["ci_low", "ci_high", "p_value"]] = np.nan  # as in the stance table: too little to say
    out["q_value"] = np.nan
    out.loc[tested, "q_value"] = benjamini_hochberg(out.loc[tested, "p_value"].to_numpy())
    return out[DIFFERENCE_COLUMNS].sort_values(["actor", "group_a", "group_b"], ignore_index=True)


def device_differences(
    replicates: dict[str, dict[str, GroupReplicates]], level: float, *, min_articles: int = MIN_ARTICLES
) -> pd.DataFrame:
    """Each device measure of group a minus group b for every device and pair of groups
    (DEVICE_DIFFERENCE_COLUMNS), from ``replicates`` (group -> measure -> estimates and replicates; the
    devices are the same for every group), with the same intervals and p-values as net stance; q-values by
    Benjamini-Hochberg over the rows where both groups have at least ``min_articles`` articles (the others
    have no interval or p-value) and some span on either side (no span on both: nothing to test).

    Example:
        >>> device_differences(found.device_replicates, 0.95).head()  # doctest: +SKIP
    """
    groups = sorted(replicates)
    parts = []
    for i, a in enumerate(groups):
        for b in groups[i + 1 :]:
            for measure, ra in replicates[a].items():
                rb = replicates[b][measure]
                diff = ra.estimate - rb.estimate
                boot = ra.replicates.astype(float) - rb.replicates
                units = min(int(ra.units), int(rb.units))
                lo, hi = interval(boot, level, n=units)
                parts.append(
                    pd.DataFrame(
                        {
                            "group_a": a,
                            "group_b": b,
                            "device": ra.names,
                            "measure": measure,
                            "difference": diff,
                            "ci_low": lo,
                            "ci_high": hi,
                            "p_value": wald_p_values(diff, boot, n=units),
                            "n_spans_a": _spans(ra),
                            "n_spans_b": _spans(rb),
                            "units": units,
                        }
                    )
                )
    if not parts:
        return pd.DataFrame(columns=DEVICE_DIFFERENCE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    small = out["units"] < min_articles
    out.loc[small, ["ci_low", "ci_high", "p_value"]] = np.nan
    tested = ~small & (out["n_spans_a"] + out["n_spans_b"] > 0)
    out["q_value"] = np.nan
    out.loc[tested, "q_value"] = benjamini_hochberg(out.loc[tested, "p_value"].to_numpy())
    return out[DEVICE_DIFFERENCE_COLUMNS]


def _spans(found: GroupReplicates) -> np.ndarray:
    """The device spans behind each estimate, as integers."""
    if found.spans is None:
        raise ValueError(f"{found.measure}: device replicates need their spans")
    return found.spans.astype(int)
