"""RGB input pipeline (and derived videos: Taylor, flow, depth): sampled decoding, skeleton-guided crop, augmentation.

Per clip, in the data loader (numpy, uint8):
    uniform temporal sampling of ``clip_len`` frames (as the skeleton branches; ``frame_interval`` > 0 samples them
    densely instead, ``frame_interval`` apart, as mmaction2's Video Swin pipeline) -> one box for the whole clip over
    the skeleton's valid joints, x``geometry.scale`` (1.2 = AIM's 20% margin, 1.25 = PoseC3D), square so nothing is
    stretched (``crop: none`` uses the whole frame instead) -> train: RandomResizedCrop inside the box (area 0.56-1,
    aspect 3/4-4/3, PoseC3D/RGBPoseConv3D) + flip p=0.5; test: the box itself, ``num_test_clips`` temporal views, each
    with its flipped copy (AIM's flip TTA) -> (T, S, S, 3) frames under key ``rgb`` (``taylor``, ``flow``, ``depth``).
The whole frame (``crop: none``) is letterboxed to a square by default; ``resize_short`` > 0 follows mmaction2's
Video Swin pipeline instead: no letterbox, the training RandomResizedCrop is drawn on the frame resized to short side
``resize_short`` (``Resize(-1, 256)``), and each test view is ``test_crops`` windows of S x S along the long side of the
frame resized to short side S (1: the centre, 3: mmaction2's ``ThreeCrop``).
On the device (``to_model_input``): float, /255, mean/std of the backbone's pretraining (torchvision's Kinetics
transforms), layout (B, 3, T, S, S).

Geometry comes from :mod:`microgesture.inputs.geometry` (the same :class:`~microgesture.inputs.geometry.View` can be
applied to a
clip's keypoints, so an RGB + pose branch shares one draw). Views live in the skeleton's pixel frame,
``header.frame_size``; a video of another size is mapped by scaling (x * W_video / W_header). Only the sampled frames
are decoded (:func:`microgesture.data.video.read_frames`); when the box is much larger than the output the frames are
decoded already downscaled with an area filter, which antialiases and saves conversion time.

Unreadable videos (``on_error``): ``error`` (default) stops with a VideoError naming the file and frame. ``skip``
applies to training only: a training sample's clip is replaced by the next readable train clip *of the same class* (so
the label stays true); every replacement is appended to ``skipped_clips.jsonl`` in the run directory and printed.
Validation and test clips always raise: every evaluated clip needs a real prediction. (The train-split predictions
written after training, a diagnostic, get black frames for an unreadable clip, also recorded in the report.)
"""

from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from microgesture.data.format import Clip, Dataset, DatasetError
from microgesture.data.video import VideoError, probe_video, read_frames
from microgesture.inputs.geometry import Box, GeometryConfig, View, clip_box, random_resized_crop
from microgesture.inputs.parts import DEFAULT_PARTS, check_parts, part_tracks, tile
from microgesture.inputs.skeleton import dense_indices, dense_view_indices, uniform_indices, view_indices

log = logging.getLogger(__name__)

__all__ = ["RGBInputConfig", "RGBPipeline", "KINETICS_MEAN", "KINETICS_STD", "IMAGENET_MEAN", "IMAGENET_STD",
           "SKIP_REPORT"]

# torchvision's VideoClassification defaults, used by its Kinetics-400 R(2+1)D weights
KINETICS_MEAN, KINETICS_STD = (0.43216, 0.394666, 0.37645), (0.22803, 0.22145, 0.216989)
# torchvision's Swin3D Kinetics-400 weights declare ImageNet statistics (their 2-D weights were inflated)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
SKIP_REPORT = "skipped_clips.jsonl"


