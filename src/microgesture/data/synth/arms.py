"""Programs of the classes that move both arms: hands together on the table, crossed fingers, steeple, folded arms,
arms behind the body, akimbo, withdrawn arms, and the illustrative (non-micro) gestures."""

from __future__ import annotations

import numpy as np

from microgesture.data.synth.body import Track, smooth_noise
from microgesture.data.synth.motion import Ctx, _circle, _env, _hand, _mix, _osc, _program, _span


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


@_program("play with objects")
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


@_program("fold arms")
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


@_program("withdraw arms")
def _withdraw_arms(tr: Track, a: int, b: int, c: Ctx) -> None:
    sl, e = _span(a, b, c, rise=0.5)
    hands = (0, 1) if c.rng.random() < 0.7 else (c.hand,)
    for h in hands:
        s = -1.0 if h == 0 else 1.0
        tr.rest[h, sl] += np.stack([-s * 0.15 * e, 0.6 * e], -1)  # off the table, under its edge
        _mix(tr.f2[h], sl, e, 0.95)  # the forearm now hangs down instead of pointing at the camera
    tr.lean[sl] -= 0.02 * c.amp * e


@_program("illustrative gestures (non-MG)")
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
