"""Plots of experiment results: Figure 16's downtime CDFs (``raftlab.plots.downtime_cdf``)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from .experiments import DowntimeResult

__all__ = ["downtime_cdf", "figure16_figure", "figure16_colors", "LINE_COLORS"]

#: Okabe-Ito colours (colour-blind safe), one per line, in order; a seventh line reuses them.
LINE_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
_STYLES = ("-", "--", "-.", ":")


def downtime_cdf(*results: DowntimeResult, labels: Optional[Sequence[str]] = None,
                 log_x: bool = False, ax: Any = None, title: Optional[str] = None,
                 colors: Optional[Sequence[str]] = None) -> Figure:
    """Cumulative percent of trials vs. time without leader, one step line per result.

    Trials censored at the cap (still leaderless) are not drawn: such a line stops below 100%
    and its label says how many trials never elected a leader. ``log_x`` gives the paper's log
    time axis (top graph); ``ax`` draws into existing axes; ``colors`` overrides the line
    colours (one per result).
    """
    if not results:
        raise ValueError("downtime_cdf needs at least one DowntimeResult, e.g. "
                         "downtime_cdf(election_downtime(...))")
    for r in results:
        if not isinstance(r, DowntimeResult):
            raise ValueError(f"downtime_cdf takes DowntimeResult objects, got {r!r:.80}")
    if labels is not None:
        labels = list(labels)
        if len(labels) != len(results):
            raise ValueError(f"labels has {len(labels)} entries for {len(results)} results")
    if colors is not None and len(colors) != len(results):
        raise ValueError(f"colors has {len(colors)} entries for {len(results)} results")
    if ax is None:
        fig = Figure(figsize=(7.5, 4.2), dpi=100, layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    lowest = None
    for k, r in enumerate(results):
        cap = r.params.get("cap", float("inf"))
        done = sorted(t for t in r.times if t < cap)
        total = len(r.times)
        label = labels[k] if labels is not None else r.label
        if r.censored:
            label += f" ({100 * r.censored / total:.0f}% > {cap / 1000:g} s)"
        color = colors[k] if colors is not None else LINE_COLORS[k % len(LINE_COLORS)]
        style = _STYLES[(k // len(LINE_COLORS)) % len(_STYLES)]
        if done:
            xs = [done[0]] + done
            ys = [0.0] + [100 * (i + 1) / total for i in range(len(done))]
            ax.step(xs, ys, where="post", color=color, linestyle=style, linewidth=1.6,
                    label=label)
            lowest = done[0] if lowest is None else min(lowest, done[0])
        else:  # every trial censored: mark the cap with an empty marker on the axis
            ax.plot([cap], [0], marker="o", markerfacecolor="none", color=color,
                    linestyle="none", label=label)
    if log_x:
        ax.set_xscale("log")
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_xlabel("time without leader (ms)")
    ax.set_ylabel("cumulative percent")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="lower right", fontsize="small", frameon=True)
    if title:
        ax.set_title(title)
    return fig


def figure16_colors(graphs: dict[str, list[DowntimeResult]]) -> tuple[list[str], list[str]]:
    """Line colours for Figure 16's two graphs: a timeout range drawn in both (150-300 ms)
    keeps one colour; the other lines of the bottom graph take colours not used for it."""
    top = [LINE_COLORS[k % len(LINE_COLORS)] for k in range(len(graphs["top"]))]
    shared = {r.label: c for r, c in zip(graphs["top"], top)}
    taken = {shared[r.label] for r in graphs["bottom"] if r.label in shared}
    spare = iter([c for c in LINE_COLORS if c not in taken] * 2)
    bottom = [shared[r.label] if r.label in shared else next(spare) for r in graphs["bottom"]]
    return top, bottom


def figure16_figure(graphs: dict[str, list[DowntimeResult]]) -> Figure:
    """Both graphs of Figure 16 stacked: randomness (log time axis), then timeout scale."""
    fig = Figure(figsize=(7.5, 8.0), dpi=100, layout="constrained")
    top, bottom = fig.subplots(2, 1)
    top_colors, bottom_colors = figure16_colors(graphs)
    downtime_cdf(*graphs["top"], log_x=True, ax=top, colors=top_colors,
                 title="More randomness in the election timeout")
    downtime_cdf(*graphs["bottom"], ax=bottom, colors=bottom_colors,
                 title="Smaller election timeouts")
    bottom.set_xlim(0, 600)
    return fig