@dataclass(frozen=True, kw_only=True)
class RGBInputConfig:
    """Settings of a video input.

    Attributes:
        video_column: clips.csv column of the video: ``video_path`` (frames ``[video_start, video_start + n)`` of a
            clip file or a long video) or a derived one (``taylor_path``, ``flow_path``, ``depth_path``: one file per
            clip from frame 0; indices are clamped to the file's length, Taylor videos having n - 5 frames).
        clip_len: frames sampled per view (AIM 24-32, Video Swin 32).
        frame_interval: 0 samples ``clip_len`` frames uniformly over the whole clip, one per equal segment (PoseC3D,
            AIM); k > 0 takes ``clip_len`` consecutive frames k apart from one start (mmaction2's ``SampleFrames``,
            MM-Gesture's Video Swin: 32 frames at interval 2): train from a random start, test ``num_test_clips``
            windows spread over the clip; a clip shorter than the window loops, as mmaction2's does.
        size: output side in pixels (224 as in AIM and Video Swin).
        crop: ``skeleton`` (box over the clip's valid joints), ``none`` (the whole frame) or ``parts`` (a 2 x 2
            mosaic of body, face and hand crops, :mod:`microgesture.inputs.parts`; OpenPose-137 skeletons).
        parts: ``crop: parts`` only; the mosaic's four crops, left to right and top to bottom (``mouth`` is a close
            crop of the lips).
        geometry: the clip box (``scale`` 1.2 = AIM's 20% margin, 1.25 = PoseC3D; ``square`` extends the short side
            so the box resizes to size x size undistorted, letterbox for ``none``; joints with confidence above
            ``threshold`` define it), the RandomResizedCrop range inside it and the training flip probability.
        resize_short: ``crop: none`` only; 0 letterboxes the frame (``geometry.square``); > 0 resizes its short side
            to this before the training RandomResizedCrop (mmaction2's Video Swin: 256) and takes ``test_crops``
            S x S windows along the long side of the frame resized to short side S at test, no letterbox.
        test_crops: 1 (the centre window, or the box itself without ``resize_short``) or 3 (left, centre, right:
            mmaction2's ``ThreeCrop``; needs ``resize_short``).
        num_test_clips, flip_test: test views = temporal clips x test_crops x (1 or 2 with the flipped copy).
        mean, std: normalisation on the 0-1 scale (the backbone's pretraining statistics).
        antialias: decode downscaled when the box is over 1.5x the output size.
        on_error: ``error`` or ``skip`` (training only; see the module docstring).
    """

    video_column: str = "video_path"
    clip_len: int = 32
    frame_interval: int = 0
    size: int = 224
    crop: str = "skeleton"
    parts: tuple[str, ...] = DEFAULT_PARTS
    geometry: GeometryConfig = field(default_factory=lambda: GeometryConfig(scale=1.2, threshold=0.05))
    num_test_clips: int = 2
    flip_test: bool = True
    resize_short: int = 0
    test_crops: int = 1
    mean: tuple[float, float, float] = KINETICS_MEAN
    std: tuple[float, float, float] = KINETICS_STD
    antialias: bool = True
    on_error: str = "error"

    def __post_init__(self) -> None:
        if self.video_column != "video_path" and not self.video_column.endswith("_path"):
            raise ValueError(f"video_column must be video_path or a derived *_path column, not {self.video_column!r}")
        if self.crop not in ("skeleton", "none", "parts"):
            raise ValueError(f"crop must be 'skeleton', 'none' or 'parts', not {self.crop!r}")
        object.__setattr__(self, "parts", check_parts(self.parts))  # a YAML list becomes the tuple
        if self.crop == "parts" and self.size % 2:
            raise ValueError(f"crop 'parts' tiles four size/2 crops: size must be even, got {self.size}")
        if self.on_error not in ("error", "skip"):
            raise ValueError(f"on_error must be 'error' or 'skip', not {self.on_error!r}")
        if self.frame_interval < 0:
            raise ValueError(f"frame_interval must be 0 (uniform sampling) or a positive interval, got "
                             f"{self.frame_interval}")
        if self.clip_len < 1 or self.size < 8 or self.num_test_clips < 1:
            raise ValueError(f"clip_len >= 1, size >= 8 and num_test_clips >= 1 needed, got {self.clip_len}, "
                             f"{self.size}, {self.num_test_clips}")
        if self.resize_short and (self.crop != "none" or self.resize_short < self.size):
            raise ValueError(f"resize_short needs crop 'none' and at least size ({self.size}), got crop "
                             f"{self.crop!r}, resize_short {self.resize_short}")
        if self.test_crops not in (1, 3) or (self.test_crops == 3 and not self.resize_short):
            raise ValueError(f"test_crops must be 1 or 3 (3 needs resize_short), got {self.test_crops}")
        if len(self.mean) != 3 or len(self.std) != 3:
            raise ValueError("mean and std need 3 values (R, G, B)")

    @property
    def num_views(self) -> int:
        return self.num_test_clips * self.test_crops * (2 if self.flip_test else 1)


@functools.lru_cache(maxsize=1 << 16)
def _frame_count(path: str, mtime_ns: int, size: int) -> int:
    return int(probe_video(path)["num_frames"])


