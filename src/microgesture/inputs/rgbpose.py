"""RGBPoseConv3D's two-stream input: RGB frames and pose heatmaps of one clip under one geometric draw.

As MM-Gesture's RGBPoseConv3D pipeline (docs/recipes.md, "RGBPoseConv3D"): uniform sampling of
8 RGB frames and, independently, 32 pose frames over the whole clip; one box over the clip's valid joints padded by
0.25 (x1.25) and made square crops both streams; train: box -> 256 x 256 -> RandomResizedCrop(area 0.56-1) -> 224 ->
flip p = 0.5 (left/right joints swapped), one draw for both streams; validation and test: box -> 256 x 256, no crop
(the authors' ``val_pipeline`` and ``test_pipeline``: both networks are fully convolutional), ``num_test_clips``
temporal views. The heatmaps are drawn at 0.25 of the RGB size (56 in training, 64 at test) with sigma 0.7: the
keypoints are mapped by the same view onto a canvas 4x smaller, which is what scaling the RGB-pixel keypoints by 0.25
does.

Per sample, in the data loader: ``rgb`` uint8 (T, S, S, 3) and ``keypoints`` float32 (rT, V, 3) = x, y on the heatmap
canvas and score (test: a leading views axis on both). On the device (``to_model_input``): ``{"rgb": (B, 3, T, S, S)
normalised, "pose": (B, C, rT, S/4, S/4)}`` heatmap volumes (microgesture.inputs.heatmaps.render_heatmaps), S being
the batch's own side (``size`` in training, the test side otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from microgesture.data.format import Clip, Dataset
from microgesture.inputs.geometry import Box, GeometryConfig, View, clip_box, train_view
from microgesture.inputs.heatmaps import check_pose_input, heatmap_channels, render_heatmaps
from microgesture.inputs.rgb import RGBInputConfig, RGBPipeline
from microgesture.inputs.skeleton import uniform_indices, view_indices
from microgesture.layouts import get_layout, selection

__all__ = ["RGBPoseInputConfig", "RGBPosePipeline", "RGBPOSE_MEAN", "RGBPOSE_STD"]

# RGBPoseConv3D's RGB normalisation, given on the 0-255 scale [C]; stored on the 0-1 scale of microgesture.inputs.rgb
RGBPOSE_MEAN = tuple(v / 255 for v in (66.157, 59.394, 67.089))
RGBPOSE_STD = tuple(v / 255 for v in (62.470, 57.967, 58.183))


@dataclass(frozen=True, kw_only=True)
class RGBPoseInputConfig:
    """Settings of the two-stream input; defaults as RGBPoseConv3D.

    Attributes:
        layout: joints of the heatmaps (a subset of the stored layout); kind: "joint" or "limb" heatmaps.
        clip_len: RGB frames (8); pose_clip_len: heatmap frames (32 = clip_len x the model's speed ratio).
        size: RGB side in training (224); resize: the box's canvas before the random crop (256).
        test_size: RGB side of the validation and test views, 0 = ``resize`` (256, as the authors' pipelines; the
            heatmaps then 64); ``size`` tests at the training side.
        pose_scale: heatmap side / RGB side (0.25 -> 56); sigma: Gaussian sigma in heatmap pixels (0.7).
        geometry: clip box, training crop and flip (:class:`GeometryConfig`; box x1.25 = padding 0.25).
        num_test_clips, flip_test: test views (10 clips, no flip copy).
        flip_convention: keypoints' flip, "pyskl" (x -> W - x, as the source) or "pixel" (the frames' W - 1 - x).
        mean, std: RGB normalisation on the 0-1 scale; antialias: decode downscaled for large boxes.
    """

    layout: str = "mmg36"
    kind: str = "joint"
    clip_len: int = 8
    pose_clip_len: int = 32
    size: int = 224
    resize: int = 256
    test_size: int = 0
    pose_scale: float = 0.25
    sigma: float = 0.7
    geometry: GeometryConfig = field(default_factory=GeometryConfig)
    num_test_clips: int = 10
    flip_test: bool = False
    flip_convention: str = "pyskl"
    mean: tuple[float, float, float] = RGBPOSE_MEAN
    std: tuple[float, float, float] = RGBPOSE_STD
    antialias: bool = True

    def __post_init__(self) -> None:
        check_pose_input("rgbpose input", self.layout, self.kind, self.flip_convention)
        if min(self.clip_len, self.pose_clip_len, self.num_test_clips) < 1 or self.pose_size < 1:
            raise ValueError("rgbpose input: clip_len, pose_clip_len, num_test_clips and size * pose_scale must be "
                             "positive")
        if self.test_size < 0 or (self.test_size and self.heatmap_side(self.test_size) < 1):
            raise ValueError(f"rgbpose input: test_size must be 0 (resize) or a side whose heatmap (x pose_scale) "
                             f"has a pixel, got {self.test_size}")

    @property
    def channels(self) -> int:
        return heatmap_channels(self.layout, self.kind)

    def heatmap_side(self, rgb_side: int) -> int:
        """The heatmap canvas of an RGB view ``rgb_side`` pixels wide: pose_scale of it (224 -> 56, 256 -> 64)."""
        return round(rgb_side * self.pose_scale)

    @property
    def pose_size(self) -> int:
        return self.heatmap_side(self.size)

    @property
    def test_side(self) -> int:
        return self.test_size or self.resize

    @property
    def num_views(self) -> int:
        return self.num_test_clips * (2 if self.flip_test else 1)


class RGBPosePipeline:
    """A clip -> ``rgb`` frames + ``keypoints`` on the heatmap canvas, one view for both (see the module docstring)."""

    key = "rgb"
    pose_key = "keypoints"

    def __init__(self, cfg: RGBPoseInputConfig, source_layout: str) -> None:
        self.cfg = cfg
        self.layout = get_layout(cfg.layout)
        self.select = selection(source_layout, cfg.layout)
        self.edges = self.layout.edges if cfg.kind == "limb" else None
        self.num_views = cfg.num_views
        # decoding, frame-size mapping and normalisation are the RGB branch's
        self.video = RGBPipeline(RGBInputConfig(clip_len=cfg.clip_len, size=cfg.size, num_test_clips=cfg.num_test_clips,
                                                flip_test=cfg.flip_test, mean=cfg.mean, std=cfg.std,
                                                antialias=cfg.antialias))  # fmt: skip
        self.geometry = cfg.geometry

    def _skeleton(self, ds: Dataset, clip: Clip) -> tuple[np.ndarray, np.ndarray, Box]:
        s = ds.skeleton(clip)[:, self.select]
        w, h = ds.header.frame_size
        return s[..., :2], s[..., 2], Box(0.0, 0.0, float(w), float(h))

    def _pose(self, view: View, kp: np.ndarray, sc: np.ndarray) -> np.ndarray:
        """(T, V, 2), (T, V) source keypoints -> (T, V, 3) on the heatmap canvas: the RGB view, pose_scale smaller."""
        ps = self.cfg.heatmap_side(view.size[0])
        kp, sc = View(view.box, (ps, ps), view.flip).keypoints(kp, sc, self.layout.joint_flip,
                                                                 self.cfg.flip_convention)  # fmt: skip
        return np.concatenate([kp, sc[..., None]], -1).astype(np.float32)

    def train_sample(self, ds: Dataset, clip: Clip, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """{rgb: uint8 (T, S, S, 3), keypoints: (rT, V, 3)} under one random crop and flip."""
        kp, sc, frame = self._skeleton(ds, clip)
        # each stream samples its own frames over the whole clip (MMUniformSampleFrames)
        rgb_idx = uniform_indices(clip.num_frames, self.cfg.clip_len, rng)
        pose_idx = uniform_indices(len(kp), self.cfg.pose_clip_len, rng)
        # the box covers the whole clip
        view = train_view(kp, sc, rng, self.geometry, size=self.cfg.size, resize=self.cfg.resize, frame=frame)
        frames = self.video.render(ds, clip, [rgb_idx], [[view]])[0]
        return {self.key: frames, self.pose_key: self._pose(view, kp[pose_idx], sc[pose_idx])}

    def test_sample(self, ds: Dataset, clip: Clip) -> dict[str, np.ndarray]:
        """{rgb: uint8 (views, T, S, S, 3), keypoints: (views, rT, V, 3)}: box -> S x S at the test side, temporal
        clips (x flip)."""
        c = self.cfg
        kp, sc, frame = self._skeleton(ds, clip)
        box = clip_box(kp, sc, self.geometry, frame=frame)
        side = c.test_side
        views = [View(box, (side, side), flip) for flip in ((False, True) if c.flip_test else (False,))]
        rgb_idx = view_indices(clip.num_frames, c.clip_len, c.num_test_clips)
        pose_idx = view_indices(len(kp), c.pose_clip_len, c.num_test_clips)
        frames = self.video.render(ds, clip, rgb_idx, [views] * len(rgb_idx))
        pose = [self._pose(v, kp[i], sc[i]) for i in pose_idx for v in views]
        return {self.key: frames, self.pose_key: np.stack(pose)}

    def to_model_input(self, batch: dict[str, torch.Tensor], *, train: bool) -> dict[str, torch.Tensor]:
        """{"rgb": float (B, 3, T, S, S) normalised, "pose": (B, C, rT, S', S') heatmaps}, on the batch's device."""
        kp = batch[self.pose_key]
        side = self.cfg.heatmap_side(batch[self.key].shape[-2])  # the keypoints' canvas: 56 train, 64 test
        pose = render_heatmaps(kp[..., :2], kp[..., 2], side, self.cfg.sigma, self.edges)
        return {"rgb": self.video.to_model_input(batch, train=train), "pose": pose}
