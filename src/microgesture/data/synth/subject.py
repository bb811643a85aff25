"""Subjects, their per-video placement in the frame, the difficulty knobs, and smooth noise.

Lengths are in body units U (half a reference shoulder width, about 20 cm); a per-video :class:`Stage` maps U to
pixels of the frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Detector", "Difficulty", "Subject", "Stage", "sample_subject", "sample_stage", "smooth_noise"]


@dataclass(frozen=True, kw_only=True)
class Detector:
    """The simulated OpenPose (detector.py), each knob set from one real press conference (21,068 frames).

    Attributes:
        conf_body, conf_face, conf_hand: (median, spread) of a detected point's confidence in logits, before
            occlusion lowers it (real detected points p10/p50/p90: body 0.33/0.58/0.86, face 0.53/0.79/0.89, hands
            0.12/0.38/0.69 and 0.15/0.52/0.79).
        hand_side_spread: per-video logit spread between the two hands (real: the hands' medians differ by 0.14).
        occlusion: logits lost per unit of log visibility (a hand over the face, the far side of a turned head).
        face_loss: share of frames whose face the detector misses, in runs (real face points missing: 0.8%).
        hand_loss: share of frames a visible hand is lost, in runs, per video times a log-normal per hand (real hand
            points missing 0.9% and 4.8%, with the hands under the table).
        nobody, nobody_run: share of frames with nobody found (real about 1%), in runs of this many frames.
        neg_conf: share of face and hand points written with a tiny negative confidence (real files: down to
            -1.5e-4; the rate is not measured, the importer clamps them).
        edge_guess: body points up to this fraction of the frame outside it are written at near-zero confidence
            (real: e.g. (-19.5, 652.6) at 0.02), farther ones as missing.
        outliers: share of wild points (detector swaps), 0.3 shoulder widths off.
    """

    conf_body: tuple[float, float] = (0.4, 0.9)
    conf_face: tuple[float, float] = (1.3, 0.65)
    conf_hand: tuple[float, float] = (-0.15, 1.05)
    hand_side_spread: float = 0.35
    occlusion: float = 1.0
    face_loss: float = 0.006
    hand_loss: float = 0.004
    nobody: float = 0.01
    nobody_run: tuple[int, int] = (5, 40)
    neg_conf: float = 2e-4
    edge_guess: float = 0.08
    outliers: float = 0.001


@dataclass(frozen=True, kw_only=True)
class Difficulty:
    """Difficulty knobs of the benchmark, in one place so calibration can tune them.

    Attributes:
        jitter: multiplier on each subject's keypoint noise.
        dropout: multiplier on each subject's joint dropout rates (missing joints: confidence 0).
        gesture_amp: range of the per-subject gesture amplitude (1 = the nominal size of every program).
        clip_amp_spread: log-normal spread of the amplitude from clip to clip.
        idle_amp: multiplier on idle motion: breathing, sway, head drift and glances, hand drift.
        subject_var: multiplier on between-subject variation (proportions, camera, speed, idle style).
        talk_prob: fraction of time a subject of average talkativeness is speaking (mouth motion).
        glance_rate: head turns (looking at a journalist) per second.
        detector: the simulated pose estimator (:class:`Detector`).
    """

    jitter: float = 1.0
    dropout: float = 1.0
    gesture_amp: tuple[float, float] = (0.55, 1.15)
    clip_amp_spread: float = 0.25
    idle_amp: float = 1.0
    subject_var: float = 1.0
    talk_prob: float = 0.35
    glance_rate: float = 0.08
    detector: Detector = field(default_factory=Detector)


@dataclass(frozen=True, kw_only=True)
class Subject:
    """One synthetic person: body, idle style, gesture style, pose-estimation noise and appearance.

    Lengths are in U, durations in seconds, jitter in U (scaled to pixels with the stage), colours RGB.
    """

    id: str
    shoulder: float
    upper_arm: float
    forearm: float
    neck: float
    face: float
    hand: float
    face_shape: tuple[float, ...]  # mouth width, upper lip, lower lip, eye spacing, jaw width (relative deltas)
    cam_x: float
    cam_y: float
    scale: float  # pixels per U at 1280x720
    breath_period: float
    breath_amp: float
    sway_amp: float
    head_amp: float
    hand_drift: float
    blink_rate: float
    talkative: float
    rest_styles: tuple[float, float, float]  # hands apart / clasped / one hand in the lap
    speed: float
    amp: float
    right_handed: bool
    dominance: float  # probability that a one-hand gesture uses the dominant hand
    jitter_body: float
    jitter_face: float
    jitter_hand: float
    drop_body: float
    drop_face: float  # multiplier of Detector.face_loss
    drop_hand: float  # multiplier of Detector.hand_loss
    hips_visible: bool
    skin: tuple[int, int, int]
    shirt: tuple[int, int, int]
    jacket: tuple[int, int, int]
    hair: tuple[int, int, int]
    hair_style: int  # 0 short, 1 long, 2 shaved
    hat: bool
    hat_color: tuple[int, int, int]
    lips: tuple[int, int, int]


def _clip(x: float, lo: float, hi: float) -> float:
    return float(min(max(x, lo), hi))


def sample_subject(rng: np.random.Generator, subject_id: str, knobs: Difficulty, *, hat: bool | None = None) -> Subject:
    """Draw a subject. ``hat`` forces the cap (the "touch hat" class needs subjects who wear one)."""
    v = knobs.subject_var

    def var(mean: float, rel: float, lo: float, hi: float) -> float:
        return _clip(mean * (1.0 + v * rel * rng.standard_normal()), lo, hi)

    skin_tones = np.array([[241, 206, 180], [224, 172, 130], [198, 134, 94], [141, 85, 54], [95, 60, 40]], float)
    skin = skin_tones[rng.integers(len(skin_tones))] * rng.uniform(0.92, 1.05)
    palette = np.array([[20, 30, 60], [200, 200, 205], [240, 240, 240], [30, 30, 30], [180, 30, 40], [30, 90, 160],
                        [40, 120, 60], [250, 200, 40], [90, 40, 120], [230, 120, 30]], float)  # fmt: skip
    shirt, jacket = palette[rng.choice(len(palette), 2, replace=False)]
    hair = np.array([[25, 20, 15], [70, 45, 25], [150, 110, 60], [210, 180, 120], [120, 120, 120]], float)
    lo_amp, hi_amp = knobs.gesture_amp
    styles = rng.dirichlet([3.0, 1.5, 0.3])  # a hand in the lap (under the table) is rare: real hands 1-5% missing
    right = bool(rng.random() < 0.85)  # about 85% right-handed
    col = lambda c: tuple(int(x) for x in np.clip(c, 0, 255))  # noqa: E731
    return Subject(
        id=subject_id,
        shoulder=var(1.0, 0.07, 0.8, 1.2),
        upper_arm=var(1.5, 0.06, 1.3, 1.7),
        forearm=var(1.3, 0.06, 1.1, 1.5),
        neck=var(0.48, 0.1, 0.38, 0.6),
        face=var(0.72, 0.07, 0.6, 0.85),
        hand=var(0.5, 0.07, 0.42, 0.58),
        face_shape=tuple(float(x) for x in np.clip(v * 0.12 * rng.standard_normal(5), -0.3, 0.3)),
        cam_x=_clip(0.5 + v * 0.06 * rng.standard_normal(), 0.38, 0.62),
        cam_y=_clip(0.38 + v * 0.015 * rng.standard_normal(), 0.35, 0.41),
        scale=var(185.0, 0.06, 160.0, 205.0),  # shoulders 0.29 of the frame width, as in real interviews
        breath_period=var(4.0, 0.2, 2.5, 6.0),
        breath_amp=var(0.018, 0.35, 0.006, 0.04),
        sway_amp=var(0.05, 0.4, 0.01, 0.12),
        head_amp=var(0.07, 0.35, 0.02, 0.15),
        hand_drift=var(0.04, 0.4, 0.01, 0.1),
        blink_rate=var(0.3, 0.3, 0.1, 0.6),
        talkative=var(1.0, 0.4, 0.2, 2.0),
        rest_styles=tuple(float(x) for x in styles),
        speed=var(1.0, 0.18, 0.6, 1.5),
        amp=float(rng.uniform(lo_amp, hi_amp)),
        right_handed=right,
        dominance=float(rng.uniform(0.65, 0.92)),
        jitter_body=var(0.0075, 0.35, 0.0025, 0.018),
        jitter_face=var(0.004, 0.35, 0.0015, 0.01),
        jitter_hand=var(0.035, 0.35, 0.012, 0.07),
        drop_body=var(0.01, 0.5, 0.002, 0.04),
        drop_face=var(1.0, 0.5, 0.2, 2.5),  # times Detector.face_loss
        drop_hand=var(1.0, 0.4, 0.3, 2.0),  # times Detector.hand_loss
        hips_visible=bool(rng.random() < 0.4),
        skin=col(skin),
        shirt=col(shirt),
        jacket=col(jacket),
        hair=col(hair[rng.integers(len(hair))]),
        hair_style=int(rng.choice(3, p=[0.6, 0.25, 0.15])),
        hat=bool(rng.random() < 0.35) if hat is None else hat,
        hat_color=col(palette[rng.integers(len(palette))]),
        lips=col(skin * np.array([0.85, 0.55, 0.55])),
    )


@dataclass(frozen=True, kw_only=True)
class Stage:
    """Where one video puts its subject: frame size, neck position, pixels per U and the table edges (in U)."""

    frame_size: tuple[int, int]
    x: float
    y: float
    upx: float
    table_far: float = 1.62
    table_front: float = 2.4

    def to_px(self, p: np.ndarray) -> np.ndarray:
        """Map (..., 2) points in U to pixels of this frame."""
        w, h = self.frame_size
        return p * self.upx + np.array([self.x * w, self.y * h])


def sample_stage(rng: np.random.Generator, subject: Subject, frame_size: tuple[int, int], knobs: Difficulty) -> Stage:
    """Per-video placement: the subject's camera, moved and zoomed a little between videos."""
    w, _ = frame_size
    v = knobs.subject_var
    return Stage(
        frame_size=frame_size,
        x=_clip(subject.cam_x + v * 0.02 * rng.standard_normal(), 0.35, 0.65),
        y=_clip(subject.cam_y + v * 0.01 * rng.standard_normal(), 0.34, 0.42),
        upx=subject.scale * (1.0 + v * 0.05 * rng.standard_normal()) * w / 1280.0,
        table_far=float(rng.uniform(1.55, 1.7)),
        # the athlete fills the frame: the table's front edge is near the bottom of the image, below the hands
        table_front=float(rng.uniform(2.3, 2.5)),
    )


def smooth_noise(rng: np.random.Generator, n: int, shape: tuple[int, ...] = (), *, knot: float = 12.0) -> np.ndarray:
    """(n, *shape) smooth zero-mean noise: Gaussian knots every ``knot`` frames, cosine-interpolated (std ~0.8)."""
    k = int(n / knot) + 2
    knots = rng.standard_normal((k, *shape))
    t = np.arange(n) / knot
    i = t.astype(np.int64)
    f = (1.0 - np.cos(np.pi * (t - i))) / 2.0
    f = f.reshape(-1, *([1] * len(shape)))
    return knots[i] * (1.0 - f) + knots[i + 1] * f