def frame_count(path: str | os.PathLike) -> int:
    """Frames of a video file, cached per process while the file is unchanged (mtime and size)."""
    try:
        st = os.stat(path)
    except OSError:
        raise VideoError(f"{path}: video not found") from None
    return _frame_count(str(path), st.st_mtime_ns, st.st_size)


def frame_box(frame_size: tuple[int, int], *, square: bool) -> Box:
    """The whole (width, height) frame as a box; ``square`` extends the short side about the centre (letterbox)."""
    w, h = frame_size
    if not square or w == h:
        return Box(0.0, 0.0, float(w), float(h))
    half = max(w, h) / 2
    return Box(w / 2 - half, h / 2 - half, w / 2 + half, h / 2 + half)


def short_side_canvas(frame: Box, short: int) -> tuple[int, int]:
    """(H, W) of ``frame`` resized so that its short side is ``short`` (mmcv's keep-ratio rounding)."""
    k = short / min(frame.width, frame.height)
    return int(frame.height * k + 0.5), int(frame.width * k + 0.5)


def long_side_crops(canvas: tuple[int, int], size: int, n: int) -> list[Box]:
    """``n`` (1 or 3) size x size windows along the long side of an (H, W) canvas whose short side is ``size``:
    the centre, or mmaction2's ``ThreeCrop`` order (start, end, centre; the end one at twice the centre offset)."""
    h, w = canvas
    step = (max(h, w) - size) // 2
    offsets = [step] if n == 1 else [0, 2 * step, step]
    if w >= h:
        return [Box(o, 0, o + size, size) for o in offsets]
    return [Box(0, o, size, o + size) for o in offsets]


def _to_frame(b: Box, sx: float, sy: float) -> Box:
    """A box in the skeleton's pixel frame -> the decoded frame scaled by (sx, sy); pixel centres at integers:
    x -> (x + 0.5) * s - 0.5."""
    return Box((b.x0 + 0.5) * sx - 0.5, (b.y0 + 0.5) * sy - 0.5, (b.x1 + 0.5) * sx - 0.5, (b.y1 + 0.5) * sy - 0.5)


