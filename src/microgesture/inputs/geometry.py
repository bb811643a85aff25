"""Keypoint geometry shared by the heatmap and RGB branches: clip box, crop + resize, random resized crop, flip.

One geometric draw (:class:`View`: a box in the source frame, an output size, a flip flag) is applied to every
modality of a sample, so keypoints, heatmaps and frames stay aligned (STYLE.md: one draw for all modalities).

Coordinates: a keypoint at (x, y) sits on pixel column x, row y (pixel centres at integers, as OpenPose and PoseC3D's
heatmaps use them). A box (x0, y0, x1, y1) maps to a (H, W) canvas by ``x' = (x - x0) * W / (x1 - x0)`` (what
PoseC3D's crop + resize does to keypoints); frames are resampled with the very same map, so a dot on a frame ends where
the transformed keypoint says.

PoseC3D's pipeline (docs/recipes.md): one box over all valid joints of the clip, x1.25, square;
train: box -> 64 x 64 -> RandomResizedCrop(area 0.56-1, aspect 3/4-4/3) -> 56 x 56 -> flip p = 0.5 with left/right
swap; test: box -> 64 x 64, plus the flipped copy. :func:`train_view` and :func:`eval_view` draw those views.

Flip convention: PoseC3D's ``Flip`` maps x to ``W - x``; mirroring an image maps pixel column j to ``W - 1 - j``. The
two differ by one pixel. :func:`flip_keypoints` does PoseC3D's ``W - x`` by default (``convention="pyskl"``) to
reproduce its training data; ``convention="pixel"`` gives ``W - 1 - x``, which agrees exactly with
:func:`flip_frames` and with flipping a rendered volume (:func:`flip_volume`); use it when frames travel along.
Only joints with score > 0 are moved (PoseC3D moves joints whose x is non-zero, i.e. the detected ones).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "Box",
    "View",
    "GeometryConfig",
    "keypoint_box",
    "crop_resize_keypoints",
    "crop_resize_frames",
    "random_resized_crop",
    "flip_keypoints",
    "flip_frames",
    "flip_volume",
    "train_view",
    "clip_box",
    "eval_view",
]

Array = TypeVar("Array", np.ndarray, Tensor)
FlipConvention = Literal["pyskl", "pixel"]


@dataclass(frozen=True)
class Box:
    """An axis-aligned box (x0, y0) - (x1, y1) in pixel coordinates; x1 > x0 and y1 > y0."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def sub_box(self, inner: Box, canvas: tuple[int, int]) -> Box:
        """The source-frame box of ``inner``, a box given on the (H, W) canvas that this box is resized to."""
        sx, sy = self.width / canvas[1], self.height / canvas[0]
        return Box(self.x0 + inner.x0 * sx, self.y0 + inner.y0 * sy, self.x0 + inner.x1 * sx, self.y0 + inner.y1 * sy)


def _np(x: np.ndarray | Tensor) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, Tensor) else np.asarray(x)


def keypoint_box(
    keypoints: np.ndarray | Tensor,
    scores: np.ndarray | Tensor,
    *,
    threshold: float = 0.0,
    scale: float = 1.25,
    square: bool = True,
    min_size: float = 10.0,
    fallback: Box | None = None,
) -> Box:
    """The box around every valid joint of a clip, scaled about its centre and optionally made square.

    Args:
        keypoints: (..., T, V, 2) keypoints of the whole clip (any leading axes, e.g. persons).
        scores: (..., T, V); a joint is valid when its score > ``threshold`` and its coordinates are finite.
        scale: side multiplier, 1.25 as in PoseC3D's PoseCompact (padding 0.25); 1.2 for AIM's 20% margin.
        square: make the box square (the longer side wins), as PoseC3D (hw_ratio 1).
        min_size: smallest side in pixels (PoseC3D leaves a clip whose joints span < 10 px uncropped instead).
        fallback: returned when no joint is valid (e.g. the whole frame); without it that is a ValueError.
    """
    kp, sc = _np(keypoints).reshape(-1, 2), _np(scores).reshape(-1)
    valid = (sc > threshold) & np.isfinite(kp).all(-1)
    if not valid.any():
        if fallback is None:
            raise ValueError("keypoint_box: no joint with score > threshold in the clip")
        return fallback
    lo, hi = kp[valid].min(0).astype(np.float64), kp[valid].max(0).astype(np.float64)
    centre, half = (lo + hi) / 2, (hi - lo) / 2 * scale
    if square:
        half[:] = half.max()
    half = np.maximum(half, min_size / 2)
    return Box(float(centre[0] - half[0]), float(centre[1] - half[1]), float(centre[0] + half[0]),
               float(centre[1] + half[1]))  # fmt: skip


