"""The simulated pose estimator: OpenPose-137 output (x, y, confidence) from the clean geometry of a recording."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from microgesture.data.synth.subject import Difficulty, Subject, smooth_noise
from microgesture.layouts import FACE0, LHAND0, RHAND0

if TYPE_CHECKING:
    from microgesture.data.synth.body import Body

__all__ = ["observe"]


def observe(body: Body, subject: Subject, rng: np.random.Generator, knobs: Difficulty) -> np.ndarray:
    """Simulate a pose estimator on the clean geometry: (T, 137, 3) float32 x, y, confidence; missing = (0, 0, 0).

    Jitter is white plus slow drift, per part; dropouts are per joint, plus bursts that lose a whole hand; hidden or
    occluded joints get low confidence and are dropped more often. The number of random draws does not depend on the
    pose, so two tracks with the same noise generator get the same noise.
    """
    p, vis = body.points, body.vis
    n = len(p)
    upx = body.stage.upx
    part = np.zeros(137, np.int64)  # 0 body, 1 face, 2 hands
    part[FACE0 : FACE0 + 70] = 1
    part[LHAND0:] = 2
    sig = np.array([subject.jitter_body, subject.jitter_face, subject.jitter_hand])[part] * upx * knobs.jitter
    drop = np.array([subject.drop_body, subject.drop_face, subject.drop_hand])[part] * knobs.dropout
    base = np.array([0.85, 0.75, 0.55])[part]
    white = rng.standard_normal((n, 137, 2))
    drift = smooth_noise(rng, n, (137, 2), knot=8.0)
    xy = p + sig[:, None] * (0.8 * white + 0.6 * drift)
    conf = base * vis * rng.uniform(0.7, 1.15, (n, 137))
    # whole-hand bursts: the detector loses a hand for a run of frames (Markov start/stop)
    start = rng.random((n, 2)) < drop[LHAND0] * 0.08
    length = rng.integers(3, 15, (n, 2))
    lost = np.zeros((n, 2), bool)
    for k in range(2):
        for t in np.flatnonzero(start[:, k]):
            lost[t : t + length[t, k], k] = True
    u = rng.random((n, 137))
    dropped = (u < drop + 0.6 * (1.0 - vis)) | (vis < 0.02)
    dropped[:, LHAND0:RHAND0] |= lost[:, 1:2]
    dropped[:, RHAND0:] |= lost[:, 0:1]
    outlier = rng.random((n, 137)) < 0.002  # rare wild points (detector swaps)
    xy = np.where(outlier[..., None], xy + rng.normal(0, 0.3 * upx, (n, 137, 2)), xy)
    conf = np.clip(conf, 0.02, 0.99)
    if not subject.hips_visible:
        dropped[:, [8, 9, 12]] = True
    # A pose estimator reports nothing outside the image: such points are missing, as OpenPose writes them (0, 0, 0).
    w, h = body.stage.frame_size
    dropped |= (xy[..., 0] < 0) | (xy[..., 1] < 0) | (xy[..., 0] > w - 1) | (xy[..., 1] > h - 1)
    out = np.concatenate([xy, conf[..., None]], axis=-1).astype(np.float32)
    out[dropped] = 0.0
    return out
