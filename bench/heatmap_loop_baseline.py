"""Reference renderer: PoseC3D's heatmap maths as a straightforward per-keypoint numpy loop.

This is the baseline that ``bench/bench_heatmaps.py`` times microgesture's batched renderer against, written for
microgesture from
the description in docs/recipes.md ("PoseC3D joint and limb"): for every frame and every point (or limb) a
Gaussian of ``sigma`` with amplitude = confidence is drawn inside the window ``[int(mu - 3 sigma), int(mu + 3 sigma)]``
(Python ``int`` truncates toward zero), clipped to the canvas, and max-merged into the frame's map. It is the slow,
obvious way; microgesture.inputs.heatmaps does the same maths as batched tensor operations.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-3  # points (limbs) whose confidence is below this are skipped, as in PoseC3D


def _window(lo: float, hi: float, size: int) -> tuple[int, int]:
    # int() truncates toward zero, which is what PoseC3D's window does (a point at x = -2.3 still reaches pixel 0).
    return max(int(lo), 0), min(int(hi) + 1, size)


def draw_point(canvas: np.ndarray, x: float, y: float, value: float, sigma: float) -> None:
    """Max-merge one Gaussian of amplitude ``value`` centred at (x, y) into a (H, W) canvas."""
    if value < EPS:
        return
    h, w = canvas.shape
    x0, x1 = _window(x - 3 * sigma, x + 3 * sigma, w)
    y0, y1 = _window(y - 3 * sigma, y + 3 * sigma, h)
    if x0 >= x1 or y0 >= y1:
        return
    for py in range(y0, y1):
        for px in range(x0, x1):
            d2 = (px - x) ** 2 + (py - y) ** 2
            canvas[py, px] = max(canvas[py, px], value * np.exp(-d2 / (2 * sigma**2)))


def draw_limb(canvas: np.ndarray, a: np.ndarray, b: np.ndarray, va: float, vb: float, sigma: float) -> None:
    """Max-merge one limb a-b (distance to the segment, amplitude min(va, vb)) into a (H, W) canvas."""
    value = min(va, vb)
    if value < EPS:
        return
    h, w = canvas.shape
    x0, x1 = _window(min(a[0], b[0]) - 3 * sigma, max(a[0], b[0]) + 3 * sigma, w)
    y0, y1 = _window(min(a[1], b[1]) - 3 * sigma, max(a[1], b[1]) + 3 * sigma, h)
    if x0 >= x1 or y0 >= y1:
        return
    ex, ey = float(b[0] - a[0]), float(b[1] - a[1])
    length2 = ex * ex + ey * ey
    if length2 < 1:  # a limb shorter than a pixel is drawn as its first point, with that point's confidence
        draw_point(canvas, float(a[0]), float(a[1]), va, sigma)
        return
    for py in range(y0, y1):
        for px in range(x0, x1):
            t = ((px - a[0]) * ex + (py - a[1]) * ey) / length2
            t = min(max(t, 0.0), 1.0)
            d2 = (px - a[0] - t * ex) ** 2 + (py - a[1] - t * ey) ** 2
            canvas[py, px] = max(canvas[py, px], value * np.exp(-d2 / (2 * sigma**2)))


def render_loop(
    keypoints: np.ndarray,
    scores: np.ndarray,
    size: tuple[int, int],
    sigma: float = 0.6,
    edges: np.ndarray | None = None,
) -> np.ndarray:
    """Render (M, T, V, 2) keypoints with (M, T, V) scores to a (C, T, H, W) float32 volume, one point at a time."""
    m, t, v, _ = keypoints.shape
    h, w = size
    c = v if edges is None else len(edges)
    out = np.zeros((c, t, h, w), dtype=np.float32)
    for f in range(t):
        for p in range(m):
            kp, sc = keypoints[p, f], scores[p, f]
            if edges is None:
                for j in range(v):
                    draw_point(out[j, f], float(kp[j, 0]), float(kp[j, 1]), float(sc[j]), sigma)
            else:
                for k, (i, j) in enumerate(edges):
                    draw_limb(out[k, f], kp[i], kp[j], float(sc[i]), float(sc[j]), sigma)
    return out
