"""Idle motion and one kinematic program per iMiGUE class, written into a :class:`~.body.Track`.

A program acts on frames ``[a, b)`` (the annotated clip) with a smooth envelope (onset, hold, release), scaled by the
clip's amplitude and the subject's speed; "posture change" programs (sit straight, move torso, withdraw arms) hold
their end state to the end of the clip and relax during the idle gap that follows (``ctx.tail`` frames).

Design of the difficulty (so that each technique of the papers has something to win):
- hand-to-face classes differ by where the hand goes (forehead, eye, ear, nose, chin, hair, cap brim, neck), which
  the face points resolve; ``bite/press lips`` moves only mouth points, and its cue is lip thickness (face 51-62,
  57-66: inner lip points that aim68 has and mmg36 lacks) while the outer mouth height stays inside talking's range;
- ``play with objects`` has the same hand kinematics as ``rub/hold hands``: only the object in the pixels differs;
- ``shake shoulders`` (oscillation), ``turtle neck`` (raise and hold, head sinks), ``deep breath`` (slow rise),
  ``sit straight`` (a one-way posture change) look alike in any single frame and need motion.
Idle motion (breathing, sway, head drift and glances, blinks, talking, hand drift and rest-pose changes) runs
under every clip and between clips, at an amplitude comparable to the smallest gestures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from microgesture.data.classes import IMIGUE_CLASSES
from microgesture.data.synth.body import ANCHORS, Difficulty, Subject, Track, smooth_noise

__all__ = ["Ctx", "PROGRAMS", "DURATION", "add_idle", "apply_program"]

SIDE = ("_r", "_l")


@dataclass
class Ctx:
    """What a program may use: its random generator, the subject, fps, this clip's amplitude and speed, the acting
    hand (0 right, 1 left) for one-hand gestures, and the idle frames available after the clip."""

    rng: np.random.Generator
    subject: Subject
    fps: float
    amp: float
    speed: float
    hand: int
    tail: int = 0

    @property
    def s(self) -> float:
        """Image-x sign of the acting hand's side: -1 for the right hand (image left)."""
        return -1.0 if self.hand == 0 else 1.0


Program = Callable[[Track, int, int, Ctx], None]
PROGRAMS: dict[int, Program] = {}
DURATION: dict[int, float] = {}  # clip-length multiplier per class (deep breaths are long, touches short)


def _program(name: str, duration: float = 1.0) -> Callable[[Program], Program]:
    def reg(fn: Program) -> Program:
        label = IMIGUE_CLASSES.index(name)
        if label in PROGRAMS:
            raise ValueError(f"class {name!r} already has a program")
        PROGRAMS[label], DURATION[label] = fn, duration
        return fn

    return reg


def apply_program(label: int, tr: Track, a: int, b: int, ctx: Ctx) -> None:
    """Write class ``label``'s gesture into ``tr`` on frames ``[a, b)``."""
    PROGRAMS[label](tr, a, b, ctx)


