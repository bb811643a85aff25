"""MediaPipe Holistic landmarks -> OpenPose-137, and a per-frame extractor with subject selection.

MediaPipe Holistic gives 33 pose landmarks (x, y normalised to the processed image, visibility), 468 face-mesh points
(478 with ``refine_face_landmarks``: + 2 x 5 iris points) and 21 points per hand. Its "left"/"right" are the person's
left/right, as in OpenPose (the holistic graph crops each hand from the pose wrist of the same side), and its 21 hand
points follow OpenPose's hand order (wrist, thumb 1-4, index 5-8, middle, ring, little), so hands map one to one.
BODY_25 points without a MediaPipe twin are derived (neck, mid-hip) or left missing (small toes). Face-70 is read from
the mesh through :data:`FACE70_FROM_MESH`.

This module imports numpy only; ``mediapipe`` is imported when :class:`HolisticExtractor` is built, so the mapping is
tested in any environment.
"""

from __future__ import annotations

import os

import numpy as np

from microgesture.layouts import FACE0, LHAND0, RHAND0

__all__ = ["POSE33_TO_BODY25", "FACE70_FROM_MESH", "IRIS_CENTRES", "holistic_to_openpose", "HolisticExtractor",
           "choose_box", "SELECT_RULES"]

SELECT_RULES = ("largest", "central")

# For each BODY_25 joint, the MediaPipe pose landmarks whose mean it is (confidence: the lowest visibility among
# them); () = no twin, always missing. MediaPipe pose order: 0 nose, 2/5 left/right eye, 7/8 ears, 11/12 shoulders,
# 13/14 elbows, 15/16 wrists, 23/24 hips, 25/26 knees, 27/28 ankles, 29/30 heels, 31/32 foot index (big toe).
POSE33_TO_BODY25: tuple[tuple[int, ...], ...] = (
    (0,),        # 0 nose
    (11, 12),    # 1 neck: shoulder midpoint (OpenPose's neck sits between the shoulders)
    (12,), (14,), (16,),  # 2-4 right shoulder, elbow, wrist
    (11,), (13,), (15,),  # 5-7 left shoulder, elbow, wrist
    (23, 24),    # 8 mid-hip: hip midpoint
    (24,), (26,), (28,),  # 9-11 right hip, knee, ankle
    (23,), (25,), (27,),  # 12-14 left hip, knee, ankle
    (5,), (2,),  # 15 right eye, 16 left eye (MediaPipe eye centres)
    (8,), (7,),  # 17 right ear, 18 left ear
    (31,), (), (29,),  # 19 left big toe (foot index), 20 left small toe (no twin), 21 left heel
    (32,), (), (30,),  # 22 right big toe, 23 right small toe (no twin), 24 right heel
)  # fmt: skip

# Face-70 (iBUG-68 + 2 pupils, image-left first as in iBUG/OpenPose: point 0 is on the person's right cheek) from the
# 468-point face mesh. Chosen by hand on MediaPipe's canonical face-mesh indices so that each iBUG point gets the mesh
# vertex at the same anatomical place: the jaw follows the face-oval contour from the right tragus (127) down to the
# chin (152) and up to the left tragus (356); brows are the upper brow line outer -> inner; the nose runs bridge (168)
# -> tip (4) and the nostril base 98..327 through the subnasale (2); eyes are the lid contours starting at the outer
# corners (33 right, 263 left); lips are the outer contour from the right corner (61) and the inner contour from 78.
# The table is mirror-symmetric: every iBUG mirror pair (layouts.FACE70_FLIP) maps to a mesh mirror pair, which the
# tests check against the flip of a photograph. Pupils (68, 69) are the iris centres 468 (right) and 473 (left) of the
# refined mesh; without the iris points they fall back to the mean of the eye contour (IRIS_CENTRES = None then).
FACE70_FROM_MESH: tuple[int, ...] = (
    127, 234, 93, 132, 58, 136, 150, 176, 152, 400, 379, 365, 288, 361, 323, 454, 356,  # 0-16 jaw
    70, 63, 105, 66, 107,  # 17-21 right brow, outer -> inner
    336, 296, 334, 293, 300,  # 22-26 left brow, inner -> outer
    168, 197, 5, 4,  # 27-30 nose bridge -> tip
    98, 97, 2, 326, 327,  # 31-35 nostril base, right -> left
    33, 160, 158, 133, 153, 144,  # 36-41 right eye: outer corner, upper lid, inner corner, lower lid
    362, 385, 387, 263, 373, 380,  # 42-47 left eye: inner corner, upper lid, outer corner, lower lid
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,  # 48-59 outer lips from the right corner
    78, 82, 13, 312, 308, 317, 14, 87,  # 60-67 inner lips from the right corner
    468, 473,  # 68 right pupil, 69 left pupil (refined mesh)
)  # fmt: skip
IRIS_CENTRES = (468, 473)


