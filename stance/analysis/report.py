"""The ``stance compare`` report: one self-contained HTML file (figures embedded as base64 PNG, inline
CSS, no scripts, nothing fetched) plus PNG copies of the figures.

Example:
    >>> from stance.analysis.compare import compare_scores
    >>> from stance.analysis.report import write_report
    >>> result = compare_scores("scores.parquet", by="outlet")  # doctest: +SKIP
    >>> write_report(result, "report/")  # doctest: +SKIP
    PosixPath('report/report.html')
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from stance.analysis.confusion import confusion_support
from stance.analysis.measures import METHODS
from stance.model.encoding import PROPAGANDA

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from stance.analysis.compare import CompareResult

HEATMAP_PNG = "net_stance_heatmap.png"
DEVICES_PNG = "device_rates.png"
MAX_DIFFERENCE_ROWS = 100

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f; margin: 2em auto; max-width: 1150px; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
.meta { color: #555; } .notes { background: #fff6e0; border-left: 4px solid #e0a800; padding: .5em 1em; }
table { border-collapse: collapse; margin: .8em 0; font-size: 13px; } th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; } tr.low td { color: #999; }
tr.sig td { font-weight: 600; } img { max-width: 100%; height: auto; border: 1px solid #eee; }
details { margin: .3em 0; } summary { cursor: pointer; font-weight: 600; }
.example { margin: .3em 0 .3em 1.2em; } .cell { margin: .6em 0 .2em .6em; }
mark { padding: 0 2px; border-radius: 3px; } .m-negative { background: #f6b3b3; } .m-neutral { background: #dedede; }
.m-positive { background: #b3d1f6; } .dev { border-bottom: 3px solid #d08c00; } .devlabel { color: #8a5d00; font-size: 12px; }
.legend span { margin-right: 1em; }
"""

PROPAGANDA_NOTE = (
    "<p><code>propaganda</code> spans follow PTC's annotation of propaganda news articles, which marks many "
    "charged words and names (Flag-Waving marks \u201cAmerican\u201d): on mainstream news they lead most "
    "groups' devices. Compare their rates across groups rather than reading them as counts of propaganda; the six "
    "named devices follow the project's annotation guide (README, \u201cWhat users get\u201d).</p>"
)


def write_report(result: CompareResult, out_dir: str | Path, *, max_actors: int = 30, title: str | None = None) -> Path:
    """Write ``report.html``, the PNG figures and the tables (:meth:`CompareResult.write_tables`: CSV, Parquet,
    summary.json) into ``out_dir``, the same files as `stance compare`; returns the HTML path.

    ``max_actors``: the most mentioned actors shown in the heatmap and the examples (tables hold all).

    Example:
        >>> write_report(result, "report/", max_actors=20)  # doctest: +SKIP
    """
    import matplotlib

    matplotlib.use("Agg")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result.write_tables(out)
    actors = top_actors(result, max_actors)
    images: dict[str, bytes] = {}
    if actors:
        images[HEATMAP_PNG] = _png(heatmap_figure(result, actors))
    if not result.devices.empty:
        images[DEVICES_PNG] = _png(device_figure(result))
    for name, data in images.items():
        (out / name).write_bytes(data)
    path = out / "report.html"
    path.write_text(render_html(result, actors, images, title=title), encoding="utf-8")
    return path


def top_actors(result: CompareResult, limit: int) -> list[str]:
    """The ``limit`` actors with the most mentions over all groups (ties by name)."""
    net = result.shown("net")
    if net.empty:
        return []
    totals = net.groupby("actor")["n_mentions"].sum()
    return sorted(totals.index, key=lambda a: (-totals[a], a))[:limit]


