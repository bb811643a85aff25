"""Where the multi-person extractor (:mod:`microgesture.pose.multi`) looks: the discovery windows, each tracker's
crop around its person, and the gray paint over the people already followed. Pure numpy geometry on frame pixels;
boxes are (x0, y0, x1, y1)."""

from __future__ import annotations

import numpy as np

__all__ = ["discovery_windows", "inside", "paint", "tracker_crop", "crop_fits", "others_painted"]


def inside(a: np.ndarray, b: np.ndarray) -> float:
    """The fraction of box ``a`` that lies inside box ``b`` (a part of a person already followed, found again)."""
    iw = max(0.0, float(min(a[2], b[2]) - max(a[0], b[0])))
    ih = max(0.0, float(min(a[3], b[3]) - max(a[1], b[1])))
    area = float((a[2] - a[0]) * (a[3] - a[1]))
    return iw * ih / area if area > 0 else 1.0


def discovery_windows(w: int, h: int) -> list[tuple[int, int, int, int]]:
    """Where discovery looks: the whole frame, then overlapping tiles along its longer side (60 % of it, or
    squares on a wide frame). The detector sees a 224 px square: a person cut by the frame edge or beside another
    is found in a tile where the whole frame finds nobody (the arm-wrestling clip of docs/pose_tracking.md)."""
    windows = [(0, 0, w, h)]
    long_, short = max(h, w), min(h, w)
    wide = long_ > 1.4 * short
    side = short if wide else round(0.6 * long_)
    n = 2 * int(np.ceil(long_ / side)) - 1 if wide else 2
    for o in np.unique(np.linspace(0, long_ - side, n).round().astype(int)):
        windows.append((int(o), 0, int(o) + side, h) if w >= h else (0, int(o), w, int(o) + side))
    return windows


def paint(img: np.ndarray, box: np.ndarray, *, grow: float) -> None:
    """Paint ``box`` (grown by ``grow`` of its larger side) gray in ``img``, in place."""
    h, w = img.shape[:2]
    g = grow * max(box[2] - box[0], box[3] - box[1])
    x0, y0 = int(max(0, box[0] - g)), int(max(0, box[1] - g))
    x1, y1 = int(min(w, box[2] + g + 1)), int(min(h, box[3] + g + 1))
    img[y0:y1, x0:x1] = 128


def tracker_crop(box: np.ndarray, w: int, h: int, *, margin: float, lost: int = 0) -> tuple[int, int, int, int]:
    """The crop a tracker sees: ``box`` grown by ``margin`` of its larger side, wider while the person is lost."""
    side = max(box[2] - box[0], box[3] - box[1], 16.0)
    g = margin * side * (1 + min(lost, 10) / 5)  # search wider while the person is lost
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half_w, half_h = (box[2] - box[0]) / 2 + g, (box[3] - box[1]) / 2 + g
    half_w = max(half_w, 0.5 * half_h)  # at least half as wide as tall: room for the arms
    return (int(max(0, cx - half_w)), int(max(0, cy - half_h)), int(min(w, cx + half_w)),
            int(min(h, cy + half_h)))


def crop_fits(box: np.ndarray, crop: tuple[int, int, int, int], w: int, h: int, *, margin: float) -> bool:
    """Whether ``crop`` still suits the person at ``box``: well inside it, and about the size a new crop would be."""
    want = tracker_crop(box, w, h, margin=margin)
    size = (want[2] - want[0]) * (want[3] - want[1])
    have = (crop[2] - crop[0]) * (crop[3] - crop[1])
    g = 0.1 * margin * max(box[2] - box[0], box[3] - box[1])
    inside_ = (box[0] - g >= crop[0] or crop[0] == 0) and (box[1] - g >= crop[1] or crop[1] == 0) and \
        (box[2] + g <= crop[2] or crop[2] >= w) and (box[3] + g <= crop[3] or crop[3] >= h)
    return inside_ and 0.7 * have <= size <= 1.3 * have


def others_painted(image: np.ndarray, crop: tuple[int, int, int, int], *, own: np.ndarray | None,
                   others: list[np.ndarray]) -> np.ndarray:
    """The crop with the other people followed painted gray (their head-and-torso boxes ``others``, grown by a
    fifth), except where it overlaps this person's own (``own``): the tracker then cannot drift onto a neighbour, and
    its detector, when it re-detects, finds this person (arm-wrestlers fill each other's crops)."""
    x0, y0 = crop[0], crop[1]
    out = None
    for core in others:
        b = core + np.array([-1, -1, 1, 1]) * 0.2 * max(core[2] - core[0], core[3] - core[1])
        bx0, by0 = int(max(0, b[0] - x0)), int(max(0, b[1] - y0))
        bx1, by1 = int(min(image.shape[1], b[2] - x0 + 1)), int(min(image.shape[0], b[3] - y0 + 1))
        if bx1 <= bx0 or by1 <= by0:
            continue
        if out is None:
            out = image.copy()
        out[by0:by1, bx0:bx1] = 128
        if own is not None:  # keep this person's own head and torso
            ox0, oy0 = int(max(0, own[0] - x0)), int(max(0, own[1] - y0))
            ox1, oy1 = int(min(image.shape[1], own[2] - x0 + 1)), int(min(image.shape[0], own[3] - y0 + 1))
            if ox1 > ox0 and oy1 > oy0:
                out[oy0:oy1, ox0:ox1] = image[oy0:oy1, ox0:ox1]
    return image if out is None else out
