"""The Python API: load a trained branch and predict with its own test pipeline.

    import microgesture

    model = microgesture.load("runs/joint")            # a run directory, model.ckpt or a Lightning checkpoint
    probs = model.predict("clip_pose.npz")              # {"class name": probability, ...}
    probs = model.predict(skeleton)                     # a (T, 137, 3) OpenPose-137 array (or the run's stored layout)
    probs = model.predict("clip.mp4")                   # a video: its skeleton is extracted first (MediaPipe)
    preds = model.predict_dataset("data/imigue", "test")  # Predictions: clip ids, logits, labels, classes

A single input becomes a one-clip dataset view (:class:`OneClip`) that the checkpoint's pipeline reads exactly as it
reads a dataset clip: the same temporal views, flips and view averaging as ``microgesture evaluate``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from microgesture.data.format import Clip, DatasetHeader

__all__ = ["load", "Predictor", "OneClip", "PredictError", "VIDEO_SUFFIXES", "write_probs_csv"]

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
# modalities whose pipeline reads the skeleton (the RGB crop reads it too, unless input.crop is "none")
_SKELETON_MODALITIES = ("joint", "heatmap-joint", "heatmap-limb", "rgb+heatmap-joint", "rgb+heatmap-limb")


class PredictError(ValueError):
    """An input the predictor cannot read (unknown layout, missing file); the message names the input."""


class OneClip:
    """A dataset view of one recording, for the pipelines' ``test_sample(ds, clip)``.

    Attributes:
        clip: the single :class:`Clip` (label -1, split ``predict``).
        header: a header with the skeleton's layout, fps and frame size (classes are the predictor's).
    """

    def __init__(self, *, name: str, layout: str, classes: Sequence[str], skeleton: np.ndarray | None = None,
                 video: str | os.PathLike | None = None, num_frames: int | None = None, fps: float = 25.0,
                 frame_size: tuple[int, int] = (1280, 720)):
        self._skeleton = None if skeleton is None else np.asarray(skeleton, np.float32)
        self._video = Path(video) if video else None
        n = len(self._skeleton) if self._skeleton is not None else int(num_frames or 0)
        if n <= 0:
            raise PredictError(f"{name}: no frames")
        self.root = self._video.parent if self._video else Path(".")
        self.header = DatasetHeader(name=name, layout=layout, classes=tuple(classes), fps=float(fps),
                                    frame_size=tuple(int(v) for v in frame_size),
                                    extra={"skeletons": self._skeleton is not None})
        self.clip = Clip(clip_id=name, video_id=name, subject="", split="predict", label=-1, start_frame=0,
                         end_frame=n - 1, num_frames=n, video_path=str(self._video) if self._video else "")

    @property
    def layout(self) -> str:
        return self.header.layout

    @property
    def classes(self) -> tuple[str, ...]:
        return self.header.classes

    @property
    def has_skeletons(self) -> bool:
        return self._skeleton is not None

    def split(self, name: str) -> list[Clip]:
        return [self.clip] if name == "predict" else []

    def splits(self) -> list[str]:
        return ["predict"]

    def skeleton(self, clip: Clip | str, layout: str | None = None) -> np.ndarray:
        if self._skeleton is None:
            raise PredictError(f"{self.header.name}: this input has no skeleton")
        s = self._skeleton.copy()
        if layout is not None and layout != self.layout:
            from microgesture.layouts import convert

            s = convert(s, self.layout, layout)
        return s

    def video_file(self, clip: Clip | str, column: str = "video_path") -> Path | None:
        return self._video if column == "video_path" else None


class Predictor:
    """A trained branch with its checkpoint's test pipeline. Build it with :func:`load`.

    Attributes:
        classes: class names, in the order of the probabilities.
        branch: the branch name; config: the run's resolved :class:`~microgesture.config.RunConfig`.
        module: the underlying (eval-mode, CPU) Lightning module.
    """

    def __init__(self, module, *, source: str = ""):
        self.module = module.eval()
        self.classes: tuple[str, ...] = tuple(module.classes)
        self.branch: str = module.cfg.branch
        self.config = module.cfg
        self.source = source
        self._pipelines = {module.source_layout: module.pipeline}

    def __repr__(self) -> str:
        return f"Predictor(branch={self.branch!r}, classes={len(self.classes)}, source={self.source!r})"

    @property
    def modality(self) -> str:
        return self.module.branch.modality

    def needs_skeleton(self) -> bool:
        if self.modality in _SKELETON_MODALITIES:
            return True
        return self.modality.startswith(("rgb", "taylor", "flow", "depth")) and \
            self.config.input.get("crop", "skeleton") != "none"

    def needs_video(self) -> bool:
        return not self.modality.startswith(("joint", "heatmap"))

    def pipeline_for(self, layout: str):
        """The checkpoint's test pipeline reading skeletons stored in ``layout``."""
        if layout not in self._pipelines:
            m = self.module
            try:
                self._pipelines[layout] = m.branch.make_pipeline(m.input_cfg, layout)
            except (KeyError, ValueError) as e:
                raise PredictError(f"branch {self.branch} cannot read {layout} skeletons: {e}") from None
        return self._pipelines[layout]

    # -- inputs ------------------------------------------------------------------------------------------------------
    def _layout_of(self, skel: np.ndarray, name: str) -> str:
        from microgesture.layouts import get_layout

        if skel.ndim != 3 or skel.shape[-1] != 3:
            raise PredictError(f"{name}: a skeleton must be (T, V, 3) = x, y, confidence, got {skel.shape}")
        for layout in ("openpose137", self.module.source_layout, self.module.input_cfg.layout):
            if get_layout(layout).num_joints == skel.shape[1]:
                return layout
        raise PredictError(f"{name}: {skel.shape[1]} joints match neither openpose137 nor the run's layout "
                           f"{self.module.source_layout}")

    def as_clip(self, x: Any, *, skeleton: str | os.PathLike | np.ndarray | None = None, fps: float | None = None,
                frame_size: tuple[int, int] | None = None, name: str | None = None) -> OneClip:
        """One input as a :class:`OneClip`: a (T, V, 3) array, a pose ``.npz`` (``microgesture pose``) or a video.

        Args:
            skeleton: for a video, its pose file or array (else it is extracted when the branch needs one).
            fps, frame_size: of an array input (frame_size matters to the heatmap and RGB crops: default 1280x720).
        """
        from microgesture.data.video import VideoError
        from microgesture.pose import PoseError, extract_pose, load_pose

        video = None
        size = frame_size or (1280, 720)
        rate = fps or 25.0
        if isinstance(x, np.ndarray):
            skel, label = x, name or "array"
        else:
            path = Path(x)
            label = name or path.stem
            if not path.is_file():
                raise PredictError(f"{path}: file not found")
            try:
                if path.suffix.lower() == ".npz":
                    pose = load_pose(path)
                    skel, rate, size = pose.keypoints, fps or pose.fps, frame_size or pose.frame_size
                elif path.suffix.lower() in VIDEO_SUFFIXES:
                    video = path
                    if skeleton is not None:
                        pose = load_pose(skeleton) if not isinstance(skeleton, np.ndarray) else None
                        skel = pose.keypoints if pose else np.asarray(skeleton, np.float32)
                    elif self.needs_skeleton():
                        log.info("%s: extracting the skeleton (MediaPipe)", path)
                        pose = extract_pose(path)
                        skel, rate, size = pose.keypoints, pose.fps, pose.frame_size
                    else:
                        skel = None
                    if skel is None or frame_size is None:
                        from microgesture.data.video import probe_video

                        info = probe_video(path)
                        size = frame_size or (int(info["width"]), int(info["height"]))
                        rate = fps or float(info["fps"])
                        n = int(info["num_frames"])
                else:
                    raise PredictError(f"{path}: expected a pose .npz (microgesture pose) or a video "
                                       f"({', '.join(VIDEO_SUFFIXES)})")
            except (PoseError, VideoError) as e:
                raise PredictError(str(e)) from None
        if skel is None:
            return OneClip(name=label, layout="openpose137", classes=self.classes, video=video, num_frames=n,
                           fps=rate, frame_size=size)
        if self.needs_video() and video is None:
            raise PredictError(f"{label}: branch {self.branch} reads {self.modality}: give the video")
        skel = np.asarray(skel, np.float32)
        return OneClip(name=label, layout=self._layout_of(skel, label), classes=self.classes, skeleton=skel,
                       video=video, fps=rate, frame_size=size)

    # -- prediction --------------------------------------------------------------------------------------------------
    def logits(self, clips: Sequence[OneClip]) -> np.ndarray:
        """(N, K) log-probabilities (views averaged as in the checkpoint's config) of one-clip inputs."""
        import torch

        out = []
        with torch.no_grad():
            for c in clips:
                x = self.pipeline_for(c.layout).test_sample(c, c.clip)
                batch = {k: torch.from_numpy(np.ascontiguousarray(v))[None] for k, v in x.items()}
                out.append(self.module.predict_views(batch).float().numpy()[0])
        return np.stack(out) if out else np.zeros((0, len(self.classes)), np.float32)

    def predict(self, x: Any, **kw) -> dict[str, float]:
        """Class probabilities of one input (see :meth:`as_clip`), keyed by class name."""
        return self.predict_many([x], **kw)[0]

    def predict_many(self, inputs: Sequence[Any], **kw) -> list[dict[str, float]]:
        """:meth:`predict` of several inputs."""
        logp = self.logits([self.as_clip(x, **kw) for x in inputs])
        p = np.exp(logp - logp.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        return [dict(zip(self.classes, map(float, row), strict=True)) for row in p]

    def predict_dataset(self, dataset, split: str = "test", *, batch_size: int = 16, num_workers: int = 0):
        """:class:`~microgesture.predictions.Predictions` of a dataset split (clip ids, log-probabilities, labels).

        Labels are kept when the dataset has the checkpoint's class list, else set to -1 (a dataset of new clips).
        """
        import torch
        from torch.utils.data import DataLoader

        from microgesture.data.format import Dataset
        from microgesture.predictions import Predictions
        from microgesture.progress import track
        from microgesture.train import ClipDataset

        ds = dataset if isinstance(dataset, Dataset) else Dataset.open(dataset)
        clips = ds.split(split)
        if not clips:
            raise PredictError(f"{ds.root}: no clips in split {split!r} (splits: {', '.join(ds.splits())})")
        same = tuple(ds.classes) == self.classes
        if not same:
            log.warning("%s: class list differs from the checkpoint's; labels are dropped", ds.root)
        dl = DataLoader(ClipDataset(ds, clips, self.pipeline_for(ds.layout), train=False, seed=0),
                        batch_size=batch_size, num_workers=num_workers)
        out = []
        batches = track(dl, f"predict {split}", total=len(clips), unit="clips", weight=lambda b: len(b["label"]))
        with torch.no_grad():
            for batch in batches:
                out.append(self.module.predict_views(batch).float().numpy())
        logits = np.concatenate(out)
        labels = [c.label if same else -1 for c in clips]
        return Predictions([c.clip_id for c in clips], logits, labels, self.classes,
                           {"branch": self.branch, "checkpoint": self.source, "dataset": str(ds.root),
                            "split": split})


def load(path: str | os.PathLike, *, test_views: dict | None = None) -> Predictor:
    """A :class:`Predictor` from a run directory, ``model.ckpt`` or a Lightning checkpoint (on the CPU).

    ``test_views``: other test views than the run's, e.g. ``{"flip_test": True}`` (see
    :func:`microgesture.train.load_checkpoint`).
    """
    from microgesture.train import load_checkpoint

    return Predictor(load_checkpoint(path, test_views=test_views), source=str(path))


def write_probs_csv(path: str | os.PathLike, ids: Sequence[str], probs: np.ndarray, classes: Sequence[str], *,
                    labels: Sequence[int] | None = None) -> Path:
    """Write ``id,[label,]prediction,<class 1>,...,<class K>`` rows (probabilities) atomically; returns the path.

    ``label`` and ``prediction`` are class names (an unknown label, -1, is left empty).
    """
    import csv
    import io

    from microgesture.atomic import write_text

    probs = np.asarray(probs, np.float64)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", *(["label"] if labels is not None else []), "prediction", *classes])
    for i, cid in enumerate(ids):
        lab = [] if labels is None else [classes[labels[i]] if labels[i] >= 0 else ""]
        w.writerow([cid, *lab, classes[int(probs[i].argmax())], *(f"{v:.6g}" for v in probs[i])])
    return write_text(path, buf.getvalue())
