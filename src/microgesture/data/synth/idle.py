"""Idle behaviour under and between gestures: rest poses, breathing, sway, head drift and glances, blinks, talking."""

from __future__ import annotations

import numpy as np

from microgesture.data.synth.body import Difficulty, Subject, Track, smooth_noise
from microgesture.data.synth.motion import _smooth

__all__ = ["add_idle"]


def add_idle(tr: Track, subject: Subject, rng: np.random.Generator, fps: float, knobs: Difficulty) -> None:
    """Idle behaviour for a whole recording: rest poses, breathing, sway, head drift and glances, blinks, talking."""
    # long: one list of idle behaviours added to the same track arrays, each a few lines
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
    tr.head[:, 1] += talk * 0.05 * ia * smooth_noise(rng, n, knot=0.4 * fps)
    tr.mouth[:, 3] += rng.uniform(0, 0.3) + 0.1 * smooth_noise(rng, n, knot=4 * fps)
    tr.mouth[:, 1] += np.clip(0.08 * smooth_noise(rng, n, knot=3 * fps), 0, None)  # a little resting lip tension
    lift = 1.3 * smooth_noise(rng, n, knot=fps) + talk * smooth_noise(rng, n, knot=0.2 * fps)
    tr.mouth[:, 4] += np.clip(lift, -1.5, 1.5)  # upper lip up/down (speech, expressions): up to 0.06 face widths
