"""A person's face from the square around their nose, when Holistic's own face tracking gives none.

Used by :class:`~microgesture.pose.multi.MultiPersonExtractor` with MediaPipe's static Face Mesh and face detector
(BlazeFace); the face found lies around this person's nose, so it is theirs by construction.
"""

from __future__ import annotations

import numpy as np

from microgesture.layouts import FACE0
from microgesture.pose.holistic import _landmarks, holistic_to_openpose
from microgesture.pose.people import body_scale

__all__ = ["face_from_head", "face_from_body", "BODY_FACE_WEIGHT"]


def face_from_head(kp: np.ndarray, frame: np.ndarray, *, mesh, detector) -> None:
    """Holistic's face tracking often fails on large faces; then Face Mesh (with its own face detector) runs on a
    square around this person's nose (2.5 body scales), so the face found is this person's by construction.

    When Face Mesh finds no face there either (its landmark model rejects a pixelated or blurred face, as in
    anonymised footage) but the face detector (BlazeFace) does, the detector's own keypoints are kept: nose tip
    (Face-70 point 30), pupils (68, 69) and ear tragions (jaw ends 0, 16), with the detection score as their
    confidence (below the mesh's 1.0); the other 65 face points stay missing. Nothing is interpolated.
    """
    h, w = frame.shape[:2]
    half = 1.25 * max(body_scale(kp), 16.0)
    cx, cy = kp[0, :2]
    x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
    x1, y1 = int(min(w, cx + half)), int(min(h, cy + half))
    if x1 - x0 < 16 or y1 - y0 < 16:
        return
    crop = np.ascontiguousarray(frame[y0:y1, x0:x1])
    r = mesh.process(crop)
    if r.multi_face_landmarks:
        face = holistic_to_openpose(None, _landmarks(r.multi_face_landmarks[0], 2), None, None,
                                    image_size=(x1 - x0, y1 - y0), frame_size=(w, h),
                                    offset=(float(x0), float(y0)))
        kp[FACE0:FACE0 + 70] = face[FACE0:FACE0 + 70]
        return
    d = detector.process(crop)
    if not d.detections:
        return
    scale, shift = np.array([x1 - x0, y1 - y0], np.float32), np.array([x0, y0], np.float32)
    dets = [(np.array([(p.x, p.y) for p in det.location_data.relative_keypoints], np.float32) * scale + shift,
             float(det.score[0])) for det in d.detections]
    pts, score = min(dets, key=lambda ds: float(np.hypot(*(ds[0][2] - kp[0, :2]))))  # nose nearest the body's
    # BlazeFace keypoints: right eye, left eye, nose tip, mouth centre, right ear tragion, left ear tragion
    # (the person's right and left, as in Face-70); the mouth centre has no Face-70 twin
    for src, dst in ((0, 68), (1, 69), (2, 30), (4, 0), (5, 16)):
        x, y = pts[src]
        if 0 <= x <= w - 1 and 0 <= y <= h - 1:
            kp[FACE0 + dst] = (x, y, score)


# Face-70 point <- BODY_25 joint at the same place: nose tip, right/left pupil, right/left ear tragion (jaw ends)
_FACE_FROM_BODY = ((30, 0), (68, 15), (69, 16), (0, 17), (16, 18))
BODY_FACE_WEIGHT = 0.5  # the body model's face points are coarser than a mesh's or BlazeFace's: half their confidence


def face_from_body(kp: np.ndarray) -> bool:
    """Last resort when neither Face Mesh nor the face detector finds the face (a profile of a pixelated face in
    anonymised footage, a head turned away): the body model's own face keypoints -- nose, eyes, ears -- become
    Face-70's nose tip, pupils and tragions, at half their confidence, so head turns and nods stay visible. In place,
    only when no face point is present; returns whether any point was written."""
    face = kp[FACE0:FACE0 + 70]
    if (face[:, 2] > 0).any():
        return False
    wrote = False
    for dst, src in _FACE_FROM_BODY:
        if kp[src, 2] > 0:
            face[dst] = (kp[src, 0], kp[src, 1], BODY_FACE_WEIGHT * kp[src, 2])
            wrote = True
    return wrote
