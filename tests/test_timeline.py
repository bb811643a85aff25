"""The detection timeline: event bars carry class names, the legend carries full names (wrapped, never cut)."""

from __future__ import annotations

import numpy as np

from microgesture.detect import Detection, Event, plot_timeline
from microgesture.detect.timeline import timeline_figure

CLASSES = ("scratching or touching facial parts", "folding arms", "illustrative gestures (non-MG)",
           "moving torso back and forth while seated")


def detection() -> Detection:
    fps, n = 25.0, 500
    starts = np.arange(0, n - 50 + 1, 25)
    rng = np.random.default_rng(0)
    smoothed = rng.uniform(0.1, 0.9, (len(starts), len(CLASSES))).astype(np.float32)
    events = [Event(0, 149, 0, CLASSES[0], 0.9, fps), Event(200, 349, 3, CLASSES[3], 0.8, fps),
              Event(400, 409, 1, CLASSES[1], 0.7, fps)]  # a short bar: its name wraps onto lines
    return Detection(events=events, probs=smoothed, smoothed=smoothed, starts=starts, window=50, stride=25,
                     num_frames=n, fps=fps, classes=CLASSES)


def texts(fig) -> list[str]:
    import matplotlib.text

    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def flat(text: str) -> str:
    return " ".join(text.split())


def test_legend_has_full_names_and_bars_have_class_names(tmp_path):
    import matplotlib.pyplot as plt

    det = detection()
    gt = [Event(0, 140, 2, CLASSES[2], 1.0, 25.0)]
    fig = timeline_figure(det, gt=gt)
    try:
        legend = [flat(t.get_text()) for t in fig.axes[0].get_legend().get_texts()]
        assert sorted(legend) == sorted(CLASSES)  # every name whole: not cut at "illustrative gestures (non-M"
        assert any("\n" in t.get_text() for t in fig.axes[0].get_legend().get_texts())  # long names wrap
        detected = [flat(t.get_text()).replace("- ", "-") for t in fig.axes[1].texts]
        assert detected[:2] == [CLASSES[0], CLASSES[3]]  # names, not class indices
        assert detected[2].replace(" ", "") == CLASSES[1].replace(" ", "")
        assert [flat(t.get_text()) for t in fig.axes[2].texts] == [CLASSES[2]]
    finally:
        plt.close(fig)
    png = plot_timeline(det, tmp_path / "t.png", gt=gt)
    assert png.read_bytes()[:4] == b"\x89PNG"
