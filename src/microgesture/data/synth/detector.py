"""The simulated pose estimator: OpenPose-137 output (x, y, confidence) from the clean geometry of a recording.

Modelled on OpenPose 1.3 as it behaves on a real press conference (one video, 21,068 frames; docs/synthetic.md):
the body network finds or misses each joint; the face and hand networks, once they have a box, write all their
points, each with a confidence (occluded points get a low one instead of none), so missing face and hand points come
almost only from whole detections lost (a hand under the table, a lost track for a few frames). Confidences are
logit-normal per part (:class:`~.subject.Detector`). The raw output carries OpenPose's quirks: frames with nobody,
tiny negative confidences, points guessed just outside the image at near-zero confidence; :func:`observe` returns it
raw, and :func:`microgesture.data.sanitise.sanitise` turns it into what an import writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from microgesture.data.synth.subject import Difficulty, Subject, smooth_noise
from microgesture.layouts import FACE0, LHAND0, RHAND0

if TYPE_CHECKING:
    from microgesture.data.synth.body import Body

__all__ = ["observe"]


def _runs(rng: np.random.Generator, n: int, k: int, rate: float, run: tuple[int, int]) -> np.ndarray:
    """(n, k) bool: runs of ``run`` frames covering about ``rate`` of the frames, per column (fixed draw count)."""
    mean_run = (run[0] + run[1] - 1) / 2
    start = rng.random((n, k)) < rate / mean_run
    length = rng.integers(run[0], run[1], (n, k))
    out = np.zeros((n, k), bool)
    for j in range(k):
        for t in np.flatnonzero(start[:, j]):
            out[t : t + length[t, j], j] = True
    return out


def observe(body: Body, subject: Subject, rng: np.random.Generator, knobs: Difficulty) -> np.ndarray:
    """Simulate OpenPose on the clean geometry: raw (T, 137, 3) float32 x, y, confidence; missing = (0, 0, 0).

    Jitter is white plus slow drift, per part. Body joints drop out one by one (more when occluded); face and hand
    points are lost as whole detections (face-detector misses, hand-tracking losses, a hand hidden under the table or
    behind the body). The number of random draws does not depend on the pose, so two tracks with the same noise
    generator get the same noise.
    """
    # long: one pass of noise draws in a fixed order, so equal generators give equal noise
    d = knobs.detector
    p, vis = body.points, body.vis
    n = len(p)
    upx = body.stage.upx
    part = np.zeros(137, np.int64)  # 0 body, 1 face, 2 hands
    part[FACE0 : FACE0 + 70] = 1
    part[LHAND0:] = 2
    sig = np.array([subject.jitter_body, subject.jitter_face, subject.jitter_hand])[part] * upx * knobs.jitter
    white = rng.standard_normal((n, 137, 2))
    drift = smooth_noise(rng, n, (137, 2), knot=8.0)
    xy = p + sig[:, None] * (0.8 * white + 0.6 * drift)
    outlier = rng.random((n, 137)) < d.outliers  # rare wild points (detector swaps)
    xy = np.where(outlier[..., None], xy + rng.normal(0, 0.3 * upx, (n, 137, 2)), xy)
    # confidence: logit-normal per part, a per-video offset per hand, lowered by occlusion
    mu = np.array([d.conf_body[0], d.conf_face[0], d.conf_hand[0]])[part]
    spread = np.array([d.conf_body[1], d.conf_face[1], d.conf_hand[1]])[part]
    side = d.hand_side_spread * rng.standard_normal(2)
    mu[RHAND0:] += side[0]
    mu[LHAND0:RHAND0] += side[1]
    z = (0.7 * smooth_noise(rng, n, (137,), knot=10.0) + 0.7 * rng.standard_normal((n, 137))) / 0.9
    logit = mu + spread * z + d.occlusion * np.log(np.maximum(vis, 0.01))
    conf = 1.0 / (1.0 + np.exp(-logit))
    # what is missing: body joints one by one; faces and hands as whole detections
    drop_body = subject.drop_body * knobs.dropout
    dropped = (rng.random((n, 137)) < (drop_body + 0.6 * (1.0 - vis)) * (part == 0)) | (vis < 0.02)
    if not subject.hips_visible:
        dropped[:, [8, 9, 12]] = True
    face_lost = _runs(rng, n, 1, d.face_loss * subject.drop_face * knobs.dropout, (2, 12))[:, 0]
    hand_rate = d.hand_loss * subject.drop_hand * knobs.dropout * np.exp(0.8 * rng.standard_normal(2))  # per hand
    lost = np.stack([_runs(rng, n, 1, float(hand_rate[k]), (3, 15))[:, 0] for k in range(2)], 1)
    for k, (j0, wrist) in enumerate(((RHAND0, 4), (LHAND0, 7))):
        hidden = vis[:, j0 : j0 + 21].mean(1) < 0.3  # under the table or behind the body: no hand box
        lost[:, k] |= hidden | (vis[:, wrist] < 0.02)
    dropped[:, FACE0 : FACE0 + 70] |= face_lost[:, None]
    dropped[:, RHAND0:] |= lost[:, 0:1]
    dropped[:, LHAND0:RHAND0] |= lost[:, 1:2]
    nobody = _runs(rng, n, 1, d.nobody, d.nobody_run)[:, 0]
    # quirks of the raw files: tiny negative confidences on weak face/hand points; points just outside the image are
    # written at near-zero confidence (OpenPose extrapolates a joint past the edge), farther ones not at all
    neg = (rng.random((n, 137)) < d.neg_conf) & (part > 0)
    conf = np.where(neg, -rng.uniform(0, 1.5e-4, (n, 137)), np.clip(conf, 0.06, 0.99))
    w, h = body.stage.frame_size
    x, y = xy[..., 0], xy[..., 1]
    outside = (x < 0) | (y < 0) | (x > w - 1) | (y > h - 1)
    m = d.edge_guess
    near = outside & (x > -m * w) & (y > -m * h) & (x < (1 + m) * w) & (y < (1 + m) * h) & (part == 0)
    guess = rng.uniform(0.005, 0.045, (n, 137))
    conf = np.where(near, guess, conf)
    dropped |= outside & ~near
    dropped |= nobody[:, None]
    out = np.concatenate([xy, conf[..., None]], axis=-1).astype(np.float32)
    out[dropped] = 0.0
    return out
