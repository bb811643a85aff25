"""When gestures happen in a recording: clip lengths, idle gaps and co-occurring (overlapping) gestures.

Calibrated on the iMiGUE labels file (18,498 clips of 359 videos, 25 fps; docs/real_data.md):

- clip length: a log-normal around the preset's median, times the class's real median length over the overall real
  median (``CLASS_DURATION``: "touch other facial parts" 27 frames, "cover face" 55, "move torso" 57); the spread
  below the median (``Preset.clip_sigma``) and above it (``Preset.clip_tail``) differ because real lengths are
  right-skewed (p5/p50/p95 = 17 / 40 / 189 frames: long held postures);
- idle gap between gestures: log-normal (median 25 frames, 95th percentile 452: a subject is still for long stretches
  while a journalist asks a question), ``Preset.gap_median`` / ``gap_sigma``, bounded by ``Preset.gap``;
- co-occurring gestures: 24% of consecutive real clips overlap in time (shoulders shake while a hand touches the
  chin). A gesture starts during the previous one with probability ``Preset.overlap`` when the two can be made at
  once (``HANDS``: together they use at most two hands; a one-hand gesture then takes the free hand).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from microgesture.data.classes import IMIGUE_CLASSES, NON_MG_CLASS

if TYPE_CHECKING:
    from microgesture.data.synth.plan import Preset

__all__ = ["CLASS_DURATION", "HANDS", "Timing", "clip_lengths", "recording_timing"]

REAL_MEDIAN_FRAMES = 40.0  # iMiGUE labels file: median clip length
# Median clip length per original class id (1-31, 99), frames at 25 fps: the iMiGUE labels file.
_REAL_CLASS_MEDIAN = {1: 36, 2: 34, 3: 39, 4: 55, 5: 49, 6: 55, 7: 61, 8: 52, 9: 48, 10: 102, 11: 76, 12: 76, 13: 48,
                      14: 79, 15: 43, 16: 76, 17: 83, 18: 69, 19: 46, 20: 57, 21: 44, 22: 83, 23: 79, 24: 79, 25: 60,
                      26: 103, 27: 27, 28: 33, 29: 35, 30: 52, 31: 27, 99: 33}  # fmt: skip
CLASS_DURATION: dict[int, float] = {
    (NON_MG_CLASS if k == 99 else k - 1): v / REAL_MEDIAN_FRAMES for k, v in _REAL_CLASS_MEDIAN.items()
}
# Hands a class's program moves: 0 none (torso, head, mouth), 1 one hand, 2 both (or sometimes both).
_BOTH = ("cover face", "adjust tie/collar", "fold arms", "arms behind body", "rub/hold hands", "cross fingers",
         "minaret gesture", "play with objects", "withdraw arms", "arms akimbo", "illustrative gestures (non-MG)")
_NONE = ("turtle neck", "deep breath", "move torso", "sit straight", "head up", "bite/press lips", "shake shoulders")
HANDS: dict[int, int] = {i: 2 if c in _BOTH else 0 if c in _NONE else 1 for i, c in enumerate(IMIGUE_CLASSES)}
assert len(CLASS_DURATION) == len(IMIGUE_CLASSES)


def clip_lengths(rng: np.random.Generator, labels: Sequence[int | None], preset: Preset) -> np.ndarray:
    """Clip lengths in frames: a two-piece log-normal (``clip_sigma`` below the median, ``clip_tail`` above) times the
    class's real duration factor, clipped to ``clip_range``. One normal draw per label."""
    z = rng.standard_normal(len(labels))
    dur = np.array([CLASS_DURATION.get(c, 1.0) if c is not None else 1.0 for c in labels])
    tail = preset.clip_sigma if preset.clip_tail is None else preset.clip_tail
    n = preset.clip_median * np.exp(np.where(z < 0, preset.clip_sigma, tail) * z) * dur
    return np.clip(np.round(n), *preset.clip_range).astype(np.int64)


def _gaps(rng: np.random.Generator, k: int, preset: Preset) -> np.ndarray:
    lo, hi = preset.gap
    if preset.gap_median is None:  # uniform (custom presets that predate the calibration)
        return rng.integers(lo, hi + 1, k)
    return np.clip(np.round(preset.gap_median * np.exp(preset.gap_sigma * rng.standard_normal(k))), lo, hi).astype(
        np.int64)


@dataclass
class Timing:
    """Where each clip sits: ``starts`` and ``lengths`` (frames, clip k is [starts[k], starts[k] + lengths[k])),
    ``with_previous`` (clip k starts during clip k - 1) and the recording's ``total`` frames."""

    starts: np.ndarray
    lengths: np.ndarray
    with_previous: np.ndarray
    total: int

    def tail(self, k: int) -> int:
        """Idle frames after clip k before the next clip starts (0 when it starts during clip k)."""
        end = self.starts[k] + self.lengths[k]
        nxt = self.starts[k + 1] if k + 1 < len(self.starts) else self.total
        return int(max(0, nxt - end))


def recording_timing(rng: np.random.Generator, labels: Sequence[int | None], preset: Preset, *,
                     lengths: Sequence[int] | None = None, gaps: Sequence[int] | None = None) -> Timing:  # fmt: skip
    """Lengths, gaps and overlaps of ``labels`` chained in one recording (``gaps[0]`` leads, ``gaps[-1]`` trails).

    Given ``lengths`` and ``gaps``, clips follow each other without overlap. The number of draws does not depend on
    the labels, so replacing a label by None (an idle stretch) keeps the others' randomness.
    """
    k = len(labels)
    n = np.asarray(lengths if lengths is not None else clip_lengths(rng, labels, preset), np.int64)
    g = np.asarray(gaps if gaps is not None else _gaps(rng, k + 1, preset), np.int64)
    if gaps is None and preset.overlap > 0:
        u, frac = rng.random(k), rng.uniform(0.15, 0.9, k)
    else:
        u, frac = np.ones(k), np.zeros(k)
    starts, together = np.zeros(k, np.int64), np.zeros(k, bool)
    end = 0  # the latest end so far (exclusive)
    for i in range(k):
        prev = labels[i - 1] if i else None
        fits = (i > 0 and not together[i - 1] and labels[i] is not None and prev is not None
                and HANDS[int(labels[i])] + HANDS[int(prev)] <= 2)  # fmt: skip
        if fits and u[i] < preset.overlap:
            starts[i] = starts[i - 1] + max(1, min(int(frac[i] * n[i - 1]), int(n[i - 1]) - 1))
            together[i] = True
        else:
            starts[i] = end + g[i]
        end = max(end, int(starts[i] + n[i]))
    return Timing(starts=starts, lengths=n, with_previous=together, total=int(end + g[k]))
