"""Micro-gesture detection on untrimmed skeletons: sliding windows, smoothing, events, and event-level F1.

A trained skeleton branch classifies fixed windows (``window`` seconds, every ``stride`` seconds) of a long
OpenPose-137 skeleton (T, 137, 3), each through the checkpoint's own test views. Optionally (``baseline`` seconds)
each window's probabilities are turned into a contrast against the recent past: minus the per-class median of the
windows of the last ``baseline`` seconds, clipped at 0. A classifier trained on trimmed clips has no "idle" class and
answers idle stretches with a flat, subject-specific profile (on the synthetic benchmark: "shake shoulders" and
"rub/hold hands" at about 0.25); the contrast removes it, so a gesture shows up as the class that rises. The scores
are then smoothed over neighbouring windows (centred mean or median of ``smooth`` windows, truncated at the ends),
each window is labelled with its top class, or background when that class is a background class (default: the non-MG
class, "illustrative gestures (non-MG)", a real iMiGUE class) or its score is under ``min_score``, and runs of
windows with the same label become events. Window i owns the frames between the midpoints of its centre and its
neighbours' centres, so events tile the timeline without overlaps.

Windows start at 0, stride, 2 x stride, ... while they fit; when the last one stops short of the end, one more window
ends at the last frame; a recording shorter than a window is one window. :mod:`microgesture.online` computes the same
windows and events causally, frame by frame.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["DetectConfig", "DetectError", "Event", "WindowScorer", "Detection", "detect", "as_scorer", "window_starts",
           "window_frames", "window_valid", "window_labels", "baseline_contrast", "smooth_probs", "events_from_probs",
           "background_labels", "EVENT_COLUMNS"]

EVENT_COLUMNS = ("start_s", "end_s", "start_frame", "end_frame", "label", "class", "score")


class DetectError(ValueError):
    """Detection that cannot run (a branch that reads no skeleton, a bad setting); the message says why."""


@dataclass(frozen=True, kw_only=True)
class DetectConfig:
    """Sliding-window detection settings. The defaults are the best of a small grid (window 1/1.5/2 s, smooth 1/3/5,
    min_score 0.1-0.5, baseline 0/30 s) on validation recordings of the synthetic untrimmed benchmark
    (bench/bench_detect.py); they are a starting point, not tuned for real interviews.

    Attributes:
        window: window length, seconds.
        stride: step between windows, seconds.
        smooth: windows in the centred smoothing filter (odd; 1 = none).
        smooth_method: "mean" or "median" over those windows.
        min_score: a window whose top smoothed score (probability, or contrast with ``baseline``) is lower is
            background.
        baseline: seconds of past windows whose per-class median is subtracted from each window's probabilities
            (causal, so streaming gives the same result); 0 = off. The first few windows of a recording (the median
            then has little history) and gestures longer than about half the baseline are damped by it.
        background: class names or indices treated as background; None = every class whose name contains
            "non-MG" (the iMiGUE non-micro-gesture class).
        min_windows: drop events shorter than this many windows.
        batch_size: windows per forward pass (offline).
    """

    window: float = 1.0
    stride: float = 0.5
    smooth: int = 3
    smooth_method: str = "mean"
    min_score: float = 0.2
    baseline: float = 30.0
    background: tuple[str | int, ...] | None = None
    min_windows: int = 1
    batch_size: int = 32

    def __post_init__(self) -> None:
        if not self.window > 0 or not self.stride > 0:
            raise DetectError(f"window and stride must be > 0 seconds, got {self.window} and {self.stride}")
        if self.smooth < 1 or self.smooth % 2 == 0:
            raise DetectError(f"smooth must be an odd number of windows >= 1, got {self.smooth}")
        if self.baseline < 0:
            raise DetectError(f"baseline must be >= 0 seconds, got {self.baseline}")
        if self.smooth_method not in ("mean", "median"):
            raise DetectError(f"smooth_method must be mean or median, not {self.smooth_method!r}")

    def frames(self, fps: float) -> tuple[int, int]:
        """(window, stride) in frames at ``fps``."""
        return max(1, int(round(self.window * fps))), max(1, int(round(self.stride * fps)))

    def baseline_windows(self, fps: float) -> int:
        """Past windows in the baseline median (0 = no baseline)."""
        return int(round(self.baseline * fps / self.frames(fps)[1])) if self.baseline > 0 else 0


@dataclass(frozen=True)
class Event:
    """A detected (or ground-truth) event: frames ``start..end`` inclusive, class ``label`` named ``name``."""

    start: int
    end: int
    label: int
    name: str
    score: float
    fps: float

    @property
    def start_s(self) -> float:
        return self.start / self.fps

    @property
    def end_s(self) -> float:
        return (self.end + 1) / self.fps

    @property
    def num_frames(self) -> int:
        return self.end - self.start + 1


def background_labels(classes: Sequence[str], background: Sequence[str | int] | None) -> frozenset[int]:
    """Class indices treated as background (see :class:`DetectConfig`); unknown names are an error."""
    if background is None:
        return frozenset(i for i, c in enumerate(classes) if "non-mg" in c.lower())
    out = set()
    for b in background:
        if isinstance(b, int) or (isinstance(b, str) and b.lstrip("-").isdigit()):
            i = int(b)
            if not -len(classes) <= i < len(classes):
                raise DetectError(f"background class {i} is out of range (0..{len(classes) - 1})")
            out.add(i % len(classes))
        elif b in classes:
            out.add(classes.index(b))
        else:
            raise DetectError(f"background class {b!r} is not one of the model's classes")
    return frozenset(out)


# -- windows, smoothing, segmentation (pure numpy; microgesture.online mirrors them causally)
# -----------------------------
def window_starts(num_frames: int, window: int, stride: int) -> np.ndarray:
    """First frame of every window (see the module docstring)."""
    if num_frames <= 0:
        return np.zeros(0, np.int64)
    if num_frames <= window:
        return np.zeros(1, np.int64)
    s = np.arange(0, num_frames - window + 1, stride, dtype=np.int64)
    if s[-1] + window < num_frames:
        s = np.append(s, num_frames - window)
    return s


def window_frames(starts: np.ndarray, window: int, num_frames: int) -> np.ndarray:
    """(N + 1,) frame boundaries: window i owns frames [b[i], b[i + 1]), split at the midpoints of window centres."""
    s = np.asarray(starts, np.int64)
    b = np.empty(len(s) + 1, np.int64)
    b[0], b[-1] = 0, num_frames
    b[1:-1] = (s[:-1] + s[1:] + window) // 2
    return b


def baseline_contrast(probs: np.ndarray, n: int) -> np.ndarray:
    """(N, K) probabilities minus the per-class median of each window and its ``n`` predecessors, clipped at 0."""
    p = np.asarray(probs, np.float64)
    if n <= 0 or len(p) == 0:
        return p.copy()
    return np.stack([np.clip(p[i] - np.median(p[max(0, i - n):i + 1], axis=0), 0.0, None) for i in range(len(p))])


def smooth_probs(probs: np.ndarray, k: int, method: str = "mean") -> np.ndarray:
    """Centred filter of ``k`` windows over (N, K) probabilities; the ends use the windows that exist."""
    if k <= 1 or len(probs) == 0:
        return np.asarray(probs, np.float64).copy()
    h = k // 2
    red = np.mean if method == "mean" else np.median
    return np.stack([red(probs[max(0, i - h):i + h + 1], axis=0) for i in range(len(probs))])


def window_valid(window: np.ndarray, min_present: float = 0.5) -> bool:
    """Whether a (T, 137, 3) window shows a person: at least ``min_present`` of its frames have a detected joint.
    Windows without a person are background whatever the model says (it was never trained on empty input)."""
    return bool((np.asarray(window)[..., 2] > 0).any(-1).mean() >= min_present) if len(window) else False


def window_labels(probs: np.ndarray, background: frozenset[int], min_score: float,
                  valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top class of each window and its probability; -1 for background, a top probability under min_score, or a
    window without a person (``valid`` False)."""
    top = probs.argmax(1)
    score = probs[np.arange(len(probs)), top]
    ok = (score >= min_score) & ~np.isin(top, list(background))
    if valid is not None:
        ok &= np.asarray(valid, bool)
    return np.where(ok, top, -1), score