def _pose_to_body25(pose: np.ndarray) -> np.ndarray:
    """(33, 3) x, y, visibility -> (25, 3) in the same units."""
    out = np.zeros((25, 3), np.float32)
    for j, src in enumerate(POSE33_TO_BODY25):
        if src:
            p = pose[list(src)]
            out[j, :2] = p[:, :2].mean(0)
            out[j, 2] = p[:, 2].min()
    return out


def _face70(mesh: np.ndarray) -> np.ndarray:
    """(468 or 478, 2) -> (70, 2); pupils from the iris centres, else the eye contour mean."""
    idx = np.asarray(FACE70_FROM_MESH[:68])
    out = np.empty((70, 2), np.float32)
    out[:68] = mesh[idx]
    if len(mesh) > max(IRIS_CENTRES):
        out[68:] = mesh[list(IRIS_CENTRES)]
    else:
        out[68] = out[36:42].mean(0)
        out[69] = out[42:48].mean(0)
    return out


def holistic_to_openpose(pose: np.ndarray | None, face: np.ndarray | None, left_hand: np.ndarray | None,
                         right_hand: np.ndarray | None, *, image_size: tuple[int, int],
                         frame_size: tuple[int, int] | None = None, offset: tuple[float, float] = (0.0, 0.0)
                         ) -> np.ndarray:
    """Map one frame of Holistic output to OpenPose-137 pixels.

    Args:
        pose: (33, 3) normalised x, y and visibility, or None if no person.
        face: (468 or 478, >= 2) normalised mesh points, or None.
        left_hand, right_hand: (21, >= 2) normalised points of the person's left/right hand, or None.
        image_size: (width, height) of the image Holistic saw (a crop of the frame, or the frame).
        frame_size: (width, height) of the full frame; defaults to ``image_size``.
        offset: top-left corner of the crop in the frame, pixels.

    Returns:
        (137, 3) float32 x, y, confidence: pose confidence = visibility, face and hands 1 where detected. Points
        outside the frame and undetected parts are (0, 0, 0), OpenPose's convention for a missing joint.
    """
    w, h = image_size
    fw, fh = frame_size or image_size
    scale = np.array([w, h], np.float32)
    shift = np.asarray(offset, np.float32)
    out = np.zeros((137, 3), np.float32)
    if pose is not None:
        body = _pose_to_body25(np.asarray(pose, np.float32))
        out[:25, :2] = body[:, :2] * scale + shift
        out[:25, 2] = body[:, 2]
        out[[20, 23]] = 0.0  # small toes: no twin
    if face is not None:
        out[FACE0:FACE0 + 70, :2] = _face70(np.asarray(face, np.float32)[:, :2]) * scale + shift
        out[FACE0:FACE0 + 70, 2] = 1.0
    for start, hand in ((LHAND0, left_hand), (RHAND0, right_hand)):
        if hand is not None:
            out[start:start + 21, :2] = np.asarray(hand, np.float32)[:, :2] * scale + shift
            out[start:start + 21, 2] = 1.0
    inside = (out[:, 0] >= 0) & (out[:, 0] <= fw - 1) & (out[:, 1] >= 0) & (out[:, 1] <= fh - 1)
    out[~inside | (out[:, 2] <= 0)] = 0.0
    return out