# -- helpers -----------------------------------------------------------------------------------------------------------
def _smooth(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _env(n: int, ctx: Ctx, *, rise: float = 0.4, fall: float = 0.4, hold: bool = False) -> np.ndarray:
    """(n,) envelope: up over ~``rise`` s (divided by speed), hold, down over ~``fall`` s before the clip ends."""
    rng = ctx.rng
    r = max(2, min(int(rise * ctx.fps / ctx.speed * rng.uniform(0.7, 1.3)), int(0.4 * n)))
    f = max(2, min(int(fall * ctx.fps / ctx.speed * rng.uniform(0.7, 1.3)), int(0.4 * n)))
    d0, d1 = rng.integers(0, n // 10 + 1), rng.integers(0, n // 10 + 1)
    t = np.arange(n)
    e = _smooth((t - d0 + 1) / r)
    return e if hold else np.minimum(e, _smooth((n - d1 - t) / f))


def _span(a: int, b: int, ctx: Ctx, *, rise: float = 0.5, hold: bool = True) -> tuple[slice, np.ndarray]:
    """A held posture change: envelope over [a, b) then relaxing over the following idle frames (up to 1.5 s)."""
    e = _env(b - a, ctx, rise=rise, hold=hold)
    k = min(ctx.tail, int(1.5 * ctx.fps))
    if k > 0:
        e = np.concatenate([e, e[-1] * (1 - _smooth(np.arange(1, k + 1) / k))])
    return slice(a, a + len(e)), e


def _osc(n: int, ctx: Ctx, freq: float, phase: float | None = None) -> np.ndarray:
    ph = ctx.rng.uniform(0, 2 * np.pi) if phase is None else phase
    return np.sin(2 * np.pi * freq * ctx.speed * np.arange(n) / ctx.fps + ph)


def _mix(arr: np.ndarray, sl: slice, e: np.ndarray, val) -> None:
    """arr[sl] <- (1 - e) arr[sl] + e val, broadcasting e over trailing axes."""
    seg = arr[sl]
    w = e.reshape(e.shape + (1,) * (seg.ndim - 1))
    arr[sl] = seg * (1 - w) + w * np.asarray(val, float)


def _hand(tr: Track, sl: slice, h: int, e: np.ndarray, *, anchor: str, contact: int, theta: float, curl,
          fs: float = 0.95, f1: float = 0.72, f2: float = 0.95, spread: float = 1.0, off=None, elbow=None,
          hidden: float | np.ndarray = 0.0) -> None:  # fmt: skip
    """Send hand ``h`` to ``anchor`` (``_same``/``_other`` resolve to its own or the opposite side), hand point
    ``contact`` touching it, blended in by envelope ``e``; ``off`` (n, 2) moves the contact (rubbing, scratching)."""
    name = anchor.replace("_same", SIDE[h]).replace("_other", SIDE[1 - h])
    tr.anchor[h, sl] = ANCHORS.index(name)
    tr.w[h, sl] = e
    tr.contact[h, sl] = contact
    if off is not None:
        tr.off[h, sl] = off
    s = -1.0 if h == 0 else 1.0
    _mix(tr.theta[h], sl, e, theta)
    _mix(tr.curl[h], sl, e, curl)
    _mix(tr.fs[h], sl, e, fs)
    _mix(tr.spread[h], sl, e, spread)
    _mix(tr.f1[h], sl, e, f1)
    _mix(tr.f2[h], sl, e, f2)
    _mix(tr.elbow[h], sl, e, (s * 0.4, 0.9) if elbow is None else (s * elbow[0], elbow[1]))
    _mix(tr.hidden[h], sl, e, hidden)


def _circle(n: int, ctx: Ctx, r: float, freq: float) -> np.ndarray:
    return r * np.stack([_osc(n, ctx, freq, 0.0), _osc(n, ctx, freq, np.pi / 2)], -1)


# -- idle --------------------------------------------------------------------------------------------------------------
def add_idle(tr: Track, subject: Subject, rng: np.random.Generator, fps: float, knobs: Difficulty) -> None:
    """Idle behaviour for a whole recording: rest poses, breathing, sway, head drift and glances, blinks, talking."""
    n, ia = tr.n, knobs.idle_amp
    t = np.arange(n) / fps
    # rest poses of the hands, changing every 4-15 s, with 0.6 s transitions
    rest = np.zeros((2, n, 2))
    theta, curl, fs, f2 = np.zeros((2, n)), np.zeros((2, n)), np.zeros((2, n)), np.full((2, n), 0.45)
    i = 0
    while i < n:
        j = min(n, i + int(rng.uniform(4, 15) * fps))
        style = rng.choice(3, p=subject.rest_styles)
        for h, s in enumerate((-1.0, 1.0)):
            if style == 1:  # clasped in front
                rest[h, i:j] = (s * rng.uniform(0.06, 0.16), rng.uniform(1.74, 1.84))
                theta[h, i:j], curl[h, i:j], fs[h, i:j] = 1.45, 0.55, 0.6
            else:  # apart on the table
                rest[h, i:j] = (s * rng.uniform(0.4, 0.75), rng.uniform(1.78, 1.9))
                theta[h, i:j], curl[h, i:j], fs[h, i:j] = np.pi - 0.45, 0.45, 0.5
        if style == 2:  # one hand in the lap, under the table
            h = int(rng.integers(2))
            rest[h, i:j] = ((-1 if h == 0 else 1) * 0.45, 2.45)
            f2[h, i:j] = 0.95
        i = j
    k = max(1, int(0.6 * fps))
    kernel = np.ones(k) / k
    for arr in (rest, theta, curl, fs, f2):
        flat = arr.reshape(2, n, -1)
        for h in range(2):
            for c in range(flat.shape[2]):
                col = np.concatenate([np.full(k, flat[h, 0, c]), flat[h, :, c], np.full(k, flat[h, -1, c])])
                flat[h, :, c] = np.convolve(col, kernel, mode="same")[k:-k]
    drift = subject.hand_drift * ia * smooth_noise(rng, n, (2, 2), knot=1.5 * fps).transpose(1, 0, 2)
    tr.rest[:] = rest + drift
    tr.theta[:] = theta + 0.15 * ia * smooth_noise(rng, n, (2,), knot=fps).T
    tr.curl[:] = (curl + 0.08 * ia * smooth_noise(rng, n, (2,), knot=fps).T)[..., None] + np.zeros(5)
    tr.fs[:] = fs
    tr.f1[:], tr.f2[:] = 0.95, f2  # forearms on the table point at the camera: foreshortened
    tr.elbow[0], tr.elbow[1] = (-0.6, 0.8), (0.6, 0.8)
    # breathing, sway, lean
    br = subject.breath_amp * ia * np.sin(2 * np.pi * t / subject.breath_period + rng.uniform(0, 2 * np.pi))
    tr.shrug += br[:, None]
    tr.chest += 0.5 * br
    sway = subject.sway_amp * ia
    tr.torso += sway * smooth_noise(rng, n, (2,), knot=2.5 * fps) * (1.0, 0.3)
    tr.roll += 0.3 * sway * smooth_noise(rng, n, knot=3 * fps)
    tr.lean += 0.2 * sway * smooth_noise(rng, n, knot=3 * fps)
    # head drift and glances at journalists
    ha = subject.head_amp * ia
    tr.head += ha * smooth_noise(rng, n, (3,), knot=1.2 * fps) * (1.0, 0.6, 0.4)
    for _ in range(rng.poisson(knobs.glance_rate * n / fps)):
        a, d = int(rng.integers(0, n)), int(rng.uniform(1, 4) * fps)
        seg = np.arange(min(d, n - a))
        bump = _smooth(seg / (0.3 * fps)) * _smooth((len(seg) - seg) / (0.3 * fps))
        tr.head[a : a + len(seg), 0] += rng.choice([-1, 1]) * rng.uniform(0.15, 0.45) * ia * bump
        tr.head[a : a + len(seg), 1] += rng.uniform(-0.08, 0.08) * ia * bump
    # blinks: ~0.16 s closures
    prof = np.interp(np.arange(max(2, int(0.16 * fps))), [0, 0.16 * fps / 2, 0.16 * fps], [0.5, 1.0, 0.5])
    for a in rng.integers(0, n, rng.poisson(subject.blink_rate * n / fps)):
        m = min(len(prof), n - a)
        tr.blink[a : a + m] = np.maximum(tr.blink[a : a + m], prof[:m, None])
    # talking: alternating speaking/silent stretches; syllables open the mouth at 3-5 Hz
    p = float(np.clip(knobs.talk_prob * subject.talkative, 0.0, 0.9))
    talk = np.zeros(n)
    i, on = 0, rng.random() < p
    while i < n and p > 0:
        d = int(rng.exponential(3.0 if on else 3.0 * (1 - p) / p) * fps) + 1
        if on:
            talk[i : i + d] = 1.0
        i, on = i + d, not on
    talk = np.convolve(talk, np.ones(5) / 5, mode="same")
    syl = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(3, 5) * t + 2.0 * smooth_noise(rng, n, knot=fps / 3))
    tr.mouth[:, 0] += talk * rng.uniform(0.15, 0.4) * syl**1.5 * (0.7 + 0.3 * smooth_noise(rng, n, knot=fps))
    tr.head[:, 1] += talk * 0.02 * ia * smooth_noise(rng, n, knot=0.4 * fps)
    tr.mouth[:, 3] += rng.uniform(0, 0.3) + 0.1 * smooth_noise(rng, n, knot=4 * fps)
    tr.mouth[:, 1] += np.clip(0.08 * smooth_noise(rng, n, knot=3 * fps), 0, None)  # a little resting lip tension
    lift = 1.3 * smooth_noise(rng, n, knot=fps) + talk * smooth_noise(rng, n, knot=0.2 * fps)
    tr.mouth[:, 4] += np.clip(lift, -1.5, 1.5)  # upper lip up/down (speech, expressions): up to 0.06 face widths


# -- torso and head ----------------------------------------------------------------------------------------------------
@_program("turtle neck", 1.2)
def _turtle_neck(tr: Track, a: int, b: int, c: Ctx) -> None:
    e = _env(b - a, c, rise=0.5, fall=0.5)
    tr.shrug[a:b] += (0.1 * c.amp * e)[:, None]
    tr.neck[a:b] -= 0.22 * c.amp * e
    tr.head[a:b, 1] += 0.12 * c.amp * e
    tr.torso[a:b, 1] += 0.03 * c.amp * e


@_program("deep breath", 1.7)
def _deep_breath(tr: Track, a: int, b: int, c: Ctx) -> None:
    n = b - a
    x = np.arange(n) / max(n - 1, 1)
    e = np.sin(np.pi * np.clip((x - 0.05) / 0.9, 0, 1)) ** 2  # slow inhale then exhale
    tr.chest[a:b] += 0.06 * c.amp * e
    tr.shrug[a:b] += (0.07 * c.amp * e)[:, None]
    tr.torso[a:b, 1] -= 0.04 * c.amp * e
    tr.head[a:b, 1] -= 0.06 * c.amp * e
    tr.mouth[a:b, 0] += 0.25 * e * (x > 0.5)  # exhale through the mouth


@_program("move torso", 1.2)
def _move_torso(tr: Track, a: int, b: int, c: Ctx) -> None:
    kind = c.rng.integers(4)
    sl, e = _span(a, b, c, rise=0.6, hold=bool(c.rng.random() < 0.5))
    sign = c.rng.choice([-1.0, 1.0])
    if kind == 0:  # shift sideways
        tr.torso[sl, 0] += sign * 0.25 * c.amp * e
        tr.head[sl, 2] -= sign * 0.05 * c.amp * e
    elif kind == 1:  # lean toward or away from the camera
        tr.lean[sl] += sign * 0.05 * c.amp * e
        tr.torso[sl, 1] -= sign * 0.08 * c.amp * e
    elif kind == 2:  # tilt sideways
        tr.roll[sl] += sign * 0.07 * c.amp * e
    else:  # rocking
        osc = _osc(len(e), c, c.rng.uniform(0.5, 1.0))
        tr.torso[sl, 0] += 0.12 * c.amp * e * osc
        tr.lean[sl] += 0.02 * c.amp * e * osc


@_program("sit straight", 1.1)
def _sit_straight(tr: Track, a: int, b: int, c: Ctx) -> None:
    sl, e = _span(a, b, c, rise=0.6)
    tr.torso[sl, 1] -= 0.12 * c.amp * e
    tr.neck[sl] += 0.08 * c.amp * e
    tr.chest[sl] += 0.03 * c.amp * e
    tr.lean[sl] -= 0.02 * c.amp * e
    tr.head[sl, 1] -= 0.05 * c.amp * e


@_program("head up")
def _head_up(tr: Track, a: int, b: int, c: Ctx) -> None:
    e = _env(b - a, c, rise=0.4, fall=0.4)
    tr.head[a:b, 1] -= 0.22 * c.amp * e
    tr.brow[a:b] += 0.6 * e
    tr.neck[a:b] += 0.05 * c.amp * e
    tr.torso[a:b, 1] -= 0.02 * c.amp * e


@_program("shake shoulders")
def _shake_shoulders(tr: Track, a: int, b: int, c: Ctx) -> None:
    n = b - a
    e = _env(n, c, rise=0.15, fall=0.15)
    f = c.rng.uniform(2.0, 4.0)
    pulse = 0.5 - 0.5 * np.cos(2 * np.pi * f * c.speed * np.arange(n) / c.fps)  # up and down, from rest
    amp = 0.09 * c.amp * e * pulse
    if c.rng.random() < 0.7:
        tr.shrug[a:b] += amp[:, None]
    else:  # alternating shoulders
        alt = _osc(n, c, f / 2)
        tr.shrug[a:b, 0] += amp * (alt > 0)
        tr.shrug[a:b, 1] += amp * (alt <= 0)
    tr.head[a:b, 1] += 0.02 * e * pulse


@_program("bite/press lips", 0.9)
def _bite_press_lips(tr: Track, a: int, b: int, c: Ctx) -> None:
    n = b - a
    e = _env(n, c, rise=0.25, fall=0.25)
    strength = c.rng.uniform(0.7, 1.0) * min(1.0, 0.5 + 0.5 * c.amp)
    if c.rng.random() < 0.4:  # press-release pulses
        e = e * (0.6 + 0.4 * np.abs(_osc(n, c, c.rng.uniform(0.7, 1.5))))
    k = 1 if c.rng.random() < 0.7 else 2  # press or bite
    tr.mouth[a:b, k] = np.maximum(tr.mouth[a:b, k], strength * e)
    tr.mouth[a:b, 0] *= 1 - e  # no talking with the lips pressed


# -- one hand to the face or head --------------------------------------------------------------------------------------
@_program("touch hat")
def _touch_hat(tr: Track, a: int, b: int, c: Ctx) -> None:
    n, h = b - a, c.hand
    e = _env(n, c, rise=0.35, fall=0.35)
    off = np.zeros((n, 2))
    off[:, 1] = 0.04 * c.amp * np.abs(_osc(n, c, c.rng.uniform(0.8, 2.0)))  # pull the brim down
    _hand(tr, slice(a, b), h, e, anchor="hat_brim", contact=8, theta=0.35, curl=(0.6, 0.55, 0.6, 0.7, 0.7),
          fs=0.9, f1=0.65, off=off)  # fmt: skip
    tr.head[a:b, 1] += 0.05 * e


@_program("touch/scratch head", 1.1)
def _scratch_head(tr: Track, a: int, b: int, c: Ctx) -> None:
    n, h = b - a, c.hand
    e = _env(n, c, rise=0.4, fall=0.4)
    f = c.rng.uniform(3.5, 6.0)
    curl = (0.3 + 0.25 * _osc(n, c, f))[:, None] * np.ones(5)
    _hand(tr, slice(a, b), h, e, anchor="head_top_same", contact=12, theta=0.5, curl=curl, f1=0.6,
          off=_circle(n, c, 0.03 * c.amp, f), elbow=(0.8, 0.3))  # fmt: skip
    tr.head[a:b, 1] += 0.12 * c.amp * e
    tr.head[a:b, 2] += c.s * 0.08 * c.amp * e


@_program("touch forehead")
def _touch_forehead(tr: Track, a: int, b: int, c: Ctx) -> None:
    n, h = b - a, c.hand
    e = _env(n, c, rise=0.35, fall=0.35)
    off = np.zeros((n, 2))
    off[:, 0] = 0.05 * c.amp * _osc(n, c, c.rng.uniform(0.5, 1.2)) * (c.rng.random() < 0.5)
    _hand(tr, slice(a, b), h, e, anchor="forehead", contact=10, theta=1.3, curl=0.15, f1=0.62, off=off)
    tr.head[a:b, 1] += 0.1 * c.amp * e


@_program("cover face")
def _cover_face(tr: Track, a: int, b: int, c: Ctx) -> None:
    n = b - a
    e = _env(n, c, rise=0.6, fall=0.6)
    off = np.zeros((n, 2))
    off[:, 1] = 0.1 * c.amp * np.linspace(0, 1, n) * (c.rng.random() < 0.5)  # sometimes slide down the face
    for h in (0, 1):
        _hand(tr, slice(a, b), h, e, anchor="eye_same", contact=9, theta=0.15, curl=0.1, fs=1.0, f1=0.6, off=off)
    tr.head[a:b, 1] += 0.18 * c.amp * e


@_program("rub eyes", 1.1)
def _rub_eyes(tr: Track, a: int, b: int, c: Ctx) -> None:
    n, h = b - a, c.hand
    e = _env(n, c, rise=0.35, fall=0.35)
    _hand(tr, slice(a, b), h, e, anchor="eye_same", contact=int(c.rng.choice([6, 8])), theta=0.6,
          curl=(0.5, 0.65, 0.8, 0.85, 0.85), f1=0.62, off=_circle(n, c, 0.035 * c.amp, c.rng.uniform(2, 3.5)))
    tr.squeeze[a:b, h] = np.maximum(tr.squeeze[a:b, h], e)
    tr.blink[a:b, h] = np.maximum(tr.blink[a:b, h], 0.8 * e)
    tr.head[a:b, 2] += c.s * 0.08 * c.amp * e
    tr.head[a:b, 1] += 0.05 * c.amp * e


@_program("touch other facial parts", 0.8)
def _touch_face(tr: Track, a: int, b: int, c: Ctx) -> None:
    n, h = b - a, c.hand
    e = _env(n, c, rise=0.3, fall=0.3)
    anchor = str(c.rng.choice(["nose", "cheek_same", "jaw_same", "upper_lip", "cheek_other"]))
    _hand(tr, slice(a, b), h, e, anchor=anchor, contact=8, theta=0.7, curl=(0.5, 0.1, 0.7, 0.8, 0.8), f1=0.62,
          off=_circle(n, c, 0.015 * c.amp, c.rng.uniform(1, 3)))  # fmt: skip


@_program("touch ears")
def _touch_ears(tr: Track, a: int, b: int, c: Ctx) -> None:
    n, h = b - a, c.hand
    e = _env(n, c, rise=0.35, fall=0.35)
    off = np.zeros((n, 2))
    off[:, 1] = 0.03 * c.amp * (0.5 - 0.5 * _osc(n, c, 1.0, 0.0))
    _hand(tr, slice(a, b), h, e, anchor="ear_same", contact=8, theta=0.1, curl=(0.5, 0.3, 0.7, 0.8, 0.8),
          f1=0.62, off=off, elbow=(0.8, 0.5))  # fmt: skip


@_program("bite nails")
def _bite_nails(tr: Track, a: int, b: int, c: Ctx) -> None:
    n, h = b - a, c.hand
    e = _env(n, c, rise=0.35, fall=0.35)
    _hand(tr, slice(a, b), h, e, anchor="mouth", contact=8, theta=0.9, curl=(0.6, 0.55, 0.85, 0.9, 0.9), f1=0.6,
          off=_circle(n, c, 0.012 * c.amp, 6.0))  # fmt: skip
    tr.mouth[a:b, 0] = (1 - e) * tr.mouth[a:b, 0] + e * (0.12 + 0.08 * _osc(n, c, 4.0))
    tr.head[a:b, 1] += 0.08 * c.amp * e


@_program("touch chin")
def _touch_chin(tr: Track, a: int, b: int, c: Ctx) -> None:
    n, h = b - a, c.hand
    e = _env(n, c, rise=0.35, fall=0.35)
    off = np.zeros((n, 2))
    off[:, 1] = 0.03 * c.amp * _osc(n, c, 0.8)
    _hand(tr, slice(a, b), h, e, anchor="chin", contact=int(c.rng.choice([4, 8])), theta=1.0, curl=0.45, f1=0.65,
          off=off)  # fmt: skip
    tr.head[a:b, 1] -= 0.04 * c.amp * e


@_program("touch neck")
def _touch_neck(tr: Track, a: int, b: int, c: Ctx) -> None:
    n, h = b - a, c.hand
    e = _env(n, c, rise=0.35, fall=0.35)
    off = np.zeros((n, 2))
    off[:, 1] = 0.04 * c.amp * _osc(n, c, 2.0)
    _hand(tr, slice(a, b), h, e, anchor="neck_same", contact=10, theta=0.9, curl=0.25, f1=0.7, off=off)
    tr.head[a:b, 2] -= c.s * 0.06 * c.amp * e
    tr.head[a:b, 1] -= 0.05 * c.amp * e


@_program("play with hair", 1.1)
def _play_with_hair(tr: Track, a: int, b: int, c: Ctx) -> None:
    n, h = b - a, c.hand
    e = _env(n, c, rise=0.35, fall=0.35)
    f = c.rng.uniform(1.5, 3.0)
    curl = (0.5 + 0.3 * _osc(n, c, f))[:, None] * np.ones(5)
    _hand(tr, slice(a, b), h, e, anchor="hair_same", contact=8, theta=0.2, curl=curl, f1=0.6,
          off=_circle(n, c, 0.04 * c.amp, f), elbow=(0.9, 0.2))  # fmt: skip
    tr.head[a:b, 2] += c.s * 0.06 * c.amp * e


# -- one hand to the body ----------------------------------------------------------------------------------------------
@_program("adjust tie/collar")
def _adjust_collar(tr: Track, a: int, b: int, c: Ctx) -> None:
    n = b - a
    e = _env(n, c, rise=0.35, fall=0.35)
    off = np.zeros((n, 2))
    off[:, 1] = 0.06 * c.amp * (0.5 - 0.5 * _osc(n, c, c.rng.uniform(0.8, 1.6), 0.0))
    hands = (0, 1) if c.rng.random() < 0.6 else (c.hand,)
    for h in hands:
        _hand(tr, slice(a, b), h, e, anchor="collar_same", contact=8, theta=0.3, curl=0.65, f1=0.7, off=off)
    tr.head[a:b, 1] -= 0.1 * c.amp * e


@_program("touch chest/suprasternal notch")
def _touch_chest(tr: Track, a: int, b: int, c: Ctx) -> None:
    n, h = b - a, c.hand
    e = _env(n, c, rise=0.35, fall=0.35)
    _hand(tr, slice(a, b), h, e, anchor=str(c.rng.choice(["notch", "chest"])), contact=10, theta=1.2, curl=0.2,
          f1=0.75, f2=0.9, off=_circle(n, c, 0.01, 1.0))  # fmt: skip


@_program("scratch back")
def _scratch_back(tr: Track, a: int, b: int, c: Ctx) -> None:
    n, h = b - a, c.hand
    e = _env(n, c, rise=0.45, fall=0.45)
    f = c.rng.uniform(4, 6)
    curl = (0.5 + 0.25 * _osc(n, c, f))[:, None] * np.ones(5)
    if c.rng.random() < 0.6:  # over the shoulder
        _hand(tr, slice(a, b), h, e, anchor="shoulder_back_same", contact=12, theta=0.0, curl=curl, f1=0.75,
              f2=0.85, elbow=(0.5, -0.85), hidden=0.7, off=_circle(n, c, 0.03 * c.amp, f))  # fmt: skip
        tr.head[a:b, 1] += 0.1 * c.amp * e
    else:  # behind the lower back
        _hand(tr, slice(a, b), h, e, anchor="behind_same", contact=12, theta=np.pi, curl=curl, f1=0.9, f2=0.7,
              elbow=(1.0, 0.1), hidden=1.0)  # fmt: skip
        tr.lean[a:b] += 0.02 * c.amp * e
    tr.roll[a:b] += c.s * 0.04 * c.amp * e


@_program("scratch arm")
def _scratch_arm(tr: Track, a: int, b: int, c: Ctx) -> None:
    n, h = b - a, c.hand
    e = _env(n, c, rise=0.35, fall=0.35)
    f = c.rng.uniform(5, 7)
    off = np.zeros((n, 2))
    off[:, 1] = 0.025 * c.amp * _osc(n, c, f)
    curl = (0.55 + 0.25 * _osc(n, c, f))[:, None] * np.ones(5)
    _hand(tr, slice(a, b), h, e, anchor=str(c.rng.choice(["upper_arm_other", "forearm_other"])), contact=8,
          theta=1.2, curl=curl, f1=0.85, f2=0.8, off=off)  # fmt: skip


@_program("dust clothes/sleeve")
def _dust_clothes(tr: Track, a: int, b: int, c: Ctx) -> None:
    n, h = b - a, c.hand
    e = _env(n, c, rise=0.3, fall=0.3)
    f = c.rng.uniform(2.5, 4.5)
    off = np.zeros((n, 2))
    off[:, 0] = -c.s * 0.1 * c.amp * (0.5 + 0.5 * _osc(n, c, f))  # sweeps toward the other side's outside
    anchor = str(c.rng.choice(["forearm_other", "chest", "upper_arm_other"]))
    _hand(tr, slice(a, b), h, e, anchor=anchor, contact=9, theta=1.4, curl=0.15, f1=0.85, f2=0.7, off=off)


# -- both arms ---------------------------------------------------------------------------------------------------------
def _hands_together(tr: Track, a: int, b: int, c: Ctx) -> np.ndarray:
    """Hands meeting on the table, rubbing or holding; shared by "rub/hold hands" and "play with objects"."""
    n = b - a
    e = _env(n, c, rise=0.35, fall=0.35)
    rub = c.rng.random() < 0.6
    f = c.rng.uniform(1.5, 3.0)
    moving = _circle(n, c, 0.05 * c.amp, f) if rub else _circle(n, c, 0.012, 1.0)
    top = int(c.rng.integers(2))
    for h, s in ((0, -1.0), (1, 1.0)):
        off = np.array([s * 0.08, 0.0]) + (moving if h == top else 0.5 * moving[::-1])
        curl = 0.6 if h != top else 0.35 + (0.0 if rub else 0.1 * _osc(n, c, 1.0))
        _hand(tr, slice(a, b), h, e, anchor="table_mid", contact=9, theta=1.35, curl=np.asarray(curl)[..., None]
              * np.ones(5), fs=0.7, f1=0.95, f2=0.5, off=off)  # fmt: skip
    return e


@_program("rub/hold hands")
def _rub_hold_hands(tr: Track, a: int, b: int, c: Ctx) -> None:
    _hands_together(tr, a, b, c)


@_program("play with objects", 1.2)
def _play_with_objects(tr: Track, a: int, b: int, c: Ctx) -> None:
    _hands_together(tr, a, b, c)  # same kinematics: the object is only in the pixels
    tr.obj[a:b] = c.rng.integers(1, 5)  # pen, bottle, cap, phone
    tr.obj_hand[a:b] = c.rng.integers(2)
    tr.obj_angle[a:b] = c.rng.uniform(0, np.pi) + np.cumsum(c.rng.normal(0, 0.08, b - a))


@_program("cross fingers")
def _cross_fingers(tr: Track, a: int, b: int, c: Ctx) -> None:
    n = b - a
    e = _env(n, c, rise=0.4, fall=0.4)
    twiddle = 0.3 * _osc(n, c, 2.0) * (c.rng.random() < 0.5)
    for h, s in ((0, -1.0), (1, 1.0)):
        curl = np.stack([0.3 + twiddle] + [np.full(n, 0.55)] * 4, -1)
        _hand(tr, slice(a, b), h, e, anchor="hands_high", contact=9, theta=1.45, curl=curl, spread=1.7, fs=0.75,
              f1=0.95, f2=0.75, off=np.array([s * 0.05, 0.0]) + _circle(n, c, 0.01, 0.7), elbow=(0.4, 0.9))


@_program("minaret gesture")
def _minaret(tr: Track, a: int, b: int, c: Ctx) -> None:
    n = b - a
    e = _env(n, c, rise=0.45, fall=0.45)
    tap = 0.12 * np.clip(_osc(n, c, 2.0), 0, None) * (c.rng.random() < 0.5)
    for h, s in ((0, -1.0), (1, 1.0)):
        _hand(tr, slice(a, b), h, e, anchor="steeple", contact=12, theta=0.55, curl=(0.05 + tap)[:, None]
              * np.ones(5), spread=1.4, fs=1.0, f1=0.9, f2=0.95, off=np.array([s * 0.01, 0.0]))  # fmt: skip


@_program("fold arms", 1.2)
def _fold_arms(tr: Track, a: int, b: int, c: Ctx) -> None:
    e = _env(b - a, c, rise=0.6, fall=0.6)
    tucked = int(c.rng.integers(2))
    for h in (0, 1):
        _hand(tr, slice(a, b), h, e, anchor="upper_arm_other", contact=9, theta=1.5, curl=0.55, fs=0.8, f1=0.8,
              f2=0.9, elbow=(0.3, 1.0), hidden=0.35 if h == tucked else 0.0)  # fmt: skip
    tr.lean[a:b] -= 0.02 * c.amp * e


@_program("arms behind body")
def _arms_behind(tr: Track, a: int, b: int, c: Ctx) -> None:
    e = _env(b - a, c, rise=0.6, fall=0.6)
    for h in (0, 1):
        _hand(tr, slice(a, b), h, e, anchor="behind_same", contact=9, theta=np.pi, curl=0.4, f1=0.75, f2=0.55,
              elbow=(0.9, 0.4), hidden=e)  # fmt: skip
    tr.lean[a:b] -= 0.02 * c.amp * e
    tr.chest[a:b] += 0.03 * c.amp * e
    tr.shrug[a:b] += (0.03 * c.amp * e)[:, None]


@_program("arms akimbo")
def _arms_akimbo(tr: Track, a: int, b: int, c: Ctx) -> None:
    e = _env(b - a, c, rise=0.5, fall=0.5)
    for h in (0, 1):
        _hand(tr, slice(a, b), h, e, anchor="hip_same", contact=0, theta=0.9 * np.pi, curl=0.3, fs=0.8, f1=0.95,
              f2=0.95, elbow=(1.0, -0.1))  # fmt: skip


@_program("withdraw arms", 1.1)
def _withdraw_arms(tr: Track, a: int, b: int, c: Ctx) -> None:
    sl, e = _span(a, b, c, rise=0.5)
    hands = (0, 1) if c.rng.random() < 0.7 else (c.hand,)
    for h in hands:
        s = -1.0 if h == 0 else 1.0
        tr.rest[h, sl] += np.stack([-s * 0.15 * e, 0.6 * e], -1)  # off the table, under its edge
        _mix(tr.f2[h], sl, e, 0.95)  # the forearm now hangs down instead of pointing at the camera
    tr.lean[sl] -= 0.02 * c.amp * e


@_program("illustrative gestures (non-MG)", 1.4)
def _illustrative(tr: Track, a: int, b: int, c: Ctx) -> None:
    n = b - a
    e = _env(n, c, rise=0.3, fall=0.35)
    big = 0.6 + 0.4 * c.amp  # non-micro gestures: large arm movements
    f = c.rng.uniform(1.5, 3.0)
    hands = (0, 1) if c.rng.random() < 0.5 else (c.hand,)
    for h in hands:
        s = -1.0 if h == 0 else 1.0
        off = np.stack([s * 0.3 * big * smooth_noise(c.rng, n, knot=0.8 * c.fps) + 0.12 * big * _osc(n, c, f / 2),
                        -0.2 * big * np.abs(_osc(n, c, f)) + 0.2 * big * smooth_noise(c.rng, n, knot=c.fps)], -1)
        _hand(tr, slice(a, b), h, e, anchor="gesture_same", contact=9, theta=float(c.rng.uniform(0.3, 1.0)),
              curl=0.15, spread=1.3, fs=0.9, f1=0.85, f2=0.9, off=off)  # fmt: skip
    talk = 0.5 + 0.5 * _osc(n, c, c.rng.uniform(3, 5))
    tr.mouth[a:b, 0] = np.maximum(tr.mouth[a:b, 0], e * 0.3 * talk)
    tr.head[a:b, 0] += 0.1 * e * _osc(n, c, 0.4)
    tr.head[a:b, 1] += 0.04 * e * _osc(n, c, f)


assert len(PROGRAMS) == len(IMIGUE_CLASSES), sorted(set(range(len(IMIGUE_CLASSES))) - set(PROGRAMS))