def crop_resize_keypoints(keypoints: Array, box: Box, size: tuple[int, int]) -> Array:
    """Map (..., 2) keypoints from the source frame into the (H, W) canvas that ``box`` is resized to."""
    sx, sy = size[1] / box.width, size[0] / box.height
    if isinstance(keypoints, Tensor):
        off = keypoints.new_tensor([box.x0, box.y0])
        return (keypoints - off) * keypoints.new_tensor([sx, sy])
    return ((keypoints - np.array([box.x0, box.y0])) * np.array([sx, sy])).astype(keypoints.dtype, copy=False)


def crop_resize_frames(frames: Array, box: Box, size: tuple[int, int]) -> Array:
    """Resample frames so that ``box`` fills an (H, W) canvas (bilinear; outside the frame reads 0).

    Uses the same map as :func:`crop_resize_keypoints`: output pixel (i, j) reads source point
    (x0 + j * width / W, y0 + i * height / H). No antialiasing: a box much larger than the canvas aliases.

    Args:
        frames: torch (C, T, H, W) or numpy (T, H, W, C) (e.g. uint8 RGB as decoded); the dtype is kept.
    """
    h, w = size
    sx, sy = box.width / w, box.height / h  # source pixels per output pixel
    if isinstance(frames, Tensor):
        c, t, fh, fw = frames.shape
        dt = frames.dtype
        work = frames.float() if not frames.is_floating_point() else frames
        xs = box.x0 + sx * torch.arange(w, dtype=torch.float64)
        ys = box.y0 + sy * torch.arange(h, dtype=torch.float64)
        # align_corners=True: normalised -1 / +1 are the centres of the first / last source pixels.
        gx = (2 * xs / max(fw - 1, 1) - 1).to(work.dtype)
        gy = (2 * ys / max(fh - 1, 1) - 1).to(work.dtype)
        grid = torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], -1).to(work.device)
        out = F.grid_sample(work.transpose(0, 1), grid.expand(t, h, w, 2), mode="bilinear", padding_mode="zeros",
                            align_corners=True).transpose(0, 1)  # fmt: skip
        if not dt.is_floating_point:
            out = out.round_().clamp_(torch.iinfo(dt).min, torch.iinfo(dt).max)
        return out.to(dt).contiguous()
    # cv2.warpAffine uses the same pixel-centre convention: dst(j, i) = src(M^-1 (j, i)).
    m = np.array([[1 / sx, 0, -box.x0 / sx], [0, 1 / sy, -box.y0 / sy]], dtype=np.float64)
    out = [cv2.warpAffine(f, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
           for f in frames]  # fmt: skip
    out_arr = np.stack(out) if out else np.zeros((0, h, w, *frames.shape[3:]), frames.dtype)
    return out_arr.reshape(len(frames), h, w, *frames.shape[3:])


def random_resized_crop(
    rng: np.random.Generator,
    size: tuple[int, int],
    *,
    area: tuple[float, float] = (0.56, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    attempts: int = 10,
) -> Box:
    """Draw RandomResizedCrop parameters on an (H, W) canvas, as torchvision / PoseC3D do.

    ``attempts`` candidates with area fraction uniform in ``area`` and log-uniform aspect w/h in ``ratio``, rounded to
    whole pixels; the first that fits is placed uniformly; if none fits, the centred square of side min(H, W).
    Area 0.56-1 as in PoseC3D. Returns the crop as an integer-valued :class:`Box` in canvas coordinates.
    """
    h, w = size
    for _ in range(attempts):
        target = rng.uniform(*area) * h * w
        aspect = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
        cw, ch = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < cw <= w and 0 < ch <= h:
            x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
            return Box(x0, y0, x0 + cw, y0 + ch)
    side = min(h, w)
    x0, y0 = (w - side) // 2, (h - side) // 2
    return Box(x0, y0, x0 + side, y0 + side)


def flip_keypoints(
    keypoints: Array,
    scores: Array,
    *,
    width: float,
    joint_flip: Sequence[int],
    convention: FlipConvention = "pyskl",
) -> tuple[Array, Array]:
    """Mirror (..., V, 2) keypoints horizontally on a canvas ``width`` wide and swap left/right joints.

    Args:
        scores: (..., V); joints with score <= 0 keep their coordinates (they are missing).
        joint_flip: the layout's ``joint_flip`` (joint i takes the place of its mirror joint_flip[i]).
        convention: "pyskl" maps x to W - x (PoseC3D's Flip); "pixel" to W - 1 - x (exact image mirror).
    """
    if convention not in ("pyskl", "pixel"):
        raise ValueError(f"flip_keypoints: convention must be 'pyskl' or 'pixel', got {convention!r}")
    edge = width if convention == "pyskl" else width - 1
    perm = list(joint_flip)
    if len(perm) != keypoints.shape[-2]:
        raise ValueError(f"flip_keypoints: joint_flip has {len(perm)} joints, keypoints {keypoints.shape[-2]}")
    if isinstance(keypoints, Tensor):
        x = torch.where(scores > 0, edge - keypoints[..., 0], keypoints[..., 0])
        kp = torch.stack([x, keypoints[..., 1]], -1)
        idx = torch.as_tensor(perm, device=keypoints.device)
        return kp.index_select(-2, idx), scores.index_select(-1, idx)
    x = np.where(scores > 0, edge - keypoints[..., 0], keypoints[..., 0])
    kp = np.stack([x, keypoints[..., 1]], -1).astype(keypoints.dtype, copy=False)
    return kp[..., perm, :], scores[..., perm]


def flip_frames(frames: Array) -> Array:
    """Mirror torch (C, T, H, W) or numpy (T, H, W, C) frames: column j goes to W - 1 - j."""
    if isinstance(frames, Tensor):
        return frames.flip(-1)
    return np.ascontiguousarray(frames[:, :, ::-1])


def flip_volume(volume: Tensor, channel_flip: Sequence[int]) -> Tensor:
    """Mirror a (..., C, T, H, W) heatmap volume and swap channels: ``joint_flip`` for joints, ``edge_flip`` limbs.

    Equals rendering keypoints flipped with ``convention="pixel"``, up to PoseC3D's window truncation: pixels at the
    edge of a +-3 sigma window (values < exp(-4.5) * score) may appear or vanish.
    """
    idx = torch.as_tensor(list(channel_flip), device=volume.device)
    if idx.numel() != volume.shape[-4]:
        raise ValueError(f"flip_volume: {idx.numel()} channel indices for {volume.shape[-4]} channels")
    return volume.index_select(-4, idx).flip(-1)


@dataclass(frozen=True, kw_only=True)
class GeometryConfig:
    """Where the clip box is, how training crops and flips inside it: the ``geometry`` section of the heatmap, RGB and
    RGBPose inputs (``input: {geometry: {scale: 1.2}}``). Defaults are PoseC3D's (docs/recipes.md);
    the canvas sizes (``size``, ``resize``) belong to each input.

    Attributes:
        scale: box side multiplier about its centre (1.25 = PoseCompact padding 0.25; AIM's RGB crop 1.2).
        square: extend the short side, so the box resizes undistorted.
        threshold: joints with a score above it define the box.
        min_size: smallest box side, pixels.
        area, ratio: RandomResizedCrop ranges inside the box (training).
        flip_prob: training flip probability.
    """

    scale: float = 1.25
    square: bool = True
    threshold: float = 0.0
    min_size: float = 10.0
    area: tuple[float, float] = (0.56, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip_prob: float = 0.5

    def __post_init__(self) -> None:
        if not self.scale > 0 or not 0 < self.area[0] <= self.area[1] <= 1 or not 0 < self.ratio[0] <= self.ratio[1]:
            raise ValueError(f"geometry: scale > 0, 0 < area <= 1 and 0 < ratio ranges needed, got scale {self.scale}, "
                             f"area {self.area}, ratio {self.ratio}")
        if not 0 <= self.flip_prob <= 1:
            raise ValueError(f"geometry: flip_prob must be in [0, 1], got {self.flip_prob}")


@dataclass(frozen=True)
class View:
    """One geometric draw: ``box`` (source frame) resized to ``size`` = (H, W), then mirrored if ``flip``."""

    box: Box
    size: tuple[int, int]
    flip: bool = False

    def keypoints(
        self, keypoints: Array, scores: Array, joint_flip: Sequence[int], convention: FlipConvention = "pyskl"
    ) -> tuple[Array, Array]:
        """(..., V, 2) source keypoints and (..., V) scores -> canvas keypoints and (reordered if flipped) scores."""
        kp = crop_resize_keypoints(keypoints, self.box, self.size)
        if not self.flip:
            return kp, scores
        return flip_keypoints(kp, scores, width=self.size[1], joint_flip=joint_flip, convention=convention)

    def frames(self, frames: Array) -> Array:
        """Torch (C, T, H, W) or numpy (T, H, W, C) source frames -> the view's frames."""
        out = crop_resize_frames(frames, self.box, self.size)
        return flip_frames(out) if self.flip else out


def train_view(
    keypoints: np.ndarray | Tensor, scores: np.ndarray | Tensor, rng: np.random.Generator, config: GeometryConfig,
    *, size: int = 56, resize: int = 64, frame: Box | None = None,
) -> View:  # fmt: skip
    """PoseC3D training geometry: clip box -> resize x resize -> random resized crop -> size x size, random flip.

    Args:
        keypoints: (..., T, V, 2) source keypoints of the clip; scores (..., T, V).
        rng: the sample's generator; every random number of the view comes from it.
        size: the output canvas side; resize: the box's canvas before the crop (PoseC3D 56 and 64).
        frame: the whole frame's box, used when no joint is valid.
    """
    box = clip_box(keypoints, scores, config, frame=frame)
    canvas = (resize, resize)
    crop = random_resized_crop(rng, canvas, area=config.area, ratio=config.ratio)
    flip = bool(rng.random() < config.flip_prob)
    return View(box.sub_box(crop, canvas), (size, size), flip)


def clip_box(keypoints: np.ndarray | Tensor, scores: np.ndarray | Tensor, config: GeometryConfig, *,
             frame: Box | None = None) -> Box:
    """The box of ``config`` over a clip's valid joints (``frame`` when there is none)."""
    return keypoint_box(keypoints, scores, threshold=config.threshold, scale=config.scale, square=config.square,
                        min_size=config.min_size, fallback=frame)


def eval_view(
    keypoints: np.ndarray | Tensor, scores: np.ndarray | Tensor, config: GeometryConfig, *, resize: int = 64,
    flip: bool = False, frame: Box | None = None,
) -> View:  # fmt: skip
    """PoseC3D test-time geometry: clip box -> resize x resize (no crop); ``flip=True`` gives the flipped copy."""
    box = clip_box(keypoints, scores, config, frame=frame)
    return View(box, (resize, resize), flip)
