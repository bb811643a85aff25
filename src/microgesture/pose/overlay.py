"""Skeleton and label drawing (OpenCV) for pose and detection overlays; streaming video I/O is data/video.py's.

Frames are uint8 (H, W, 3) RGB, drawn one at a time as they stream through ``data.video.iter_frames`` and
``VideoWriter``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from microgesture.layouts import get_layout

__all__ = ["draw_skeleton", "draw_labels", "PART_COLOURS"]

# RGB colours of the parts of openpose137 (body, face, left hand, right hand)
PART_COLOURS = {"body": (255, 200, 0), "face": (0, 230, 255), "left_hand": (80, 255, 80), "right_hand": (255, 80, 200)}


_EDGES_BY_PART: dict[str, np.ndarray] | None = None


def _edges_by_part() -> dict[str, np.ndarray]:
    global _EDGES_BY_PART
    if _EDGES_BY_PART is None:
        lay = get_layout("openpose137")
        owner = {j: name for name, js in lay.parts.items() for j in js}
        groups: dict[str, list[tuple[int, int]]] = {name: [] for name in lay.parts}
        for a, b in lay.edges:
            groups[owner[b]].append((a, b))
        _EDGES_BY_PART = {k: np.array(v, np.int64).reshape(-1, 2) for k, v in groups.items()}
    return _EDGES_BY_PART


def draw_skeleton(frame: np.ndarray, keypoints: np.ndarray, *, conf_threshold: float = 0.1,
                  thickness: int | None = None) -> np.ndarray:
    """Draw an OpenPose-137 skeleton (137, 3) on a copy of the (H, W, 3) RGB frame; joints under the threshold are
    skipped. Line width scales with the frame (1 px at 360p)."""
    import cv2

    out = np.ascontiguousarray(frame).copy()
    th = thickness or max(1, round(min(frame.shape[:2]) / 360))
    kp = np.asarray(keypoints, np.float32)
    ok = kp[:, 2] >= conf_threshold
    pts = np.round(kp[:, :2]).astype(np.int32)
    for part, edges in _edges_by_part().items():
        colour = PART_COLOURS[part]
        for a, b in edges:
            if ok[a] and ok[b]:
                cv2.line(out, tuple(int(v) for v in pts[a]), tuple(int(v) for v in pts[b]), colour, th, cv2.LINE_AA)
    lay = get_layout("openpose137")
    for part, joints in lay.parts.items():
        r = th + 1 if part == "body" else th
        for j in joints:
            if ok[j]:
                cv2.circle(out, tuple(int(v) for v in pts[j]), r, PART_COLOURS[part], -1, cv2.LINE_AA)
    return out


def draw_labels(frame: np.ndarray, lines: Sequence[str], *, highlight: int | None = 0) -> np.ndarray:
    """Write text lines in the top-left corner on a dark band (in place on a copy); ``highlight`` line in yellow."""
    import cv2

    out = np.ascontiguousarray(frame).copy()
    h = out.shape[0]
    scale = max(0.35, h / 720 * 0.8)
    step = int(28 * scale / 0.8)
    if lines:
        width = max(cv2.getTextSize(s, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] for s in lines)
        band = out[: step * len(lines) + 6, : width + 12]
        band[:] = (band * 0.4).astype(np.uint8)
    for i, s in enumerate(lines):
        colour = (255, 230, 0) if i == highlight else (255, 255, 255)
        cv2.putText(out, s, (6, step * (i + 1)), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)
    return out