class RGBPipeline:
    """A clip's video -> uint8 (T, S, S, 3) frames (train) or (views, T, S, S, 3) (test); see the module docstring."""

    def __init__(self, cfg: RGBInputConfig, source_layout: str = ""):
        self.cfg = cfg
        col = cfg.video_column
        self.key = "rgb" if col == "video_path" else col.removesuffix("_path")
        self.num_views = cfg.num_views
        self.run_dir: Path | None = None
        self._bad: set[str] = set()

    def set_run_dir(self, path: str | os.PathLike) -> None:
        """Where training writes ``skipped_clips.jsonl`` (``fit`` calls it with the run directory)."""
        self.run_dir = Path(path)

    # -- geometry ----------------------------------------------------------------------------------------------------
    def clip_box(self, ds: Dataset, clip: Clip) -> Box:
        """The clip's box in the skeleton's pixel frame (header.frame_size)."""
        c = self.cfg
        whole = frame_box(ds.header.frame_size, square=c.geometry.square and not c.resize_short)
        if c.crop == "none":
            return whole
        if not ds.has_skeletons:
            raise DatasetError(f"{ds.root}: dataset {ds.header.name!r} has no skeletons, so input.crop=skeleton "
                               "cannot work; set input.crop=none")
        skel = ds.skeleton(clip)
        # a clip whose joints are all missing falls back to the whole frame
        return clip_box(skel[..., :2], skel[..., 2], c.geometry, frame=whole)

    def train_view(self, box: Box, rng: np.random.Generator) -> View:
        """RandomResizedCrop inside ``box`` and a random flip; one draw, applicable to frames and keypoints."""
        s = self.cfg.size
        g = self.cfg.geometry
        canvas = short_side_canvas(box, self.cfg.resize_short) if self.cfg.resize_short else (s, s)
        crop = random_resized_crop(rng, canvas, area=g.area, ratio=g.ratio)
        flip = bool(rng.random() < g.flip_prob)
        return View(box.sub_box(crop, canvas), (s, s), flip)

    def test_views(self, box: Box) -> list[View]:
        """Per temporal clip: the box (or, with ``resize_short``, each of the ``test_crops`` windows), each followed
        by its flipped copy when ``flip_test``."""
        s = self.cfg.size
        boxes = [box]
        if self.cfg.resize_short:
            canvas = short_side_canvas(box, s)
            boxes = [box.sub_box(w, canvas) for w in long_side_crops(canvas, s, self.cfg.test_crops)]
        flips = (False, True) if self.cfg.flip_test else (False,)
        return [View(b, (s, s), f) for b in boxes for f in flips]

    # -- decoding ----------------------------------------------------------------------------------------------------
    def video_frames(self, ds: Dataset, clip: Clip, indices: np.ndarray) -> tuple[Path, np.ndarray]:
        """The clip's video file and the file's frame numbers of the clip frames ``indices``."""
        col = self.cfg.video_column
        path = ds.video_file(clip, col)
        if path is None:
            hint = "" if col == "video_path" else f" (run `microgesture extract {self.key}` first)"
            raise DatasetError(f"{ds.root / 'clips.csv'}: clip {clip.clip_id} has no {col}{hint}")
        if col == "video_path":
            return path, clip.video_start + np.asarray(indices)
        return path, np.minimum(indices, frame_count(path) - 1)

    def render(self, ds: Dataset, clip: Clip, indices: list[np.ndarray], views: list[list[View]]) -> np.ndarray:
        """Decode the union of the temporal ``indices`` once and apply every view of each: (N, T, S, S, 3) uint8.

        Args:
            indices: per temporal view, the clip frames (T,).
            views: per temporal view, the geometric views in the skeleton's pixel frame.
        """
        path, file_idx = self.video_frames(ds, clip, np.concatenate(indices))
        # source pixels per output pixel of the most detailed view
        side = min(min(v.box.width / v.size[1], v.box.height / v.size[0]) for vs in views for v in vs)
        scale = side if self.cfg.antialias and side >= 1.5 else 1.0
        frames = read_frames(path, file_idx, scale=scale)
        fw, fh = ds.header.frame_size
        sx, sy = frames.shape[2] / fw, frames.shape[1] / fh  # skeleton pixel frame -> decoded frame

        out, k = [], 0
        for idx, vs in zip(indices, views, strict=True):
            f = frames[k : k + len(idx)]
            k += len(idx)
            out += [View(_to_frame(v.box, sx, sy), v.size, v.flip).frames(f) for v in vs]
        return np.stack(out)

    # -- Pipeline protocol -------------------------------------------------------------------------------------------
    def train_sample(self, ds: Dataset, clip: Clip, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """{key: uint8 (T, S, S, 3)}: one random temporal sample and view."""
        try:
            return {self.key: self._train_frames(ds, clip, rng)}
        except VideoError as e:
            if self.cfg.on_error != "skip":
                raise
            self._bad.add(clip.clip_id)
            for other in self._same_class(ds, clip):
                try:
                    x = self._train_frames(ds, other, rng)
                except VideoError:
                    self._bad.add(other.clip_id)
                    continue
                self._report(ds, clip, other, e)
                return {self.key: x}
            raise VideoError(f"{e} (on_error=skip: no other clip of class {clip.label} in split {clip.split!r} "
                             "is readable either)") from None

    def _train_frames(self, ds: Dataset, clip: Clip, rng: np.random.Generator) -> np.ndarray:
        c = self.cfg
        idx = (dense_indices(clip.num_frames, c.clip_len, c.frame_interval, rng) if c.frame_interval
               else uniform_indices(clip.num_frames, c.clip_len, rng))
        if self.cfg.crop == "parts":
            g, h = self.cfg.geometry, self.cfg.size // 2
            jitter = [random_resized_crop(rng, (h, h), area=g.area, ratio=g.ratio) for _ in range(4)]
            return self.render_parts(ds, clip, [idx], [(jitter, bool(rng.random() < g.flip_prob))])[0]
        view = self.train_view(self.clip_box(ds, clip), rng)
        return self.render(ds, clip, [idx], [[view]])[0]

    def render_parts(self, ds: Dataset, clip: Clip, indices: list[np.ndarray],
                     draws: list[tuple[list[Box] | None, bool]]) -> np.ndarray:
        """``crop: parts``: (N, T, S, S, 3) mosaics, one per temporal sample and draw (per-part jitter boxes on the
        S/2 canvas or None, flip)."""
        if ds.header.layout != "openpose137":
            raise DatasetError(f"{ds.root}: input.crop=parts needs OpenPose-137 skeletons (face and hands), the "
                               f"dataset has {ds.header.layout}")
        tracks = part_tracks(ds.skeleton(clip), self.clip_box(ds, clip), parts=self.cfg.parts)
        path, file_idx = self.video_frames(ds, clip, np.concatenate(indices))
        h = self.cfg.size // 2
        side = min(min(b[0].width, b[0].height) / h for b in tracks)  # source px per output px, finest part
        frames = read_frames(path, file_idx, scale=side if self.cfg.antialias and side >= 1.5 else 1.0)
        fw, fh = ds.header.frame_size
        sx, sy = frames.shape[2] / fw, frames.shape[1] / fh
        out, k = [], 0
        for idx, (jitter, flip) in zip(indices, draws, strict=True):
            f = frames[k : k + len(idx)]
            k += len(idx)
            panels = []
            for p, track in enumerate(tracks):
                rows = []
                for j, i in enumerate(idx):
                    b = track[min(int(i), len(track) - 1)]
                    b = b.sub_box(jitter[p], (h, h)) if jitter is not None else b
                    rows.append(View(_to_frame(b, sx, sy), (h, h), flip).frames(f[j : j + 1])[0])
                panels.append(np.stack(rows))
            out.append(tile(np.stack(panels), flip=flip, parts=self.cfg.parts))
        return np.stack(out)

    def test_sample(self, ds: Dataset, clip: Clip) -> dict[str, np.ndarray]:
        """{key: uint8 (num_views, T, S, S, 3)}: per temporal clip its :meth:`test_views` (crops, flipped copies).

        An unreadable video raises, whatever ``on_error`` says, except for a train-split clip under ``skip``: the
        diagnostic train predictions written after training then get black frames for it, and the report says so.
        """
        c = self.cfg
        idx = (dense_view_indices(clip.num_frames, c.clip_len, c.frame_interval, c.num_test_clips) if c.frame_interval
               else view_indices(clip.num_frames, c.clip_len, c.num_test_clips))
        try:
            if self.cfg.crop == "parts":
                flips = (False, True) if self.cfg.flip_test else (False,)
                return {self.key: self.render_parts(ds, clip, [i for i in idx for _ in flips],
                                                    [(None, f) for _ in idx for f in flips])}
            box = self.clip_box(ds, clip)
            return {self.key: self.render(ds, clip, idx, [self.test_views(box) for _ in idx])}
        except VideoError as e:
            if self.cfg.on_error != "skip" or clip.split != "train":
                raise
            self._report(ds, clip, None, e)
            s = self.cfg.size
            return {self.key: np.zeros((self.num_views, self.cfg.clip_len, s, s, 3), np.uint8)}

    def to_model_input(self, batch: dict[str, torch.Tensor], *, train: bool) -> torch.Tensor:
        """uint8 (B, T, S, S, 3) -> normalised float (B, 3, T, S, S), on the batch's device."""
        x = batch[self.key]
        mean = torch.tensor(self.cfg.mean, device=x.device).view(1, 3, 1, 1, 1)
        std = torch.tensor(self.cfg.std, device=x.device).view(1, 3, 1, 1, 1)
        return (x.permute(0, 4, 1, 2, 3).float().div_(255.0) - mean).div_(std)

    # -- skip policy -------------------------------------------------------------------------------------------------
    def _same_class(self, ds: Dataset, clip: Clip):
        """Train clips of the same split and class, starting after ``clip`` and wrapping around."""
        pool = [c for c in ds.split(clip.split) if c.label == clip.label]
        i = next((k for k, c in enumerate(pool) if c.clip_id == clip.clip_id), -1)
        for c in pool[i + 1 :] + pool[: max(i, 0)]:
            if c.clip_id not in self._bad:
                yield c

    def _report(self, ds: Dataset, clip: Clip, other: Clip | None, err: VideoError) -> None:
        """``other``: the clip trained on instead, or None for a train-split prediction made from black frames."""
        rec = {"clip_id": clip.clip_id, "dataset": str(ds.root), "column": self.cfg.video_column,
               "error": str(err), "replaced_by": other.clip_id if other else None,
               "action": "trained on replaced_by" if other else "train-split prediction from black frames"}
        log.warning("on_error=skip: clip %s unreadable (%s); %s", clip.clip_id, err, rec["action"])
        if self.run_dir is not None:
            # one short line per write with O_APPEND: data-loader workers can share the file
            with open(self.run_dir / SKIP_REPORT, "a") as fh:
                fh.write(json.dumps(rec) + "\n")
