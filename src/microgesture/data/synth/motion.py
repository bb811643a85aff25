"""Building blocks of the gesture programs: the program context, envelopes, oscillations and the hand mover."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from microgesture.data.classes import IMIGUE_CLASSES
from microgesture.data.synth.body import ANCHORS, Subject, Track

# and the _helpers, which the program modules import by name
__all__ = ["Ctx", "SIDE", "PROGRAMS", "apply_program"]

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


def _program(name: str) -> Callable[[Program], Program]:
    def reg(fn: Program) -> Program:
        label = IMIGUE_CLASSES.index(name)
        if label in PROGRAMS:
            raise ValueError(f"class {name!r} already has a program")
        PROGRAMS[label] = fn
        return fn

    return reg


def apply_program(label: int, tr: Track, a: int, b: int, ctx: Ctx) -> None:
    """Write class ``label``'s gesture into ``tr`` on frames ``[a, b)``."""
    PROGRAMS[label](tr, a, b, ctx)



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