def choose_box(boxes: np.ndarray, rule: str, frame_size: tuple[int, int]) -> int:
    """Index of the subject among (N, 4) boxes x0, y0, x1, y1: the largest area, or the centre nearest the frame's."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if rule == "largest":
        return int(np.argmax((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])))
    if rule == "central":
        c = (boxes[:, :2] + boxes[:, 2:]) / 2 - np.array(frame_size, np.float64) / 2
        return int(np.argmin(np.hypot(c[:, 0], c[:, 1])))
    raise ValueError(f"select must be one of {', '.join(SELECT_RULES)}, not {rule!r}")


def _merge_boxes(boxes: np.ndarray, scores: np.ndarray, iou: float = 0.3) -> np.ndarray:
    """Non-maximum suppression: keep the best-scoring of boxes overlapping by more than ``iou``."""
    keep: list[int] = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    for i in np.argsort(-scores):
        ok = True
        for j in keep:
            iw = min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0])
            ih = min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1])
            inter = max(0.0, iw) * max(0.0, ih)
            if inter / (area[i] + area[j] - inter + 1e-9) > iou:
                ok = False
                break
        if ok:
            keep.append(int(i))
    return boxes[keep]


def _landmarks(lms, dims: int) -> np.ndarray | None:
    if lms is None:
        return None
    if dims == 3:
        return np.array([(p.x, p.y, p.visibility) for p in lms.landmark], np.float32)
    return np.array([(p.x, p.y) for p in lms.landmark], np.float32)


class HolisticExtractor:
    """Runs MediaPipe Holistic frame by frame (video mode: it tracks between frames) and returns OpenPose-137.

    Subject selection: Holistic follows one person. Every ``detect_every`` frames a face detector (BlazeFace
    full-range, shipped in the wheel) counts the faces; when there are several, the subject's face is chosen by
    ``select`` and Holistic runs on a crop around it (the upper body: 3.5 face widths either side, 1 face height above,
    6 below), so the choice does not depend on which person Holistic happens to lock on to. With one face or none the
    whole frame is processed.

    Args:
        select: "largest" (largest face box) or "central" (face nearest the frame centre).
        model_complexity: Holistic pose model; 1 (full) is the one whose weights ship in mediapipe 0.10.21.
        refine_face: refined mesh with irises (478 points) for the pupils.
        detect_every: frames between two face-detection passes (subject selection).
    """

    def __init__(self, *, select: str = "largest", model_complexity: int = 1, refine_face: bool = True,
                 min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5, detect_every: int = 5):
        if select not in SELECT_RULES:
            raise ValueError(f"select must be one of {', '.join(SELECT_RULES)}, not {select!r}")
        os.environ.setdefault("GLOG_minloglevel", "2")  # silence the TFLite/absl start-up chatter
        import mediapipe as mp

        self._mp = mp
        self.select = select
        self.detect_every = max(1, int(detect_every))
        self._opts = {"model_complexity": model_complexity, "refine_face_landmarks": refine_face,
                      "min_detection_confidence": min_detection_confidence,
                      "min_tracking_confidence": min_tracking_confidence}
        self._full = mp.solutions.holistic.Holistic(static_image_mode=False, **self._opts)
        self._crop = None  # a second tracker for the cropped subject, built when a frame has several people
        self._faces = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5)
        self._roi: tuple[int, int, int, int] | None = None
        self.frames = 0
        self.multi_person_frames = 0

    def close(self) -> None:
        for s in (self._full, self._crop, self._faces):
            if s is not None:
                s.close()

    def __enter__(self) -> HolisticExtractor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _detect_faces(self, frame: np.ndarray) -> np.ndarray:
        """Face boxes (N, 4) in pixels. The detector sees a 192 px square, so a wide frame is cut into overlapping
        square tiles (half a side apart) and duplicates are merged: a small face in a 16:9 frame stays detectable."""
        h, w = frame.shape[:2]
        side = min(h, w)
        xs = np.linspace(0, w - side, max(1, 2 * int(np.ceil(w / side)) - 1)).round().astype(int)
        ys = np.linspace(0, h - side, max(1, 2 * int(np.ceil(h / side)) - 1)).round().astype(int)
        boxes, scores = [], []
        for y in np.unique(ys):
            for x in np.unique(xs):
                res = self._faces.process(np.ascontiguousarray(frame[y:y + side, x:x + side]))
                for d in res.detections or []:
                    b = d.location_data.relative_bounding_box
                    boxes.append((x + b.xmin * side, y + b.ymin * side, x + (b.xmin + b.width) * side,
                                  y + (b.ymin + b.height) * side))
                    scores.append(d.score[0])
        return _merge_boxes(np.array(boxes).reshape(-1, 4), np.array(scores))

    def _update_roi(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        boxes = self._detect_faces(frame)
        if len(boxes) < 2:
            self._roi = None
            return
        x0, y0, x1, y1 = boxes[choose_box(boxes, self.select, (w, h))]
        fw, fh = x1 - x0, y1 - y0
        cx = (x0 + x1) / 2
        roi = (int(max(0, cx - 3.5 * fw)), int(max(0, y0 - fh)), int(min(w, cx + 3.5 * fw)), int(min(h, y1 + 6 * fh)))
        self._roi = roi if roi[2] - roi[0] >= 16 and roi[3] - roi[1] >= 16 else None

    def process(self, frame: np.ndarray) -> np.ndarray:
        """One uint8 (H, W, 3) RGB frame -> (137, 3) float32 pixels + confidence."""
        h, w = frame.shape[:2]
        if self.frames % self.detect_every == 0:
            self._update_roi(frame)
        self.frames += 1
        if self._roi is None:
            image, offset, tracker = frame, (0.0, 0.0), self._full
        else:
            x0, y0, x1, y1 = self._roi
            image, offset = np.ascontiguousarray(frame[y0:y1, x0:x1]), (float(x0), float(y0))
            if self._crop is None:
                self._crop = self._mp.solutions.holistic.Holistic(static_image_mode=False, **self._opts)
            tracker = self._crop
            self.multi_person_frames += 1
        r = tracker.process(image)
        ih, iw = image.shape[:2]
        return holistic_to_openpose(_landmarks(r.pose_landmarks, 3), _landmarks(r.face_landmarks, 2),
                                    _landmarks(r.left_hand_landmarks, 2), _landmarks(r.right_hand_landmarks, 2),
                                    image_size=(iw, ih), frame_size=(w, h), offset=offset)
