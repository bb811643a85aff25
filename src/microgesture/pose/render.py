"""What a person looks at after an extraction: the track listing, one thumbnail per tracked person, the overlay
video. Re-exported by :mod:`microgesture.pose`; numpy here, OpenCV and PyAV imported when drawing."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from microgesture.pose import PoseResult


def track_listing(result: PoseResult, *, min_frames: int = 5) -> list[str]:
    """Lines listing the tracked people (id, frames present, mean box, frontal face share), the subject marked.

    Tracks present in fewer than ``min_frames`` frames (a bystander glimpsed, a skeleton on clutter; a crowded clip
    has dozens) share one closing line with their ids, unless one of them is the subject; all stay in the file.
    """
    sel = result.selection
    lines, brief = [], []
    for rec in sel.get("tracks", []):
        if rec["frames"] < min_frames and rec["id"] != sel.get("track"):
            brief.append(rec["id"])
            continue
        mark = "*" if rec["id"] == sel.get("track") else " "
        box = ", ".join(f"{v:.0f}" for v in rec["mean_box"])
        lines.append(f"{mark} person={rec['id']}: {rec['frames']}/{result.num_frames} frames (from {rec['first']} to "
                     f"{rec['last']}), mean box [{box}], frontal face {rec['frontal']:.0%}")
    if brief:
        lines.append(f"  and {len(brief)} more, each in under {min_frames} frames: person="
                     + ", ".join(map(str, brief)))
    return lines


def write_track_thumbnails(video: str | os.PathLike, result: PoseResult, folder: str | os.PathLike) -> list[Path]:
    """One PNG per tracked person (``person_<id>.png``): the frame in the middle of its presence, cropped to its box
    with a margin, the box drawn; for choosing ``--select person=ID`` by eye."""
    import cv2

    from microgesture.atomic import atomic_path
    from microgesture.data.video import iter_frames
    from microgesture.pose.people import person_box

    tracks = result.selection.get("tracks", [])
    Path(folder).mkdir(parents=True, exist_ok=True)
    want: dict[int, list[dict]] = {}
    for rec in tracks:
        present = np.flatnonzero((result.people[rec["id"]][:, :25, 2] > 0).any(1)) if rec["id"] in result.people \
            else np.array([rec["first"]])
        want.setdefault(int(present[len(present) // 2]), []).append(rec)
    out = []
    for t, frame in enumerate(iter_frames(video)):
        for rec in want.get(t, []):
            kp = result.people.get(rec["id"])
            box = person_box(kp[t]) if kp is not None else None
            box = np.asarray(rec["mean_box"]) if box is None else box
            h, w = frame.shape[:2]
            g = 0.15 * max(box[2] - box[0], box[3] - box[1])
            x0, y0 = int(max(0, box[0] - g)), int(max(0, box[1] - g))
            x1, y1 = int(min(w, box[2] + g + 1)), int(min(h, box[3] + g + 1))
            img = np.ascontiguousarray(frame).copy()
            cv2.rectangle(img, (int(box[0]), int(box[1])), (int(box[2]), int(box[3])), (255, 200, 0), 1)
            crop = img[y0:y1, x0:x1]
            path = Path(folder) / f"person_{rec['id']}.png"
            with atomic_path(path) as tmp:
                cv2.imwrite(str(tmp), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
            out.append(path)
        if t >= max(want, default=-1):
            break
    return out


def write_pose_overlay(video: str | os.PathLike, result: PoseResult, out: str | os.PathLike,
                       *, labels: Callable[[int], list[str]] | None = None) -> Path:
    """Draw the skeleton (and optional per-frame text lines) on the video; frames past the skeleton are copied."""
    from microgesture.data.video import VideoWriter, iter_frames
    from microgesture.pose.overlay import draw_labels, draw_skeleton

    with VideoWriter(out, fps=result.fps) as w:
        for t, frame in enumerate(iter_frames(video)):
            if t < result.num_frames:
                frame = draw_skeleton(frame, result.keypoints[t])
            if labels is not None:
                frame = draw_labels(frame, labels(t))
            w.write(frame)
    return Path(out)