# --------------------------------------------------------------------------- figures
def heatmap_figure(result: CompareResult, actors: Sequence[str]) -> Figure:
    """Net stance by actor (rows) and group (columns), annotated with the estimate and its interval;
    hatched cells have low support, blank cells no mentions."""
    import matplotlib.pyplot as plt

    net = result.shown("net")
    net = net[net["actor"].isin(actors)]
    groups = list(result.groups["group"])
    grid = {
        name: net.pivot(index="actor", columns="group", values=name).reindex(index=actors, columns=groups)
        for name in ("estimate", "ci_low", "ci_high", "low_support")
    }
    cc = _cc_net(result)
    cc_grid = (
        cc[cc["actor"].isin(actors)]
        .pivot(index="actor", columns="group", values="estimate")
        .reindex(index=actors, columns=groups)
        if cc is not None
        else None
    )
    values = grid["estimate"].to_numpy(dtype=float)
    low = grid["low_support"].fillna(True).to_numpy(dtype=bool)
    strong = np.abs(values[~low & np.isfinite(values)])
    limit = max(0.1, float(np.ceil(strong.max() * 10) / 10) if strong.size else 1.0)
    width = min(30.0, 2.8 + 1.25 * len(groups))
    height = min(40.0, max(3.2, 1.8 + 0.45 * len(actors)))
    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    cmap = plt.get_cmap("RdBu").with_extremes(bad="#f2f2f2")
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(
        range(len(groups)),
        [_short(g) for g in groups],
        rotation=45 if len(groups) > 6 else 0,
        ha="right" if len(groups) > 6 else "center",
    )
    ax.set_yticks(range(len(actors)), [_short(a) for a in actors])
    ax.tick_params(length=0)
    with_interval = len(groups) <= 14
    for i in range(len(actors)):
        for j in range(len(groups)):
            v = values[i, j]
            if not np.isfinite(v):
                continue
            if low[i, j]:
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", edgecolor="#999999", linewidth=0))
            if len(groups) <= 30:
                text = _signed(v)
                if with_interval and np.isfinite(grid["ci_low"].iat[i, j]):
                    text += f"\n[{_signed(grid['ci_low'].iat[i, j])}, {_signed(grid['ci_high'].iat[i, j])}]"
                if with_interval and cc_grid is not None:
                    text += f"\ncc {_signed(cc_grid.iat[i, j])}"
                dark = abs(v) > 0.6 * limit
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color="white" if dark else ("#777777" if low[i, j] else "black"),
                )
    bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    bar.set_label("net stance")
    ax.set_title(
        f"Net stance by {result.by}: {METHODS[result.method].title}\n{_level(result)} intervals; hatched: low support",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def device_figure(result: CompareResult) -> Figure:
    """Device rate per 1,000 sentences by group with intervals (a dot plot; a heatmap for many groups)."""
    import matplotlib.pyplot as plt

    d = result.devices
    devices = sorted(d["device"].unique(), key=lambda x: -d.loc[d["device"] == x, "estimate"].mean())
    groups = list(result.groups["group"])
    if len(groups) > 10:
        grid = d.pivot(index="device", columns="group", values="estimate").reindex(index=devices, columns=groups)
        fig, ax = plt.subplots(figsize=(min(30.0, 2.8 + 0.5 * len(groups)), 1.4 + 0.4 * len(devices)), dpi=100)
        image = ax.imshow(grid.to_numpy(dtype=float), cmap="Oranges", aspect="auto")
        ax.set_xticks(range(len(groups)), [_short(g) for g in groups], rotation=60, ha="right")
        ax.set_yticks(range(len(devices)), devices)
        fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02).set_label("spans per 1,000 sentences")
    else:
        fig, ax = plt.subplots(figsize=(10, 1.4 + 0.3 * len(devices) * max(2, len(groups))), dpi=100)
        step = 0.8 / max(len(groups), 1)
        colours = plt.get_cmap("tab10")
        for g, group in enumerate(groups):
            rows = d[d["group"] == group].set_index("device").reindex(devices)
            y = np.arange(len(devices)) - 0.4 + step * (g + 0.5)
            err = np.vstack([rows["estimate"] - rows["ci_low"], rows["ci_high"] - rows["estimate"]]).clip(min=0)
            ax.errorbar(
                rows["estimate"], y, xerr=err, fmt="o", color=colours(g % 10), label=_short(group), capsize=2, markersize=4
            )
        ax.set_yticks(range(len(devices)), devices)
        ax.invert_yaxis()
        ax.set_xlabel("spans per 1,000 sentences")
        ax.set_xlim(left=0)
        ax.grid(axis="x", color="#eeeeee")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title=result.by, title_fontsize=8, frameon=False)
    ax.set_title(f"Framing devices by {result.by} ({_level(result)} intervals)", fontsize=10)
    fig.tight_layout()
    return fig


def _png(fig: Figure) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


