"""The sanitise policy applied to raw OpenPose-137 skeletons at import: real OpenPose output carries quirks that must
never block training, and every change is counted.

Policy (in this order, per point of a (T, 137, 3) array of x, y, confidence in pixels):

1. confidences are clamped to [0, 1] (OpenPose writes tiny negatives such as -1.5e-4, and a few > 1);
2. a point whose confidence is below ``min_confidence`` becomes missing (0, 0, 0);
3. a point outside the frame, x outside [0, width) or y outside [0, height), becomes missing;
4. frames with nobody stay all-missing (they are missing frames, not errors).

Frames with several people are resolved before this, by :func:`track_subject`: the subject is the person nearest to
where the subject was last seen, starting from the median position of the single-person frames (in a press
conference the athlete is the one person OpenPose finds in almost every frame), so the choice stays on one person
over time instead of jumping to whoever has the largest box in one frame.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["SanitisePolicy", "SanitiseCounts", "sanitise", "track_subject", "PERSON_RULE"]

PERSON_RULE = ("track: the person nearest to the subject's last position (median upper-body point), starting from "
               "the median position over single-person frames")
_UPPER_BODY = np.arange(8)  # BODY_25 nose, neck, shoulders, elbows, wrists, mid-hip: seen above the table


@dataclass(frozen=True)
class SanitisePolicy:
    """Thresholds of the sanitise policy (recorded in the dataset header).

    ``min_confidence`` 0.05 is OpenPose's own default ``--render_threshold`` for the body: points below it are not
    drawn by OpenPose either. Detected hand points of a real press conference have a 10th percentile of 0.12, so the
    threshold removes almost only noise.
    """

    min_confidence: float = 0.05
    drop_outside_frame: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_confidence < 1.0:
            raise ValueError(f"min_confidence must be in [0, 1), got {self.min_confidence}")

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class SanitiseCounts:
    """What the policy changed (points unless named frames)."""

    frames: int = 0
    confidence_clamped: int = 0
    low_confidence: int = 0
    outside_frame: int = 0
    multi_person_frames: int = 0
    nobody_frames: int = 0
    missing_frames: int = 0  # frame files absent from a JSON folder (gaps), or frames padded after the last file

    def add(self, other: SanitiseCounts) -> None:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)

    def to_json(self) -> dict:
        return asdict(self)

    def changed(self) -> int:
        return self.confidence_clamped + self.low_confidence + self.outside_frame


def sanitise(a: np.ndarray, frame_size: tuple[int, int], policy: SanitisePolicy = SanitisePolicy(),
             counts: SanitiseCounts | None = None) -> np.ndarray:
    """Apply ``policy`` to (T, V, 3) ``a`` in place (and return it); add what changed to ``counts``.

    Non-finite values are not handled here: the readers reject them (they are a broken file, not a quirk).
    """
    counts = counts if counts is not None else SanitiseCounts()
    w, h = frame_size
    c = a[..., 2]
    present = (a != 0).any(axis=2)
    clamp = (c < 0) | (c > 1)
    counts.confidence_clamped += int(clamp.sum())
    np.clip(c, 0.0, 1.0, out=c)
    low = present & (c < policy.min_confidence)
    counts.low_confidence += int(low.sum())
    keep = ~low
    if policy.drop_outside_frame:
        x, y = a[..., 0], a[..., 1]
        outside = keep & present & ((x < 0) | (y < 0) | (x >= w) | (y >= h))
        counts.outside_frame += int(outside.sum())
        keep &= ~outside
    a[~keep] = 0.0
    counts.frames += len(a)
    return a


def _positions(ps: np.ndarray) -> np.ndarray:
    """(N, V, 3) people -> (N, 2) positions: median of the confident upper-body points, else of all confident points;
    NaN for a person with no confident point."""
    pos = np.full((len(ps), 2), np.nan, np.float32)
    for sel in (_UPPER_BODY, slice(None)):
        todo = np.flatnonzero(np.isnan(pos[:, 0]))
        if not len(todo):
            break
        part = ps[todo][:, sel]
        xy = np.where(part[..., 2:3] > 0, part[..., :2], np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows stay NaN
            pos[todo] = np.nanmedian(xy, axis=1)
    return pos


def track_subject(people: dict[int, list[np.ndarray]], num_frames: int, num_joints: int) -> tuple[np.ndarray, int]:
    """Choose one person per frame by :data:`PERSON_RULE`; return (num_frames, V, 3) and the multi-person count.

    Args:
        people: frame index -> that frame's (V, 3) person arrays (frames absent or empty have nobody).
    """
    out = np.zeros((num_frames, num_joints, 3), np.float32)
    single_t = [t for t in sorted(people) if len(people[t]) == 1]
    if single_t:
        out[single_t] = np.stack([people[t][0] for t in single_t])
    pos_single = dict(zip(single_t, _positions(out[single_t]), strict=True))
    valid = [q for q in pos_single.values() if not np.isnan(q[0])]
    last = np.median(np.stack(valid), axis=0) if valid else None
    multi = 0
    for t in sorted(people):
        persons = people[t]
        if len(persons) == 1:
            here = pos_single[t]
        elif persons:
            multi += 1
            pos = _positions(np.stack(persons))
            if last is None:  # nobody seen alone yet: the largest box of confident points
                i = max(range(len(persons)), key=lambda k: _box_area(persons[k]))
            else:
                dist = np.hypot(*(pos - last).T)
                i = int(np.argmin(np.where(np.isnan(dist), np.inf, dist)))
            out[t] = persons[i]
            here = pos[i]
        else:
            continue
        if not np.isnan(here[0]):
            last = here
    return out, multi


def _box_area(p: np.ndarray) -> float:
    xy = p[p[:, 2] > 0, :2]
    return float(np.prod(xy.max(0) - xy.min(0))) if len(xy) else -1.0
