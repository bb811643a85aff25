"""One kinematic program per iMiGUE class (torso, head, face, one hand; two-arm classes in arms.py), into a Track.

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

import numpy as np

from microgesture.data.classes import IMIGUE_CLASSES
from microgesture.data.synth.body import Track
from microgesture.data.synth.idle import add_idle
from microgesture.data.synth.motion import (
    PROGRAMS,
    Ctx,
    _circle,
    _env,
    _hand,
    _osc,
    _program,
    _span,
    apply_program,
)

__all__ = ["Ctx", "PROGRAMS", "add_idle", "apply_program"]


# -- torso and head ----------------------------------------------------------------------------------------------------
@_program("turtle neck")
def _turtle_neck(tr: Track, a: int, b: int, c: Ctx) -> None:
    e = _env(b - a, c, rise=0.5, fall=0.5)
    tr.shrug[a:b] += (0.1 * c.amp * e)[:, None]
    tr.neck[a:b] -= 0.22 * c.amp * e
    tr.head[a:b, 1] += 0.12 * c.amp * e
    tr.torso[a:b, 1] += 0.03 * c.amp * e


@_program("deep breath")
def _deep_breath(tr: Track, a: int, b: int, c: Ctx) -> None:
    n = b - a
    x = np.arange(n) / max(n - 1, 1)
    e = np.sin(np.pi * np.clip((x - 0.05) / 0.9, 0, 1)) ** 2  # slow inhale then exhale
    tr.chest[a:b] += 0.06 * c.amp * e
    tr.shrug[a:b] += (0.07 * c.amp * e)[:, None]
    tr.torso[a:b, 1] -= 0.04 * c.amp * e
    tr.head[a:b, 1] -= 0.06 * c.amp * e
    tr.mouth[a:b, 0] += 0.25 * e * (x > 0.5)  # exhale through the mouth


@_program("move torso")
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


@_program("sit straight")
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


@_program("bite/press lips")
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


@_program("touch/scratch head")
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


@_program("rub eyes")
def _rub_eyes(tr: Track, a: int, b: int, c: Ctx) -> None:
    n, h = b - a, c.hand
    e = _env(n, c, rise=0.35, fall=0.35)
    _hand(tr, slice(a, b), h, e, anchor="eye_same", contact=int(c.rng.choice([6, 8])), theta=0.6,
          curl=(0.5, 0.65, 0.8, 0.85, 0.85), f1=0.62, off=_circle(n, c, 0.035 * c.amp, c.rng.uniform(2, 3.5)))
    tr.squeeze[a:b, h] = np.maximum(tr.squeeze[a:b, h], e)
    tr.blink[a:b, h] = np.maximum(tr.blink[a:b, h], 0.8 * e)
    tr.head[a:b, 2] += c.s * 0.08 * c.amp * e
    tr.head[a:b, 1] += 0.05 * c.amp * e


@_program("touch other facial parts")
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


@_program("play with hair")
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


from microgesture.data.synth import arms  # noqa: E402,F401  (registers the two-arm programs)

assert len(PROGRAMS) == len(IMIGUE_CLASSES), sorted(set(range(len(IMIGUE_CLASSES))) - set(PROGRAMS))
