"""Crops where the cue is: body, face (or mouth) and both hands of an OpenPose-137 skeleton, tiled 2 x 2.

The papers' RGB branches see one crop around the whole person (AIM: the skeleton box + 20 %). At the sizes a CPU or a
batch of Video Swin clips affords, a face or a hand then spans a few pixels, and the cues that keypoints miss and a
camera sees -- lips pressed or bitten, an object in the hand, a collar being adjusted -- fall below one pixel.
``input.crop: parts`` (:class:`~microgesture.inputs.rgb.RGBPipeline`) gives the model four crops instead, each S/2
x S/2 of an S x S mosaic (same model, same compute):

    body (the clip's skeleton box) | face (follows the face)
    ---------------------------------------------------------
    left hand (follows it)         | right hand (follows it)

"Left" and "right" are the person's. ``input.parts`` may name another four, in mosaic order (left to right, top to
bottom), among :data:`PARTS`: ``mouth`` is a closer crop of the lips (``MOUTH_SIDE``), where a press of the lips moves
0.8 of a pixel of a 48-pixel mosaic rather than 0.3 in the face panel (bench/cue_pixels.py). The face, mouth and hand
crops are squares of a fixed side per clip (a multiple of the clip's median shoulder width) centred on the part in each
frame, so a hand moving to the face stays in its crop at the same scale. A part missing in a frame is centred where it
was last seen (else next seen); a part never seen in the clip falls back to its body joint (nose, wrist), and without
that to the body box. Flipping mirrors every crop and swaps the two hand panels: the flipped sample is the mirrored
person, whose left hand is the original right one (as a flipped skeleton swaps its left and right joints).
"""

from __future__ import annotations

import numpy as np

from microgesture.inputs.geometry import Box
from microgesture.layouts import FACE0, LHAND0, RHAND0

__all__ = ["PARTS", "DEFAULT_PARTS", "FACE_SIDE", "HAND_SIDE", "MOUTH_SIDE", "check_parts", "part_tracks", "tile"]

PARTS = ("body", "face", "mouth", "left_hand", "right_hand")
DEFAULT_PARTS = ("body", "face", "left_hand", "right_hand")
FACE_SIDE = 0.9  # face crop side, in shoulder widths (a face is about 0.45 shoulder widths wide: the face and a hand
# raised to it)
HAND_SIDE = 0.7  # hand crop side, in shoulder widths (a hand with an object in it)
MOUTH_SIDE = 0.35  # mouth crop side, in shoulder widths (the mouth is about 0.2 wide; room for a hand at the lips)
# per part: its points, else these body joints (face: nose, eyes, ears; mouth: nose; hands: wrist), and its side
_TRACKED = {"face": (slice(FACE0, FACE0 + 70), (0, 15, 16, 17, 18), FACE_SIDE),
            "mouth": (slice(FACE0 + 48, FACE0 + 68), (0,), MOUTH_SIDE),
            "left_hand": (slice(LHAND0, LHAND0 + 21), (7,), HAND_SIDE),
            "right_hand": (slice(RHAND0, RHAND0 + 21), (4,), HAND_SIDE)}


def check_parts(parts) -> tuple[str, ...]:
    """``parts`` as a tuple of four distinct names of :data:`PARTS`; ValueError naming what is wrong."""
    parts = tuple(parts)
    bad = [p for p in parts if p not in PARTS]
    if bad or len(parts) != 4 or len(set(parts)) != 4:
        raise ValueError(f"parts must be four distinct names among {', '.join(PARTS)} (the 2 x 2 mosaic), got "
                         f"{list(parts)}")
    if ("left_hand" in parts) != ("right_hand" in parts):  # a flipped sample shows the other hand in that panel
        raise ValueError(f"parts must hold both hands or neither (flipping swaps them), got {list(parts)}")
    return parts


def _centres(skel: np.ndarray, points: slice, joints: tuple[int, ...], threshold: float) -> np.ndarray:
    """(T, 2) per-frame centre of a part (its points, else its body joints), NaN where neither is seen."""
    out = np.full((len(skel), 2), np.nan)
    for src in (skel[:, points], skel[:, list(joints)]):
        ok = (src[..., 2] > threshold) & np.isfinite(src[..., :2]).all(-1)
        cnt = ok.sum(1)
        fill = np.isnan(out[:, 0]) & (cnt > 0)
        xy = np.where(ok[..., None], src[..., :2], 0.0).sum(1) / np.maximum(cnt, 1)[:, None]
        out[fill] = xy[fill]
    return out


def _hold(c: np.ndarray) -> np.ndarray:
    """Fill NaN rows with the last seen centre (the next seen one before the first sighting)."""
    c = c.copy()
    seen = np.flatnonzero(~np.isnan(c[:, 0]))
    if not len(seen):
        return c
    idx = np.maximum.accumulate(np.where(~np.isnan(c[:, 0]), np.arange(len(c)), -1))
    idx[idx < 0] = seen[0]
    return c[idx]


def part_tracks(skel: np.ndarray, body: Box, *, threshold: float = 0.05,
                parts: tuple[str, ...] = DEFAULT_PARTS) -> list[list[Box]]:
    """Per part of ``parts`` the box of each frame of ``skel`` (T, 137, 3) in the skeleton's pixel frame.

    The body box is the clip's ``body`` box in every frame; face, mouth and hands are squares of side
    ``FACE_SIDE`` / ``MOUTH_SIDE`` / ``HAND_SIDE`` shoulder widths (the clip's median; a third of the body box's
    width when the shoulders are never both seen) centred on the part (see the module docstring for missing parts)."""
    skel = np.asarray(skel, np.float64)
    t = len(skel)
    sh = skel[:, [2, 5]]
    both = (sh[..., 2] > threshold).all(1)
    ref = float(np.median(np.hypot(*(sh[both, 0, :2] - sh[both, 1, :2]).T))) if both.any() else body.width / 3
    ref = max(ref, 4.0)
    cx, cy = (body.x0 + body.x1) / 2, (body.y0 + body.y1) / 2
    out = []
    for part in check_parts(parts):
        if part == "body":
            out.append([body] * t)
            continue
        points, joints, side = _TRACKED[part]
        c = _hold(_centres(skel, points, joints, threshold))
        c[np.isnan(c[:, 0])] = (cx, cy)
        half = side * ref / 2
        out.append([Box(float(x - half), float(y - half), float(x + half), float(y + half)) for x, y in c])
    return out


def tile(panels: np.ndarray, *, flip: bool, parts: tuple[str, ...] = DEFAULT_PARTS) -> np.ndarray:
    """(4, T, s, s, 3) crops in ``parts`` order -> (T, 2s, 2s, 3) mosaic; ``flip``: the crops were mirrored, so the
    right hand's crop shows a left hand and goes to the left-hand panel (and vice versa)."""
    panels = list(panels)
    if flip and "left_hand" in parts and "right_hand" in parts:
        i, j = parts.index("left_hand"), parts.index("right_hand")
        panels[i], panels[j] = panels[j], panels[i]
    a, b, c, d = panels
    return np.concatenate([np.concatenate([a, b], axis=2), np.concatenate([c, d], axis=2)], axis=1)