# --------------------------------------------------------------------------- HTML
def render_html(result: CompareResult, actors: Sequence[str], images: dict[str, bytes], *, title: str | None = None) -> str:
    """The report as one HTML string (every text from the data is escaped)."""
    e = _esc
    summary = result.summary()
    title = title or f"Stance toward actors by {result.by}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<link rel="icon" href="data:,"><title>{e(title)}</title><style>{CSS}</style></head><body>',
        f"<h1>{e(title)}</h1>",
        f'<p class="meta">{summary["articles"]:,} articles, {summary["sentences"]:,} sentences, {summary["mentions"]:,} mentions with a stance, '
        f"{summary['groups']} groups. Input: {e(', '.join(summary['inputs']))}</p>",
        f"<p><b>Shares shown:</b> {e(METHODS[result.method].title)} ({e(result.method)}). {e(_confusion_text(result))} "
        f"Intervals: {_level(result)} percentile bootstrap over articles within each group ({summary['bootstrap']:,} resamples, "
        f"widened for cells with few articles; corrected shares also redraw the confusion matrix's labelled targets), "
        f"seed {summary['seed']}. Cells with fewer than {summary['min_mentions']} mentions or {summary['min_articles']} articles "
        f"are flagged as low support and get no interval (nor do the device rates of groups with fewer articles). Intervals "
        f"are not adjusted for the many comparisons; the q-values of the differences are (Benjamini-Hochberg).</p>",
    ]
    if result.notes:
        parts.append('<div class="notes"><b>Notes</b><ul>' + "".join(f"<li>{e(n)}</li>" for n in result.notes) + "</ul></div>")
    parts.append("<h2>Groups</h2>" + _table(result.groups, {"group": result.by}))
    parts.append("<h2>Net stance by actor</h2>")
    if HEATMAP_PNG in images:
        parts.append(
            f"<p>The {len(actors)} most mentioned actors. Net stance = share of positive minus share of negative mentions "
            f"(-1 to +1); blue is favourable, red unfavourable. Hatched cells: low support; grey: no mentions.</p>"
            + _img(images[HEATMAP_PNG], f"Heatmap of net stance by actor and {result.by}")
            + "<details><summary>Net stance table</summary>"
            + _net_table(result, actors)
            + "</details>"
        )
    else:
        parts.append("<p>No actor mentions with a stance.</p>")
    parts.append("<h2>Framing devices</h2>")
    if DEVICES_PNG in images:
        parts.append(
            "<p>Device spans per 1,000 sentences.</p>"
            + (PROPAGANDA_NOTE if PROPAGANDA in set(result.devices["device"]) else "")
            + _img(images[DEVICES_PNG], f"Framing device rates by {result.by}")
            + "<h3>Leading devices of each group</h3>"
            + _leading_devices(result)
            + "<h3>Differences in device rates</h3>"
            + _device_differences(result)
        )
    else:
        parts.append("<p>No framing-device spans in the input.</p>")
    parts.append("<h2>Differences between groups</h2>" + _differences(result))
    parts.append("<h2>Example sentences</h2>" + _examples(result, actors))
    parts.append(
        "<h2>How to read this</h2><p>Each mention of an actor carries the model's stance label. Classify-and-count shares "
        "are the fractions of mentions with each label. Adjusted classify-and-count corrects them for the model's known "
        "errors: the predicted shares are modelled as the true shares passed through the confusion matrix measured on the "
        "model's dev set, and solved for the true shares (least squares, shares non-negative and summing to one). "
        "Intervals and p-values come from resampling whole articles, since sentences of one article are not independent. "
        "Differences are group a minus group b; p-values use the bootstrap standard error, q-values apply the "
        "Benjamini-Hochberg correction across all differences without low support.</p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def _confusion_text(result: CompareResult) -> str:
    if result.confusion is None:
        return "No confusion matrix was available, so shares are not corrected for the model's errors."
    c = result.confusion
    return f"Correction from the confusion matrix in {c.source or 'the given matrix'} ({confusion_support(c)})."


def _cc_net(result: CompareResult) -> pd.DataFrame | None:
    """Classify-and-count net stance, shown beside the corrected one (None when cc is what is shown)."""
    if result.method == "cc":
        return None
    rows = result.stance[(result.stance["method"] == "cc") & (result.stance["measure"] == "net")]
    return rows.reset_index(drop=True)


def _net_table(result: CompareResult, actors: Sequence[str]) -> str:
    net = result.shown("net")
    net = net[net["actor"].isin(actors)]
    cc = _cc_net(result)
    cc_of = {} if cc is None else {(g, a): v for g, a, v in zip(cc["group"], cc["actor"], cc["estimate"], strict=True)}
    groups = list(result.groups["group"])
    rows = []
    for actor in actors:
        cells = []
        for group in groups:
            hit = net[(net["actor"] == actor) & (net["group"] == group)]
            if hit.empty:
                cells.append('<td class="num">-</td>')
                continue
            r = hit.iloc[0]
            cls = ' style="color:#999"' if r["low_support"] else ""
            plain = f" (cc {_signed(cc_of[(group, actor)])})" if (group, actor) in cc_of else ""
            cells.append(f'<td class="num"{cls}>{_signed(r["estimate"])}{_interval(r)}{plain} n={r["n_mentions"]}</td>')
        rows.append(f"<tr><th>{_esc(actor)}</th>{''.join(cells)}</tr>")
    head = "<tr><th>actor</th>" + "".join(f"<th>{_esc(g)}</th>" for g in groups) + "</tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _leading_devices(result: CompareResult, top: int = 3) -> str:
    d = result.devices[result.devices["rank"] <= top].sort_values(["group", "rank"])
    rows = []
    for group, part in d.groupby("group", sort=True):
        items = "; ".join(
            f"{_esc(r.device)} {r.estimate:.1f}" + (f" [{r.ci_low:.1f}, {r.ci_high:.1f}]" if np.isfinite(r.ci_low) else "")
            for r in part.itertuples()
            if r.n_spans > 0
        )
        rows.append(f"<tr><th>{_esc(group)}</th><td>{items or 'none'}</td></tr>")
    return f"<table><tr><th>{_esc(result.by)}</th><th>devices per 1,000 sentences [{_level(result)} interval]</th></tr>{''.join(rows)}</table>"


def _differences(result: CompareResult) -> str:
    d = result.differences
    if d.empty:
        return "<p>No actor is mentioned in two groups (or there is only one group).</p>"
    tested = d[~d["low_support"]].sort_values(["q_value", "p_value", "actor"])
    shown = tested.head(MAX_DIFFERENCE_ROWS)
    text = (
        f"<p>Net stance of group a minus group b, {len(tested):,} comparisons with enough support "
        f"({len(d) - len(tested):,} more with low support are in differences.csv). Bold: q &lt; 0.05."
        + (f" The {MAX_DIFFERENCE_ROWS} with the smallest q-values are listed." if len(tested) > MAX_DIFFERENCE_ROWS else "")
        + "</p>"
    )
    if shown.empty:
        return text
    rows = []
    for r in shown.itertuples():
        cls = ' class="sig"' if r.q_value < 0.05 else ""
        rows.append(
            f"<tr{cls}><td>{_esc(r.actor)}</td><td>{_esc(r.group_a)}</td><td>{_esc(r.group_b)}</td>"
            f'<td class="num">{r.difference:+.3f}</td><td class="num">[{r.ci_low:+.3f}, {r.ci_high:+.3f}]</td>'
            f'<td class="num">{_p(r.p_value)}</td><td class="num">{_p(r.q_value)}</td>'
            f'<td class="num">{r.n_mentions_a}</td><td class="num">{r.n_mentions_b}</td></tr>'
        )
    head = "<tr><th>actor</th><th>group a</th><th>group b</th><th>difference</th><th>interval</th><th>p</th><th>q</th><th>n a</th><th>n b</th></tr>"
    return text + f"<table>{head}{''.join(rows)}</table>"


SIG = ' class="sig"'


def _device_differences(result: CompareResult) -> str:
    d = result.device_differences
    if d.empty:
        return "<p>Only one group: no differences.</p>"
    tested = d[d["q_value"].notna()]
    shown = tested.sort_values(["q_value", "p_value", "device"]).head(MAX_DIFFERENCE_ROWS)
    rows = [
        f"<tr{SIG if r.q_value < 0.05 else ''}><td>{_esc(r.device)}</td><td>{_esc(r.group_a)}</td><td>{_esc(r.group_b)}</td>"
        f'<td class="num">{r.difference:+.1f}</td><td class="num">[{r.ci_low:+.1f}, {r.ci_high:+.1f}]</td>'
        f'<td class="num">{_p(r.p_value)}</td><td class="num">{_p(r.q_value)}</td><td class="num">{r.n_spans_a}</td><td class="num">{r.n_spans_b}</td></tr>'
        for r in shown.itertuples()
    ]
    head = "<tr><th>device</th><th>group a</th><th>group b</th><th>difference per 1,000 sentences</th><th>interval</th><th>p</th><th>q</th><th>spans a</th><th>spans b</th></tr>"
    text = (
        f"<p>Device spans per 1,000 sentences, group a minus group b: {len(tested):,} comparisons tested, the same bootstrap "
        f"over articles, q-values by Benjamini-Hochberg across them ({len(d) - len(tested):,} more, where a group has too few "
        "articles or neither has a span, are in device_differences.csv untested). Bold: q &lt; 0.05.</p>"
    )
    return text + f"<table>{head}{''.join(rows)}</table>"


def _examples(result: CompareResult, actors: Sequence[str]) -> str:
    ex = result.examples
    if ex.empty:
        return "<p>No examples.</p>"
    ex = ex[ex["actor"].isin(actors)]
    net = result.shown("net").set_index(["group", "actor"])
    out = [
        '<p class="legend">Sentences drawn at random from different articles. Mention of the actor: '
        '<span><mark class="m-negative">negative</mark></span><span><mark class="m-neutral">neutral</mark></span>'
        '<span><mark class="m-positive">positive</mark></span>; <span class="dev">framing device</span> (label on hover and after the sentence).</p>'
    ]
    order = {a: i for i, a in enumerate(actors)}
    for i, (group, part) in enumerate(ex.groupby("group", sort=True)):
        out.append(f"<details{' open' if i == 0 else ''}><summary>{_esc(result.by)}: {_esc(group)}</summary>")
        for actor, cell in sorted(part.groupby("actor"), key=lambda kv: order.get(kv[0], 1 << 30)):
            r = net.loc[(group, actor)] if (group, actor) in net.index else None
            stat = "" if r is None else f" - net {_signed(r['estimate'])}{_interval(r)}, {r['n_mentions']} mentions"
            out.append(f'<div class="cell"><b>{_esc(actor)}</b>{_esc(stat)}</div>')
            for s in cell.itertuples():
                labels = sorted({x["label"] for x in s.spans if x["kind"] == "device"})
                tail = f' <span class="devlabel">[{_esc(", ".join(labels))}]</span>' if labels else ""
                out.append(
                    f'<div class="example">{highlight(s.text, s.spans)}{tail} <span class="meta">({_esc(s.doc_id)})</span></div>'
                )
        out.append("</details>")
    return "".join(out)


def highlight(text: str, spans: Sequence[dict[str, Any]]) -> str:
    """``text`` as escaped HTML with mention spans (``kind="mention"``, stance ``label``) marked and device spans
    (``kind="device"``) underlined; spans may overlap; offsets outside the text are ignored.

    Example:
        >>> highlight("Putin <b>won</b>", [{"kind": "mention", "start": 0, "end": 5, "label": "negative"}])
        '<mark class="m-negative" title="stance: negative">Putin</mark> &lt;b&gt;won&lt;/b&gt;'
    """
    text = str(text)
    valid = [
        s
        for s in spans
        if isinstance(s.get("start"), int) and isinstance(s.get("end"), int) and 0 <= s["start"] < s["end"] <= len(text)
    ]
    cuts = sorted({0, len(text), *(s["start"] for s in valid), *(s["end"] for s in valid)})
    out = []
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        piece = _esc(text[lo:hi])
        active = [s for s in valid if s["start"] <= lo and hi <= s["end"]]
        for s in sorted(active, key=lambda s: s["kind"] != "device"):  # devices inside, mentions outside
            label = _esc(str(s.get("label", "")))
            if s["kind"] == "mention":
                piece = f'<mark class="m-{label}" title="stance: {label}">{piece}</mark>'
            else:
                piece = f'<span class="dev" title="device: {label}">{piece}</span>'
        out.append(piece)
    return "".join(out)


def _table(frame: pd.DataFrame, rename: dict[str, str] | None = None) -> str:
    head = "".join(f"<th>{_esc((rename or {}).get(c, c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="num">{v:,}</td>' if isinstance(v, (int, np.integer)) else f"<td>{_esc(v)}</td>" for v in row)
        + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(data: bytes, alt: str) -> str:
    return f'<p><img alt="{_esc(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}"></p>'


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _p(value: float) -> str:
    if not np.isfinite(value):
        return "-"
    return "&lt;0.001" if value < 0.001 else f"{value:.3f}"


def _interval(row: Any) -> str:
    """`` [lo, hi]``, or nothing for a cell below the minimum support (it has no interval)."""
    return f" [{_signed(row['ci_low'])}, {_signed(row['ci_high'])}]" if np.isfinite(row["ci_low"]) else " (too few to say)"


def _signed(value: float) -> str:
    """``+0.12`` / ``-0.12``, and never ``-0.00``."""
    return f"{round(float(value), 2) + 0.0:+.2f}" if np.isfinite(value) else "n/a"


def _short(label: Any, limit: int = 28) -> str:
    text = str(label)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _level(result: CompareResult) -> str:
    return f"{round(100 * result.settings.get('level', 0.95))}%"
