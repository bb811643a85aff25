"""From stored OpenPose-137 skeletons to the input of skeleton-coordinate branches.

Steps (all on one clip, numpy, in the data loader):
    select the layout's joints -> mark joints under the confidence threshold missing -> fill gaps (zero, or linear
    interpolation over time) -> centre on the layout's centre joint (clip mean) and scale by the shoulder width
    (clip median) -> uniform temporal sampling to ``clip_len`` frames -> augment (train) -> features (C, T, V).

Layouts: the stored skeleton is (T, V_src, 3) = x, y, confidence in pixels; the output is float32 (C, T, V) with
C = 3 for ``joint`` (x, y, confidence), +2 for ``bone`` (vector to the parent joint) and +2 for ``motion``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from microgesture.data.format import Clip, Dataset
from microgesture.layouts import Layout, get_layout

if TYPE_CHECKING:
    import torch

__all__ = ["SkeletonInputConfig", "SkeletonTransform", "SkeletonPipeline", "uniform_indices", "view_indices",
           "dense_indices", "dense_view_indices", "parents"]


@dataclass(frozen=True, kw_only=True)
class SkeletonInputConfig:
    """Settings of the skeleton-coordinate input.

    Attributes:
        layout: joints to use (a layout whose joints are a subset of the stored one).
        clip_len: frames after uniform sampling (64 as in AIM's Decoupled ST-CNN input 3x64x68).
        conf_threshold: joints with a lower confidence count as missing.
        fill: "zero" (coordinates 0, confidence 0: the model sees a mask) or "interp" (linear in time; confidence
            stays 0 so the model still knows the joint was missing).
        features: any of "joint", "bone", "motion", concatenated along channels.
        num_test_clips: temporal views at test time (fixed offsets), averaged.
        flip_test: add the horizontally flipped copy of every test view (flip TTA).
        flip_prob, rotate_deg, scale_range, joint_dropout: train-time augmentations.
    """

    layout: str = "aim68"
    clip_len: int = 64
    conf_threshold: float = 0.05
    fill: str = "zero"
    features: tuple[str, ...] = ("joint",)
    num_test_clips: int = 5
    flip_test: bool = True
    flip_prob: float = 0.5
    rotate_deg: float = 10.0
    scale_range: tuple[float, float] = (0.9, 1.1)
    joint_dropout: float = 0.05
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        get_layout(self.layout)
        if self.fill not in ("zero", "interp"):
            raise ValueError(f"fill must be 'zero' or 'interp', not {self.fill!r}")
        bad = [f for f in self.features if f not in ("joint", "bone", "motion")]
        if bad or not self.features:
            raise ValueError(f"features must be a non-empty subset of joint, bone, motion; got {self.features}")
        if self.clip_len < 1 or self.num_test_clips < 1:  # no test view at all would predict nothing
            raise ValueError(f"clip_len and num_test_clips must be at least 1, got {self.clip_len}, "
                             f"{self.num_test_clips}")

    @property
    def channels(self) -> int:
        return sum({"joint": 3, "bone": 2, "motion": 2}[f] for f in self.features)

    @property
    def num_views(self) -> int:
        return self.num_test_clips * (2 if self.flip_test else 1)


def uniform_indices(num_frames: int, clip_len: int, rng: np.random.Generator | None) -> np.ndarray:
    """PoseC3D-style uniform sampling: ``clip_len`` equal segments, one frame from each.

    Train (``rng`` given): a random frame inside each segment. Test (``rng`` None): each segment's centre. Clips shorter
    than ``clip_len`` repeat frames in order (a stretch, never a loop, so the gesture's order survives).
    """
    edges = np.linspace(0, num_frames, clip_len + 1)
    lo, hi = edges[:-1], edges[1:]
    if rng is None:
        idx = (lo + hi) / 2
    else:
        idx = lo + rng.random(clip_len) * (hi - lo)
    return np.clip(np.floor(idx).astype(np.int64), 0, num_frames - 1)


def view_indices(num_frames: int, clip_len: int, num_clips: int) -> list[np.ndarray]:
    """``num_clips`` deterministic index sets: segment positions spread evenly inside each segment."""
    edges = np.linspace(0, num_frames, clip_len + 1)
    lo, hi = edges[:-1], edges[1:]
    out = []
    for k in range(num_clips):
        frac = (k + 0.5) / num_clips
        out.append(np.clip(np.floor(lo + frac * (hi - lo)).astype(np.int64), 0, num_frames - 1))
    return out


def dense_indices(num_frames: int, clip_len: int, interval: int, rng: np.random.Generator | None) -> np.ndarray:
    """Dense sampling (mmaction2's ``SampleFrames``, one clip): ``clip_len`` frames ``interval`` apart from one start.

    Train (``rng`` given): a random start among those whose window fits in the clip; test: the centred window. A clip
    shorter than the window (``clip_len * interval`` frames) starts at 0 and loops (frame k is k mod num_frames), as
    mmaction2 does by default, so a Video Swin recipe sees the frames its authors' pipeline fed it.
    """
    span = clip_len * interval
    if rng is None:
        start = max(num_frames - span, 0) // 2
    else:
        start = int(rng.integers(num_frames - span + 1)) if num_frames >= span else 0
    return (start + np.arange(clip_len) * interval) % num_frames


def dense_view_indices(num_frames: int, clip_len: int, interval: int, num_clips: int) -> list[np.ndarray]:
    """``num_clips`` dense windows for testing: starts spread evenly from the first to the last window that fits
    (mmaction2's test-mode ``SampleFrames``, rounding half to even as numpy does); one clip: the centred window."""
    span = clip_len * interval
    if num_clips == 1:
        return [dense_indices(num_frames, clip_len, interval, None)]
    starts = np.round(np.arange(num_clips) * (max(num_frames - span, 0) / (num_clips - 1))).astype(np.int64)
    return [(s + np.arange(clip_len) * interval) % num_frames for s in starts]


def parents(layout: Layout) -> np.ndarray:
    """Parent of each joint in a BFS tree of the layout's edges rooted at its centre (root and islands: self)."""
    n = layout.num_joints
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in layout.edges:
        adj[a].append(b)
        adj[b].append(a)
    par = np.arange(n)
    seen = np.zeros(n, bool)
    roots = [layout.center[0]] + list(range(n))
    for r in roots:
        if seen[r]:
            continue
        seen[r] = True
        queue = [r]
        while queue:
            u = queue.pop(0)
            for v in adj[u]:
                if not seen[v]:
                    seen[v] = True
                    par[v] = u
                    queue.append(v)
    return par


def _interp_missing(xy: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Linear interpolation over time of each joint's missing frames; edges hold the nearest valid value."""
    t = np.arange(xy.shape[0])
    out = xy.copy()
    for v in range(xy.shape[1]):
        ok = valid[:, v]
        if ok.all() or not ok.any():
            continue
        for c in range(2):
            out[~ok, v, c] = np.interp(t[~ok], t[ok], xy[ok, v, c])
    return out


class SkeletonTransform:
    """Turns a stored skeleton (T, V_src, 3) into the branch input (C, T, V); see the module docstring."""

    def __init__(self, cfg: SkeletonInputConfig, *, source_layout: str):
        from microgesture.layouts import selection

        self.cfg = cfg
        self.layout = get_layout(cfg.layout)
        self.select = selection(source_layout, cfg.layout)
        self.parents = parents(self.layout)
        self.flip_perm = np.asarray(self.layout.joint_flip)

    # -- steps -----------------------------------------------------------------------------------------------------
    def normalise(self, skel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Select, fill and normalise. Returns xy (T, V, 2) in shoulder-width units and conf (T, V), 0 if missing."""
        s = np.asarray(skel, dtype=np.float32)[:, self.select]
        xy, conf = s[..., :2].copy(), s[..., 2].copy()
        valid = (conf >= self.cfg.conf_threshold) & np.isfinite(xy).all(-1)
        conf = np.where(valid, conf, 0.0).astype(np.float32)
        xy = np.where(valid[..., None], xy, 0.0)
        if not valid.any():
            return np.zeros_like(xy), conf
        if self.cfg.fill == "interp":
            xy = _interp_missing(xy, valid)
        lay = self.layout
        cen_valid = valid[:, list(lay.center)].all(axis=1)
        if cen_valid.any():
            centre = xy[cen_valid][:, list(lay.center)].mean(axis=(0, 1))
        else:
            centre = xy[valid].mean(axis=0)
        r, left = lay.shoulders
        sh_ok = valid[:, r] & valid[:, left]
        scale = 0.0
        if sh_ok.any():
            scale = float(np.median(np.linalg.norm(xy[sh_ok, r] - xy[sh_ok, left], axis=-1)))
        if not scale > 1e-6:  # no shoulders: fall back to the spread of all valid points
            scale = float(xy[valid].std() * 2) or 1.0
        filled = valid if self.cfg.fill == "zero" else valid.any(axis=0, keepdims=True).repeat(len(xy), 0)
        xy = np.where(filled[..., None], (xy - centre) / scale, 0.0).astype(np.float32)
        return xy, conf

    def features(self, xy: np.ndarray, conf: np.ndarray) -> np.ndarray:
        """(T, V, 2) + (T, V) -> (C, T, V)."""
        parts = []
        for f in self.cfg.features:
            if f == "joint":
                parts.append(np.concatenate([xy, conf[..., None]], axis=-1))
            elif f == "bone":
                parts.append(xy - xy[:, self.parents])
            elif f == "motion":
                m = np.zeros_like(xy)
                m[:-1] = xy[1:] - xy[:-1]
                parts.append(m)
        return np.ascontiguousarray(np.concatenate(parts, axis=-1).transpose(2, 0, 1), dtype=np.float32)

    def flip(self, xy: np.ndarray, conf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mirror x (coordinates are centred, so x -> -x) and swap left/right joints."""
        xy = xy[:, self.flip_perm].copy()
        xy[..., 0] *= -1
        return xy, conf[:, self.flip_perm]

    def augment(self, xy: np.ndarray, conf: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        c = self.cfg
        if rng.random() < c.flip_prob:
            xy, conf = self.flip(xy, conf)
        present = conf > 0
        if c.rotate_deg > 0 or c.scale_range != (1.0, 1.0):
            a = np.deg2rad(rng.uniform(-c.rotate_deg, c.rotate_deg))
            s = rng.uniform(*c.scale_range)
            rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], dtype=np.float32) * s
            xy = np.where(present[..., None], xy @ rot.T, xy).astype(np.float32)
        if c.joint_dropout > 0:
            drop = rng.random(xy.shape[1]) < c.joint_dropout
            xy = xy.copy()
            conf = conf.copy()
            xy[:, drop] = 0.0
            conf[:, drop] = 0.0
        return xy, conf

    # -- entry points ----------------------------------------------------------------------------------------------
    def train_sample(self, skel: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        xy, conf = self.normalise(skel)
        idx = uniform_indices(len(xy), self.cfg.clip_len, rng)
        xy, conf = self.augment(xy[idx], conf[idx], rng)
        return self.features(xy, conf)

    def test_views(self, skel: np.ndarray) -> np.ndarray:
        """(num_views, C, T, V): ``num_test_clips`` temporal views, each followed by its flipped copy if flip_test."""
        xy, conf = self.normalise(skel)
        views = []
        for idx in view_indices(len(xy), self.cfg.clip_len, self.cfg.num_test_clips):
            views.append(self.features(xy[idx], conf[idx]))
            if self.cfg.flip_test:
                views.append(self.features(*self.flip(xy[idx], conf[idx])))
        return np.stack(views)


class SkeletonPipeline:
    """Stored skeleton -> (C, T, V) float32 under key ``joint`` (see :class:`SkeletonTransform`)."""

    key = "joint"

    def __init__(self, cfg: SkeletonInputConfig, source_layout: str):
        self.cfg = cfg
        self.transform = SkeletonTransform(cfg, source_layout=source_layout)
        self.num_views = cfg.num_views

    def train_sample(self, ds: Dataset, clip: Clip, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {self.key: self.transform.train_sample(ds.skeleton(clip), rng)}

    def test_sample(self, ds: Dataset, clip: Clip) -> dict[str, np.ndarray]:
        return {self.key: self.transform.test_views(ds.skeleton(clip))}

    def to_model_input(self, batch: dict[str, torch.Tensor], *, train: bool) -> torch.Tensor:
        return batch[self.key]