def events_from_probs(probs: np.ndarray, starts: np.ndarray, *, window: int, num_frames: int, fps: float,
                      classes: Sequence[str], background: frozenset[int], min_score: float,
                      min_windows: int = 1, valid: np.ndarray | None = None) -> list[Event]:
    """Runs of windows with the same non-background label -> events (score = mean probability of that class)."""
    lab, _ = window_labels(probs, background, min_score, valid)
    b = window_frames(starts, window, num_frames)
    events = []
    change = np.flatnonzero(np.diff(lab)) + 1
    for a, e in zip(np.r_[0, change], np.r_[change, len(lab)], strict=True):
        c = int(lab[a])
        if c < 0 or e - a < min_windows:
            continue
        events.append(Event(int(b[a]), int(b[e]) - 1, c, classes[c], float(probs[a:e, c].mean()), fps))
    return events


# -- the model side ---------------------------------------------------------------------------------------------------
class WindowScorer:
    """Class probabilities of skeleton windows through a checkpoint's test pipeline (views averaged).

    Args:
        model: a :class:`microgesture.train.BranchModule`, or a checkpoint / run directory to load.
    """

    def __init__(self, model):
        import torch

        from microgesture.inputs.skeleton import SkeletonPipeline
        from microgesture.train import BranchModule, load_checkpoint

        module = model if isinstance(model, BranchModule) else load_checkpoint(model)
        if not isinstance(module.pipeline, SkeletonPipeline):
            raise DetectError(f"branch {module.cfg.branch} reads {module.branch.modality}; detection runs skeleton-"
                              "coordinate branches (joint-*) only for now")
        self.module = module.eval()
        # pose files are OpenPose-137: rebuild the pipeline for it if the checkpoint was trained on another layout
        try:
            self.pipeline = module.branch.make_pipeline(module.input_cfg, "openpose137")
        except ValueError as e:
            raise DetectError(f"branch {module.cfg.branch} cannot read OpenPose-137 skeletons: {e}") from None
        self.classes = module.classes
        self._torch = torch

    def __call__(self, windows: Sequence[np.ndarray]) -> np.ndarray:
        """(N, K) probabilities of N windows, each a (T_i, 137, 3) skeleton."""
        torch = self._torch
        if not len(windows):
            return np.zeros((0, len(self.classes)))
        views = np.stack([self.pipeline.transform.test_views(w) for w in windows])  # (N, views, C, T, V)
        with torch.no_grad():
            logp = self.module.predict_views({self.pipeline.key: torch.from_numpy(views)})
        return torch.softmax(logp.float(), dim=-1).numpy().astype(np.float64)


