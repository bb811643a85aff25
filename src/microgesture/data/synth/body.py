"""Subjects, per-frame pose parameters and the skeleton model of the synthetic benchmark.

Geometry lives in body units U (half a reference shoulder width, about 20 cm), x to the image right, y down, origin
at the subject's rest neck (BODY_25 joint 1). A per-video :class:`Stage` maps U to pixels. The face is a 3D template
in face-70 order (face units: jaw width = 1) rotated by the head's yaw, pitch and roll and projected orthographically.
Hands are 21-point templates shaped by curl, spread and foreshortening; elbows come from two-link inverse kinematics.
Every step is vectorised over frames: a recording of T frames costs a few numpy calls, not T Python iterations.

Sides: "r" is the subject's right, which a frontal camera shows on the image left. Hand index 0 is the right hand
(OpenPose-137 joints 116-136), 1 the left hand (95-115).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microgesture.data.synth.subject import (  # noqa: F401  (re-exported: older imports name them here)
    Difficulty,
    Stage,
    Subject,
    sample_stage,
    sample_subject,
    smooth_noise,
)
from microgesture.layouts import FACE0, FACE70_FLIP, LHAND0, RHAND0

__all__ = ["Difficulty", "Subject", "Stage", "Track", "Body", "ANCHORS", "sample_subject", "sample_stage",
           "smooth_noise", "build_body", "observe"]

TABLE_HIP_Y = 2.7  # mid-hip below the rest neck, in U (seated; hidden by the table)


# ---------------------------------------------------------------------------------------------------------------------
# Face: iBUG-68 + 2 pupils, face units (jaw width 1), z toward the camera. The subject's right half is written out and
# mirrored with the layout's face flip pairs, so the template is symmetric by construction.
def _face_template() -> np.ndarray:
    p = np.full((70, 3), np.nan)
    for k in range(9):  # jaw 0..8 on a half ellipse from the right ear to the chin
        phi = np.pi * k / 16
        p[k] = (-0.5 * np.cos(phi), -0.10 + 0.72 * np.sin(phi), -0.45 * abs(np.cos(phi)) ** 1.5)
    for k in range(17, 22):  # right brow, outer to inner
        t = (k - 17) / 4
        p[k] = (-0.40 + 0.33 * t, -0.27 - 0.06 * np.sin(np.pi * (0.15 + 0.7 * t)), 0.08 * t)
    p[27:31] = [(0, -0.14, 0.08), (0, -0.05, 0.14), (0, 0.03, 0.2), (0, 0.12, 0.27)]  # nose bridge to tip
    p[31], p[32], p[33] = (-0.1, 0.18, 0.12), (-0.05, 0.20, 0.15), (0, 0.21, 0.17)  # nostrils
    p[36:42] = [(-0.31, -0.11, 0), (-0.25, -0.15, 0.02), (-0.16, -0.15, 0.02), (-0.10, -0.11, 0.02),
                (-0.16, -0.08, 0.02), (-0.25, -0.08, 0.02)]  # right eye  # fmt: skip
    p[48:52] = [(-0.19, 0.37, 0.02), (-0.12, 0.315, 0.07), (-0.05, 0.3, 0.09), (0, 0.305, 0.1)]  # outer upper lip
    p[57], p[58], p[59] = (0, 0.445, 0.09), (-0.05, 0.44, 0.08), (-0.12, 0.41, 0.06)  # outer lower lip
    p[60], p[61], p[62] = (-0.16, 0.37, 0.03), (-0.06, 0.36, 0.07), (0, 0.36, 0.08)  # inner upper lip
    p[66], p[67] = (0, 0.375, 0.08), (-0.06, 0.375, 0.07)  # inner lower lip
    p[68] = (-0.205, -0.115, 0.03)  # right pupil
    for a, b in FACE70_FLIP:
        src, dst = (a, b) if not np.isnan(p[a, 0]) else (b, a)
        p[dst] = p[src] * (-1, 1, 1)
    assert not np.isnan(p).any()
    return p


FACE = _face_template()
# Render-only and anchor points attached to the head (face units): skull arc, hairline, cap brim, ears.
_SKULL = [(0.5 * np.cos(a), -0.10 - 0.75 * np.sin(a), -0.2) for a in np.linspace(0, np.pi, 9)]
_HAIRLINE = [(0.47 * np.cos(a), -0.36 - 0.12 * np.sin(a), 0.02) for a in np.linspace(0, np.pi, 7)]
_BRIM = [(0.56, -0.52, -0.05), (0.3, -0.5, 0.55), (-0.3, -0.5, 0.55), (-0.56, -0.52, -0.05)]
HEAD_EXTRA = np.array(_SKULL + _HAIRLINE + _BRIM + [(-0.55, 0.0, -0.5), (0.55, 0.0, -0.5)])
SKULL, HAIRLINE, BRIM, EARS = slice(0, 9), slice(9, 16), slice(16, 20), slice(20, 22)
PIVOT = np.array([0.0, 0.55, -0.45])  # the head turns about the top of the neck, behind the mouth

# Hand-contact anchors. Face anchors (face units) turn with the head; body anchors (U) ride on the torso or are fixed
# in the room (the table). Each side-specific anchor comes as _r / _l.
_FACE_ANCHORS = {
    "forehead": (0, -0.45, 0.05), "hat_brim": (0, -0.63, 0.2), "head_top_r": (-0.22, -0.86, -0.2),
    "head_top_l": (0.22, -0.86, -0.2), "hair_r": (-0.52, -0.45, -0.4), "hair_l": (0.52, -0.45, -0.4),
    "eye_r": (-0.2, -0.12, 0.05), "eye_l": (0.2, -0.12, 0.05), "ear_r": (-0.56, 0.02, -0.5),
    "ear_l": (0.56, 0.02, -0.5), "nose": (0, 0.14, 0.3), "cheek_r": (-0.3, 0.16, 0.0), "cheek_l": (0.3, 0.16, 0.0),
    "jaw_r": (-0.38, 0.42, -0.2), "jaw_l": (0.38, 0.42, -0.2), "upper_lip": (0, 0.28, 0.12), "mouth": (0, 0.37, 0.1),
    "chin": (0, 0.66, 0.02),
}  # fmt: skip
_TORSO_ANCHORS = {  # relative to the neck joint
    "neck_r": (-0.17, -0.28), "neck_l": (0.17, -0.28), "notch": (0, 0.06), "chest": (0, 0.5),
    "collar_r": (-0.28, -0.06), "collar_l": (0.28, -0.06),
}
_SHOULDER_ANCHORS = {  # relative to the shoulder of the named side, x pointing toward the midline
    "shoulder_back_r": (0.25, -0.22), "shoulder_back_l": (0.25, -0.22), "upper_arm_r": (-0.05, 0.65),
    "upper_arm_l": (-0.05, 0.65), "behind_r": (-0.1, 1.35), "behind_l": (-0.1, 1.35),
}
_ROOM_ANCHORS = {  # relative to the rest neck (fixed in the room)
    "forearm_r": (-0.6, 1.75), "forearm_l": (0.6, 1.75), "hip_r": (-1.2, 1.7), "hip_l": (1.2, 1.7),
    "table_mid": (0, 1.78), "hands_high": (0, 1.3), "steeple": (0, 0.95), "gesture_r": (-0.75, 1.05),
    "gesture_l": (0.75, 1.05),
}
ANCHORS: tuple[str, ...] = tuple(_FACE_ANCHORS) + tuple(_TORSO_ANCHORS) + tuple(_SHOULDER_ANCHORS) + tuple(
    _ROOM_ANCHORS
)
_FACE_ANCHOR_PTS = np.array(list(_FACE_ANCHORS.values()), float)

# Hand-21 template: right hand, palm to the camera, fingers up, palm length 1, thumb outward (image left).
_MCP = np.array([[-0.30, -0.92], [-0.10, -1.0], [0.10, -0.95], [0.28, -0.84]])  # index, middle, ring, little
_FINGER_LEN = np.array([0.85, 0.95, 0.88, 0.70])
_FINGER_DIR = np.radians([-8.0, 0.0, 7.0, 16.0])
_SEG = np.array([0.45, 0.30, 0.25])
_BEND = np.radians([55.0, 150.0, 215.0])  # cumulative bend of each phalanx at full curl: the tip folds back
_THUMB_SEG = np.array([0.32, 0.28, 0.24])
_THUMB_BEND = np.radians([15.0, 50.0, 85.0])


class Track:
    """Per-frame pose parameters of one recording (T frames); idle motion and gesture programs write into it.

    Torso/head/face channels are (T,) or (T, k); hand channels have a leading hand axis (2, T, ...) with 0 = right.
    ``anchor`` indexes :data:`ANCHORS` (-1 = none); the wrist goes to the rest position blended toward
    "anchor + off - hand point ``contact``" with weight ``w``.
    """

    def __init__(self, n: int):
        self.n = n
        z = lambda *s: np.zeros((*s,), np.float64)  # noqa: E731
        self.torso, self.roll, self.lean = z(n, 2), z(n), z(n)
        self.shrug, self.chest, self.neck = z(n, 2), z(n), z(n)
        self.head = z(n, 3)  # yaw (+ turns the nose to image right), pitch (+ chin down), roll
        self.mouth = z(n, 5)  # open, press, bite, smile, lift (whole upper lip up)
        self.blink, self.squeeze, self.brow = z(n, 2), z(n, 2), z(n)
        self.anchor = np.full((2, n), -1, np.int64)
        self.w, self.off, self.contact = z(2, n), z(2, n, 2), np.zeros((2, n), np.int64)
        self.theta, self.fs, self.curl, self.spread = z(2, n), np.ones((2, n)), z(2, n, 5), np.ones((2, n))
        self.f1, self.f2, self.elbow = np.ones((2, n)), np.ones((2, n)), z(2, n, 2)
        self.hidden, self.rest = z(2, n), z(2, n, 2)
        self.obj, self.obj_hand, self.obj_angle = np.zeros(n, np.int64), np.zeros(n, np.int64), z(n)


@dataclass
class Body:
    """Clean (noise-free) geometry of a recording, in pixels of the stage's frame.

    Attributes:
        points: (T, 137, 2) OpenPose-137 joints.
        vis: (T, 137) visibility in [0, 1]: 0 = hidden (under the table, behind the body, legs), low = occluded.
        extra: (T, 22, 2) head points for drawing: skull arc, hairline, cap brim, ears.
        behind: (T, 2) arms behind the body (drawn under the torso).
        stage: the video's stage; track: the parameters the geometry came from.
    """

    points: np.ndarray
    vis: np.ndarray
    extra: np.ndarray
    behind: np.ndarray
    stage: Stage
    track: Track


def _rot2(v: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Rotate (..., 2) vectors by angles (...) (image coordinates, y down: positive turns x toward y)."""
    c, s = np.cos(a), np.sin(a)
    return np.stack([c * v[..., 0] - s * v[..., 1], s * v[..., 0] + c * v[..., 1]], axis=-1)


