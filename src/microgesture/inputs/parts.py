"""Crops where the cue is: body, face and both hands of an OpenPose-137 skeleton, tiled into one 2 x 2 image.

The papers' RGB branches see one crop around the whole person (AIM: the skeleton box + 20 %). At the sizes a CPU or a
batch of Video Swin clips affords, a face or a hand then spans a few pixels, and the cues that keypoints miss and a
camera sees -- lips pressed or bitten, an object in the hand, a collar being adjusted -- fall below one pixel.
``input.crop: parts`` (:class:`~microgesture.inputs.rgb.RGBPipeline`) gives the model four crops instead, each S/2
x S/2 of an S x S mosaic (same model, same compute):

    body (the clip's skeleton box) | face (follows the face)
    ---------------------------------------------------------
    left hand (follows it)         | right hand (follows it)

"Left" and "right" are the person's. The face and hand crops are squares of a fixed side per clip (a multiple of the
clip's median shoulder width) centred on the part in each frame, so a hand moving to the face stays in its crop at
the same scale. A part missing in a frame is centred where it was last seen (else next seen); a part never seen in
the clip falls back to its body joint (nose, wrist), and without that to the body box. Flipping mirrors every crop
and swaps the two hand panels: the flipped sample is the mirrored person, whose left hand is the original right one
(as a flipped skeleton swaps its left and right joints).
"""

from __future__ import annotations

import numpy as np

from microgesture.inputs.geometry import Box
from microgesture.layouts import FACE0, LHAND0, RHAND0

__all__ = ["PARTS", "FACE_SIDE", "HAND_SIDE", "part_tracks", "tile"]

PARTS = ("body", "face", "left_hand", "right_hand")
FACE_SIDE = 0.9  # face crop side, in shoulder widths (a face is about 0.45 shoulder widths wide: the face and a hand
# raised to it)
HAND_SIDE = 0.7  # hand crop side, in shoulder widths (a hand with an object in it)
_FACE = (slice(FACE0, FACE0 + 70), (0, 15, 16, 17, 18))  # face points, else nose, eyes, ears
_HANDS = ((slice(LHAND0, LHAND0 + 21), (7,)), (slice(RHAND0, RHAND0 + 21), (4,)))  # hand points, else wrist


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


def part_tracks(skel: np.ndarray, body: Box, *, threshold: float = 0.05) -> list[list[Box]]:
    """Per part (:data:`PARTS`) the box of each frame of ``skel`` (T, 137, 3) in the skeleton's pixel frame.

    The body box is the clip's ``body`` box in every frame; face and hands are squares of side ``FACE_SIDE`` /
    ``HAND_SIDE`` shoulder widths (the clip's median; a third of the body box's width when the shoulders are never
    both seen) centred on the part (see the module docstring for missing parts)."""
    skel = np.asarray(skel, np.float64)
    t = len(skel)
    sh = skel[:, [2, 5]]
    both = (sh[..., 2] > threshold).all(1)
    ref = float(np.median(np.hypot(*(sh[both, 0, :2] - sh[both, 1, :2]).T))) if both.any() else body.width / 3
    ref = max(ref, 4.0)
    cx, cy = (body.x0 + body.x1) / 2, (body.y0 + body.y1) / 2
    out = [[body] * t]
    for (points, joints), side in ((_FACE, FACE_SIDE), (_HANDS[0], HAND_SIDE), (_HANDS[1], HAND_SIDE)):
        c = _hold(_centres(skel, points, joints, threshold))
        c[np.isnan(c[:, 0])] = (cx, cy)
        half = side * ref / 2
        out.append([Box(float(x - half), float(y - half), float(x + half), float(y + half)) for x, y in c])
    return out


def tile(panels: np.ndarray, *, flip: bool) -> np.ndarray:
    """(4, T, s, s, 3) crops in :data:`PARTS` order -> (T, 2s, 2s, 3) mosaic; ``flip``: the crops were mirrored, so
    the right hand's crop shows a left hand and goes to the left-hand panel (and vice versa)."""
    body, face, left, right = panels
    if flip:
        left, right = right, left
    return np.concatenate([np.concatenate([body, face], axis=2), np.concatenate([left, right], axis=2)], axis=1)