@dataclass
class Detection:
    """Result of :func:`detect`: events, raw (N, K) window probabilities (all-zero rows for windows without a
    person), the smoothed scores the events come from, window starts (frames) and which windows show a person."""

    events: list[Event]
    probs: np.ndarray
    smoothed: np.ndarray
    starts: np.ndarray
    window: int
    stride: int
    num_frames: int
    fps: float
    classes: tuple[str, ...]
    valid: np.ndarray | None = None

    def resegment(self, config: DetectConfig) -> list[Event]:
        """Events under other smoothing / background / min_score settings of the same windows, without re-scoring
        (window and stride must be those of this detection)."""
        sm = smooth_probs(baseline_contrast(self.probs, config.baseline_windows(self.fps)), config.smooth,
                          config.smooth_method)
        return events_from_probs(sm, self.starts, window=self.window, num_frames=self.num_frames, fps=self.fps,
                                 classes=self.classes, background=background_labels(self.classes, config.background),
                                 min_score=config.min_score, min_windows=config.min_windows, valid=self.valid)

    def top_k(self, frame: int, k: int = 3) -> list[tuple[str, float]]:
        """The k most probable classes (smoothed) of the window that owns ``frame``."""
        if not len(self.starts):
            return []
        b = window_frames(self.starts, self.window, self.num_frames)
        i = int(np.clip(np.searchsorted(b, frame, side="right") - 1, 0, len(self.starts) - 1))
        p = self.smoothed[i]
        return [(self.classes[j], float(p[j])) for j in np.argsort(-p)[:k]]


def as_scorer(model):
    """A checkpoint path or BranchModule -> :class:`WindowScorer`; anything else is used as is (an object with
    ``classes`` and ``__call__(windows) -> (N, K)`` probabilities, e.g. a WindowScorer or a test double)."""
    if isinstance(model, (str, os.PathLike)):
        return WindowScorer(model)
    # not imported yet: model cannot be a BranchModule (and torch stays out)
    train = sys.modules.get("microgesture.train")
    return WindowScorer(model) if train is not None and isinstance(model, train.BranchModule) else model


def detect(model, skeleton: np.ndarray, *, fps: float, config: DetectConfig | None = None) -> Detection:
    """Detect events in a (T, 137, 3) skeleton. ``model``: a checkpoint path, a BranchModule or a scorer
    (see :func:`as_scorer`)."""
    cfg = config or DetectConfig()
    scorer = as_scorer(model)
    skel = np.asarray(skeleton, np.float32)
    if skel.ndim != 3 or skel.shape[1:] != (137, 3):
        raise DetectError(f"skeleton must be (T, 137, 3) OpenPose-137, got {skel.shape}")
    w, s = cfg.frames(fps)
    t = len(skel)
    starts = window_starts(t, w, s)
    probs = np.zeros((len(starts), len(scorer.classes)))
    valid = np.array([window_valid(skel[a:a + w]) for a in starts], bool)
    from microgesture.progress import track

    batches = range(0, len(starts), cfg.batch_size)
    for i in track(batches, "detect", total=len(starts), unit="windows",
                   weight=lambda i: min(cfg.batch_size, len(starts) - i)):
        sel = [j for j in range(i, min(i + cfg.batch_size, len(starts))) if valid[j]]
        if sel:
            probs[sel] = scorer([skel[starts[j]:starts[j] + w] for j in sel])
    # windows without a person count as all-zero rows in the baseline and the smoothing
    sm = smooth_probs(baseline_contrast(probs, cfg.baseline_windows(fps)), cfg.smooth, cfg.smooth_method)
    bg = background_labels(scorer.classes, cfg.background)
    events = events_from_probs(sm, starts, window=w, num_frames=t, fps=fps, classes=scorer.classes, background=bg,
                               min_score=cfg.min_score, min_windows=cfg.min_windows, valid=valid)
    return Detection(events=events, probs=probs, smoothed=sm, starts=starts, window=w, stride=s, num_frames=t,
                     fps=fps, classes=tuple(scorer.classes), valid=valid)