def _head_rotation(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotation: yaw about y, then pitch about x (positive brings the nose down), then roll in-plane."""
    n = len(yaw)
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    o, i = np.zeros(n), np.ones(n)
    ry = np.stack([np.stack([cy, o, sy], -1), np.stack([o, i, o], -1), np.stack([-sy, o, cy], -1)], 1)
    rx = np.stack([np.stack([i, o, o], -1), np.stack([o, cp, sp], -1), np.stack([o, -sp, cp], -1)], 1)
    rz = np.stack([np.stack([cr, -sr, o], -1), np.stack([sr, cr, o], -1), np.stack([o, o, i], -1)], 1)
    return rz @ rx @ ry


def _face_points(subject: Subject, tr: Track) -> np.ndarray:
    """(T, 70, 3) face template with the subject's shape and the per-frame expression, face units."""
    f = np.broadcast_to(FACE, (tr.n, 70, 3)).copy()
    mw, ul, ll, es, jw = subject.face_shape
    f[:, 48:68, 0] *= 1 + mw
    f[:, [49, 50, 51, 52, 53], 1] -= 0.04 * ul  # thicker upper lip moves its outer edge up
    f[:, [55, 56, 57, 58, 59], 1] += 0.06 * ll
    f[:, 36:48, 0] += np.sign(f[0, 36:48, 0]) * 0.05 * es
    f[:, 68:70, 0] += np.sign(f[0, 68:70, 0]) * 0.05 * es
    f[:, 0:17, 0] *= 1 + 0.5 * jw
    op, press, bite, smile, lift = (tr.mouth[:, k][:, None] for k in range(5))
    lower_out, lower_in, upper_out = [55, 56, 57, 58, 59], [65, 66, 67], [49, 50, 51, 52, 53]
    jaw_w = np.sin(np.pi * np.arange(17) / 16) ** 2
    f[:, lower_out, 1] += 0.14 * op - 0.05 * bite
    f[:, lower_in, 1] += 0.13 * op - 0.02 * bite
    f[:, 0:17, 1] += 0.1 * op * jaw_w
    # Pressed lips roll inward: the outer upper lip (face 49-53) moves down onto the inner line (61-63), which stays.
    # Idle "lift" moves the upper lip and the closed inner line together (the lower lip stretches): on the outer
    # contour alone (mmg36's 4 mouth points) a press looks like idle lip motion; the upper lip's thickness 51-62
    # (aim68 has both points) tells them apart.
    f[:, upper_out, 1] += 0.045 * press + 0.01 * bite
    f[:, [49, 50, 51, 52, 53, 61, 62, 63, 65, 66, 67], 1] -= 0.04 * lift
    f[:, lower_out, 1] -= 0.01 * press
    f[:, [48, 54, 60, 64], 0] *= 1 - 0.03 * press + 0.15 * smile
    f[:, [48, 54], 1] -= 0.02 * smile
    for side, (upper, lower, corners, brow, pupil) in enumerate(
        (([37, 38], [40, 41], [36, 39], range(17, 22), 68), ([43, 44], [46, 47], [42, 45], range(22, 27), 69))
    ):
        b, q = tr.blink[:, side][:, None], tr.squeeze[:, side][:, None]
        f[:, upper, 1] += 0.065 * np.clip(b + 0.5 * q, 0, 1) - 0.012 * tr.brow[:, None]
        f[:, lower, 1] -= 0.01 * np.clip(b + 0.5 * q, 0, 1)
        cx = f[:, corners, 0].mean(axis=1, keepdims=True)
        f[:, corners, 0] += (cx - f[:, corners, 0]) * 0.22 * q
        f[:, list(brow), 1] += 0.035 * q - 0.05 * tr.brow[:, None]
        f[:, pupil, 1] += 0.02 * b[:, 0]
    return f


def _hand_local(tr: Track, subject: Subject) -> np.ndarray:
    """(2, T, 21, 2) hand joints relative to the wrist, in U, posed by theta/curl/spread/fs."""
    n = tr.n
    out = np.zeros((2, n, 21, 2))
    curl, spread = tr.curl, tr.spread[..., None]
    # fingers: base direction fanned by spread, phalanges shortened by the cosine of their bend (the finger curls
    # toward the camera, so its image shortens and the tip folds back over the palm)
    ang = _FINGER_DIR * spread  # (2, T, 4)
    u = np.stack([np.sin(ang), -np.cos(ang)], -1)  # (2, T, 4, 2)
    seg = _FINGER_LEN[:, None] * _SEG[None, :] * np.cos(curl[..., 1:, None] * _BEND)  # (2, T, 4, 3)
    joints = _MCP[:, None, :] + np.cumsum(seg[..., None] * u[..., None, :], axis=-2)  # (2, T, 4, 3, 2)
    for f in range(4):
        base = 5 + 4 * f
        out[:, :, base] = _MCP[f]
        out[:, :, base + 1 : base + 4] = joints[:, :, f]
    ct = curl[..., 0]
    ta = np.radians(-52.0) + ct * np.radians(70.0)
    tu = np.stack([np.sin(ta), -np.cos(ta)], -1)  # (2, T, 2)
    tseg = _THUMB_SEG * np.cos(ct[..., None] * _THUMB_BEND)  # (2, T, 3)
    out[:, :, 1] = (-0.22, -0.22)
    out[:, :, 2:5] = out[:, :, 1:2] + np.cumsum(tseg[..., None] * tu[..., None, :], axis=-2)
    out[..., 1] *= tr.fs[..., None]
    side = np.array([-1.0, 1.0])[:, None, None]  # image-x side of each hand: right hand on the left
    out[..., 0] *= -side  # the right hand keeps the template, the left hand is its mirror image
    alpha = (-side[..., 0]) * tr.theta  # theta > 0 tilts the fingers toward the body midline
    return _rot2(out, alpha[..., None]) * subject.hand


def _two_link(shoulder: np.ndarray, target: np.ndarray, l1: np.ndarray, l2: np.ndarray,
              pref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elbow and reachable wrist for (..., 2) shoulder/target, segment lengths (...), preferred elbow side (..., 2)."""
    d_vec = target - shoulder
    d = np.linalg.norm(d_vec, axis=-1)
    u = d_vec / np.maximum(d, 1e-6)[..., None]
    dc = np.clip(d, np.abs(l1 - l2) + 1e-3, l1 + l2 - 1e-3)
    wrist = shoulder + u * dc[..., None]
    a = (l1**2 - l2**2 + dc**2) / (2 * dc)
    h = np.sqrt(np.maximum(l1**2 - a**2, 0.0))
    nrm = np.stack([-u[..., 1], u[..., 0]], -1)
    sign = np.where((nrm * pref).sum(-1) >= 0, 1.0, -1.0)
    elbow = shoulder + u * a[..., None] + nrm * (h * sign)[..., None]
    return elbow, wrist


def build_body(subject: Subject, stage: Stage, tr: Track) -> Body:
    """Turn a :class:`Track` into clean OpenPose-137 geometry (pixels) and per-joint visibility."""
    # long: one pass of geometry: every part is placed from the joints computed just before it
    n = tr.n
    hip = np.array([0.0, TABLE_HIP_Y])
    roll = tr.roll
    neck = hip + _rot2(tr.torso - hip, roll)
    sh = subject.shoulder * (1 + tr.chest)
    shoulders = np.stack([neck + _rot2(np.stack([s * sh, 0.06 - tr.shrug[:, k]], -1), roll)
                          for k, s in enumerate((-1.0, 1.0))])  # (2, T, 2)  # fmt: skip
    pivot = neck + _rot2(np.stack([np.zeros(n), -subject.neck * (1 + tr.neck)], -1), roll)
    # head: face + extras + face anchors, rotated about the pivot and projected
    face3 = _face_points(subject, tr)
    pts3 = np.concatenate([face3, np.broadcast_to(HEAD_EXTRA, (n, *HEAD_EXTRA.shape)),
                           np.broadcast_to(_FACE_ANCHOR_PTS, (n, *_FACE_ANCHOR_PTS.shape))], axis=1)  # fmt: skip
    rot = _head_rotation(tr.head[:, 0], tr.head[:, 1], tr.head[:, 2] + roll)
    rel = np.einsum("tij,tpj->tpi", rot, pts3 - PIVOT)
    head = pivot[:, None, :] + rel[..., :2] * subject.face
    depth = rel[..., 2]
    face, extra, fanch = head[:, :70], head[:, 70 : 70 + len(HEAD_EXTRA)], head[:, 70 + len(HEAD_EXTRA) :]
    # anchors (T, A, 2)
    torso_a = neck[:, None] + _rot2(np.array(list(_TORSO_ANCHORS.values()), float)[None], roll[:, None])
    sh_a = []
    for name, off in _SHOULDER_ANCHORS.items():
        k = 0 if name.endswith("_r") else 1
        inward = 1.0 if k == 0 else -1.0
        sh_a.append(shoulders[k] + _rot2(np.array([inward * off[0], off[1]]), roll))
    room_a = np.broadcast_to(np.array(list(_ROOM_ANCHORS.values()), float), (n, len(_ROOM_ANCHORS), 2))
    anchors = np.concatenate([fanch, torso_a, np.stack(sh_a, 1), room_a], axis=1)
    # hands and arms
    local = _hand_local(tr, subject)  # (2, T, 21, 2)
    t_idx = np.arange(n)
    a_pos = anchors[t_idx[None], np.maximum(tr.anchor, 0)]  # (2, T, 2)
    contact = local[np.arange(2)[:, None], t_idx[None], tr.contact]
    w = tr.w[..., None]
    target = (1 - w) * tr.rest + w * (a_pos + tr.off - contact)
    pref = tr.elbow / np.maximum(np.linalg.norm(tr.elbow, axis=-1, keepdims=True), 1e-6)
    # Projected segment lengths: foreshortened by f1/f2, but a hand out of reach unfolds the arm (up to its true
    # lengths) rather than being dragged along, and a hand close to the shoulder folds it further.
    d = np.linalg.norm(target - shoulders, axis=-1)
    l2 = np.minimum(np.maximum(subject.forearm * tr.f2, d - subject.upper_arm * tr.f1 + 1e-2), subject.forearm)
    l1 = np.minimum(np.maximum(subject.upper_arm * tr.f1, d - l2 + 1e-2), subject.upper_arm)
    l1 = np.maximum(np.minimum(l1, d + l2 - 1e-2), 0.2)
    elbow, wrist = _two_link(shoulders, target, l1, l2, pref)
    hands = wrist[:, :, None] + local
    # assemble OpenPose-137 (T, 137, 2) in U
    p = np.zeros((n, 137, 2))
    p[:, 0] = face[:, 30]
    p[:, 1] = neck
    p[:, 2], p[:, 3], p[:, 4] = shoulders[0], elbow[0], wrist[0]
    p[:, 5], p[:, 6], p[:, 7] = shoulders[1], elbow[1], wrist[1]
    mid = np.stack([tr.torso[:, 0] * 0.3, np.full(n, TABLE_HIP_Y)], -1)
    p[:, 8] = mid
    for j, (dx, dy) in {9: (-0.55, 0), 12: (0.55, 0), 10: (-0.6, 0.9), 13: (0.6, 0.9), 11: (-0.6, 2.0),
                        14: (0.6, 2.0), 22: (-0.65, 2.1), 23: (-0.75, 2.1), 24: (-0.6, 2.05), 19: (0.65, 2.1),
                        20: (0.75, 2.1), 21: (0.6, 2.05)}.items():  # fmt: skip
        p[:, j] = mid + (dx, dy)
    p[:, 15], p[:, 16] = face[:, 68], face[:, 69]
    p[:, 17], p[:, 18] = extra[:, EARS.start], extra[:, EARS.start + 1]
    p[:, FACE0 : FACE0 + 70] = face
    p[:, RHAND0 : RHAND0 + 21] = hands[0]
    p[:, LHAND0 : LHAND0 + 21] = hands[1]
    # leaning toward the camera enlarges the upper body about the hips
    scale = (1 + tr.lean)[:, None, None]
    p = hip + (p - hip) * scale
    extra = hip + (extra - hip) * scale
    vis = _visibility(p, depth, tr, stage)
    behind = (tr.hidden > 0.9).T
    return Body(points=stage.to_px(p), vis=vis, extra=stage.to_px(extra), behind=behind, stage=stage, track=tr)


def _visibility(p: np.ndarray, depth: np.ndarray, tr: Track, stage: Stage) -> np.ndarray:
    """(T, 137) visibility from the geometry: table, hidden arms, hands over the face, head turns, closed eyes."""
    n = len(p)
    vis = np.ones((n, 137))
    vis[:, [8, 9, 12]] = 0.3  # hips behind the table: OpenPose guesses them, with low confidence
    vis[:, [10, 11, 13, 14, 19, 20, 21, 22, 23, 24]] = 0.0  # legs under the table
    for k, (j0, wrist, elbow) in enumerate(((RHAND0, 4, 3), (LHAND0, 7, 6))):
        h = slice(j0, j0 + 21)
        hid = tr.hidden[k][:, None]
        vis[:, h] *= 1 - hid
        vis[:, wrist] *= 1 - 0.7 * tr.hidden[k]
        vis[:, elbow] *= 1 - 0.4 * tr.hidden[k]
        below = p[:, h, 1] > stage.table_front + 0.03
        vis[:, h] = np.where(below, 0.0, vis[:, h])
        vis[:, wrist] = np.where(p[:, wrist, 1] > stage.table_front + 0.05, 0.0, vis[:, wrist])
        vis[:, elbow] = np.where(p[:, elbow, 1] > stage.table_front + 0.15, 0.0, vis[:, elbow])
    # face points covered by a visible hand
    face = p[:, FACE0 : FACE0 + 70]
    hands = np.concatenate([p[:, RHAND0 : RHAND0 + 21], p[:, LHAND0 : LHAND0 + 21]], axis=1)
    hvis = np.concatenate([vis[:, RHAND0 : RHAND0 + 21], vis[:, LHAND0 : LHAND0 + 21]], axis=1) > 0.5
    covered = np.zeros((n, 70), bool)
    near = np.flatnonzero((((hands - p[:, None, 0]) ** 2).sum(-1) < 1.0).any(-1))  # a hand within 1 U of the nose
    if len(near):
        d2 = ((face[near, :, None] - hands[near, None]) ** 2).sum(-1)
        covered[near] = ((d2 < 0.12**2) & hvis[near, None]).any(-1)
    vis[:, FACE0 : FACE0 + 70] = np.where(covered, 0.15, 1.0)
    vis[:, 0] = np.where(covered[:, 30], 0.15, 1.0)
    # far side of a turned head: points with depth well behind the face fade
    fd = depth[:, :70]
    vis[:, FACE0 : FACE0 + 70] *= np.clip(1.0 + 2.5 * (fd + 0.1), 0.1, 1.0)
    ear_d = depth[:, 70 + EARS.start : 70 + EARS.stop]
    vis[:, [17, 18]] = np.clip(1.0 + 3.0 * (ear_d + 0.2), 0.05, 1.0)
    vis[:, [FACE0 + 68, FACE0 + 69]] *= np.clip(1.0 - tr.blink, 0.2, 1.0)  # closed eyes hide the pupils
    vis[:, [15, 16]] = vis[:, [FACE0 + 68, FACE0 + 69]]
    return vis


from microgesture.data.synth.detector import observe  # noqa: E402  (re-exported)
