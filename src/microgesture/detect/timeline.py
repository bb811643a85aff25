"""The timeline PNG of a detection: smoothed scores of the most active classes over time, the detected events and
the ground truth as bars labelled with their class names; the legend holds the full class names, wrapped."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from microgesture.atomic import atomic_path
from microgesture.detect.core import Detection, Event

__all__ = ["plot_timeline", "timeline_figure"]

LEGEND_WIDTH = 26  # characters per legend line: long names wrap onto more lines, never cut


def _wrap(name: str, width: int) -> str:
    return "\n".join(textwrap.wrap(name, width, break_long_words=True, break_on_hyphens=True)) or name


def _bar_label(name: str, seconds: float, span_s: float, width_in: float) -> str:
    """A class name fitted to an event bar: wrapped onto up to three lines of the characters the bar can hold (about
    14 characters per inch at fontsize 6), with an ellipsis only when even that is too short."""
    chars = max(4, int(seconds / max(span_s, 1e-9) * width_in * 14))
    lines = textwrap.wrap(name, chars, break_long_words=True) or [name]
    if len(lines) > 3:
        lines = [*lines[:2], lines[2][: max(1, chars - 1)] + "…"]
    return "\n".join(lines)


def timeline_figure(det: Detection, *, gt: Sequence[Event] | None = None, max_classes: int = 12):
    """The matplotlib figure of :func:`plot_timeline` (callers close it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = det.smoothed.shape[1] if len(det.smoothed) else len(det.classes)
    peak = det.smoothed.max(0) if len(det.smoothed) else np.zeros(k)
    shown = [int(c) for c in np.argsort(-peak)[:max_classes]]
    colours = {c: plt.cm.tab20(i % 20) for i, c in enumerate(sorted({*shown, *(e.label for e in det.events),
                                                                     *(g.label for g in gt or [])}))}
    lanes = 2 if gt is not None else 1
    width = 14.0
    fig, axes = plt.subplots(1 + lanes, 1, figsize=(width, 3.4 + 0.8 * lanes), sharex=True,
                             gridspec_kw={"height_ratios": [4] + [1] * lanes})
    centres = (det.starts + min(det.window, det.num_frames) / 2) / det.fps
    for c in shown:
        axes[0].plot(centres, det.smoothed[:, c], color=colours[c], lw=1.2, label=_wrap(det.classes[c], LEGEND_WIDTH))
    axes[0].set_ylabel("score (smoothed)")
    axes[0].set_ylim(0, 1)
    if shown:
        # outside the axes, to the right: full names need room and must not hide the curves
        axes[0].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.005, 1.0), borderaxespad=0.0,
                       ncol=1 if len(shown) <= 8 else 2, handlelength=1.2)
    span = det.num_frames / det.fps
    plot_w = width * 0.72  # the axes' share of the figure width once the legend sits beside them
    lanes_data = [(axes[1], det.events, "detected")] + ([(axes[2], gt, "ground truth")] if gt is not None else [])
    for ax, evs, name in lanes_data:
        for e in evs:
            ax.axvspan(e.start_s, e.end_s, color=colours.get(e.label, "grey"), alpha=0.8)
            label = e.name or (det.classes[e.label] if 0 <= e.label < len(det.classes) else str(e.label))
            ax.text((e.start_s + e.end_s) / 2, 0.5, _bar_label(label, e.end_s - e.start_s, span, plot_w),
                    ha="center", va="center", fontsize=6, clip_on=True)
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    axes[-1].set_xlabel("time (s)")
    axes[-1].set_xlim(0, span)
    fig.tight_layout()
    return fig


def plot_timeline(det: Detection, path: str | os.PathLike, *, gt: Sequence[Event] | None = None,
                  max_classes: int = 12) -> Path:
    """PNG: smoothed probabilities of the most active classes over time, detected events and the ground truth."""
    import matplotlib.pyplot as plt

    path = Path(path)
    fig = timeline_figure(det, gt=gt, max_classes=max_classes)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
