"""Every person in a video, each with a whole OpenPose-137 skeleton of their own (MediaPipe, offline).

How it works, frame by frame:

0. Finder (every frame, :mod:`microgesture.pose.finder`): MoveNet MultiPose lists the people it sees. Discovery runs
   at once where it sees someone nobody follows; a person MediaPipe cannot see (from behind) starts from its body,
   and a track MediaPipe loses keeps the finder's body for its person; two tracks on the one person it sees are one.
1. Discovery (every ``detect_every`` frames, less often while nobody new shows up): MediaPipe Pose in static-image
   mode looks for a person on the frame with the people already tracked painted over in gray; each person found is
   painted over in turn and the search repeats, up to ``max_people``. It looks in the whole frame, in overlapping
   tiles (:func:`discovery_windows`) and around each box of OpenCV's HOG people detector (without the finder).
   Small frames and windows are enlarged first so that small figures are found. A find that overlaps a tracked
   person is ignored; its body is the new track's first frame.
2. Tracking: each person (track) has a Holistic tracker of its own (video mode) that sees only a crop around where
   the person was in the previous frame (the person's box, enlarged by ``margin`` on each side), with the other
   people followed painted gray. Body, face and both hands therefore come from that person's crop. When Holistic
   finds nobody there, static Pose on the same crop gives the body for that frame.
3. Identity checks (:mod:`microgesture.pose.people`): a tracker whose new skeleton is far from where its person was
   (:func:`~microgesture.pose.people.is_jump`), or that lands on a person another (older) track follows, has jumped:
   the frame is missing for it and its tracker restarts. A track with no person for ``max_lost`` frames ends.

Models (nothing is downloaded; docs/pose_tracking.md lists them with licences): MediaPipe's pose, face, iris and hand
models inside the ``mediapipe`` 0.10.21 wheel, OpenCV's HOG people detector, MoveNet MultiPose in pose/models/.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import numpy as np

from microgesture.pose.crops import crop_fits, discovery_windows, inside, others_painted, paint, tracker_crop
from microgesture.pose.finder import (
    PersonFinder,
    body_at,
    claim_of,
    coco17_to_openpose,
    finder_available,
    hog_boxes,
    untracked,
)
from microgesture.pose.headface import face_from_body, face_from_head
from microgesture.pose.holistic import _landmarks, holistic_to_openpose
from microgesture.pose.people import _CORE, iou, is_jump, person_box

__all__ = ["MultiPersonExtractor", "discovery_windows"]

_YOUNG = 3  # a track with fewer accepted frames than this is still a candidate

log = logging.getLogger(__name__)


@dataclass
class _Track:
    id: int
    tracker: object
    box: np.ndarray  # where the person was last seen, frame pixels
    last: np.ndarray | None = None  # last accepted (137, 3)
    last_t: int = 0  # its frame
    lost: int = 0
    crop: tuple[int, int, int, int] | None = None  # kept while the person stays well inside it
    born: int = 0
    seeded: bool = False  # its last skeleton is discovery's (coarser than a tracker's)
    core: np.ndarray | None = None  # head-and-torso box when last seen (painted out of the others' crops)
    rows: dict[int, np.ndarray] = field(default_factory=dict)  # frame -> (137, 3)


class MultiPersonExtractor:
    """Finds and follows every person; :meth:`process` returns {track id: (137, 3)} for one frame.

    Args:
        max_people: most people followed at once.
        detect_every: frames between two discovery passes.
        margin: crop margin around a person's box, as a fraction of the box's larger side.
        max_lost: frames without the person before a track ends.
        min_side: discovery enlarges frames whose short side is smaller than this (px).
        finder: find people with MoveNet MultiPose (:mod:`microgesture.pose.finder`) in every frame: discovery looks
            where it sees someone not followed, and a person MediaPipe loses keeps MoveNet's body. Off, or without
            ONNX Runtime, discovery searches the whole frame and its tiles with static Pose and HOG (slower, and
            blind to people seen from behind).
        finder_min_score, count_min_score: a find scoring at least the first is followed (discovery, body rescue),
            one scoring at least the second counts in :attr:`unfollowed`: partly hidden people score 0.1-0.2, and
            following them broke the subject's track (docs/pose_tracking.md, step 6).
        hog: also look for people around OpenCV HOG person boxes (score above ``hog_threshold``); default: only
            without the finder.
        recent: while fewer people are followed than were seen in the last ``recent`` frames, discovery runs every
            ``detect_every`` frames (someone was just lost) instead of backing off.
        jump_shift: a tracker whose person moved more than this many body scales per frame has jumped
            (:func:`~microgesture.pose.people.is_jump`).
        model_complexity, refine_face, min_detection_confidence, min_tracking_confidence: Holistic settings.
    """

    def __init__(self, *, max_people: int = 4, detect_every: int = 5, max_detect_every: int = 30, margin: float = 0.3,
                 max_lost: int = 15, min_side: int = 480, finder: bool = True, finder_min_score: float = 0.2,
                 count_min_score: float = 0.1, hog: bool | None = None, hog_threshold: float = 0.5, recent: int = 30,
                 jump_shift: float = 0.75, model_complexity: int = 1, refine_face: bool = True,
                 min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5):
        os.environ.setdefault("GLOG_minloglevel", "2")  # silence the TFLite/absl start-up chatter
        import mediapipe as mp

        self._mp = mp
        self.max_people = int(max_people)
        self.detect_every = max(1, int(detect_every))
        self.max_detect_every = max(self.detect_every, int(max_detect_every))
        self._every = self.detect_every  # current interval: doubles while discovery finds nobody new
        self._next_detect = 0
        self._last_detect = -10**9
        self.margin = float(margin)
        self.max_lost = int(max_lost)
        self.min_side = int(min_side)
        self.hog_threshold = float(hog_threshold)
        self.finder_min_score, self.count_min_score = float(finder_min_score), float(count_min_score)
        self._net = PersonFinder(min_score=min(self.finder_min_score, self.count_min_score)) \
            if finder and finder_available() else None
        if finder and self._net is None:
            log.warning("MoveNet person finder unavailable (onnxruntime is not installed in the pose environment; "
                        "make pose-env installs it): people seen from behind may be missed")
        self._people: list = []  # what the finder saw in the current frame
        self._hog = None
        if hog or (hog is None and self._net is None):
            import cv2

            self._hog = cv2.HOGDescriptor()
            self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.recent = int(recent)
        self.jump_shift = float(jump_shift)
        self._seen: list[int] = []  # people accepted in each of the last ``recent`` frames
        self._opts = {"model_complexity": model_complexity, "refine_face_landmarks": refine_face,
                      "min_detection_confidence": min_detection_confidence,
                      "min_tracking_confidence": min_tracking_confidence}
        self._finder = mp.solutions.pose.Pose(static_image_mode=True, model_complexity=model_complexity,
                                              min_detection_confidence=min_detection_confidence)
        self._mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1,
                                                     refine_landmarks=refine_face, min_detection_confidence=0.5)
        self._face_det = mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5)
        self.tracks: list[_Track] = []
        self.ended: list[_Track] = []
        self._next_id = 0
        self.frames = 0
        self.restarts = 0
        self.fallbacks = 0  # frames where static Pose gave a track's body because Holistic found none
        # per frame, the people the finder sees that no skeleton returned for that frame covers: people in the frame
        # whose pose MediaPipe could not take (seen from behind, cut off, far away); they count as people present
        self.unfollowed: list[int] = []

    def settings(self) -> dict:
        return {"max_people": self.max_people, "detect_every": self.detect_every,
                "max_detect_every": self.max_detect_every, "margin": self.margin,
                "max_lost": self.max_lost, "min_side": self.min_side, "hog": self._hog is not None,
                "finder_min_score": self.finder_min_score, "count_min_score": self.count_min_score,
                "finder": self._net.settings() if self._net is not None else None,
                "hog_threshold": self.hog_threshold, "recent": self.recent,
                "jump_shift": self.jump_shift, **self._opts}

    def close(self) -> None:
        for tr in self.tracks:
            tr.tracker.close()
        self._finder.close()
        self._mesh.close()
        self._face_det.close()

    def __enter__(self) -> MultiPersonExtractor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _holistic(self):
        return self._mp.solutions.holistic.Holistic(static_image_mode=False, **self._opts)

    # -- discovery ------------------------------------------------------------------------------------------------
    def _discover(self, frame: np.ndarray, *, everywhere: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
        """People not yet tracked: (box in frame pixels, the body static Pose found as OpenPose-137) each.

        Static Pose looks in the whole frame, in overlapping tiles (:func:`discovery_windows`) and around each HOG
        person box (:func:`~microgesture.pose.finder.hog_boxes`, the box grown by half its height) or person the finder
        sees and nobody follows; the people tracked and every person found
        are painted gray before the next look, so each look can only find someone new."""
        import cv2

        h, w = frame.shape[:2]
        s = max(1.0, self.min_side / min(h, w))
        img = cv2.resize(frame, (round(w * s), round(h * s)), interpolation=cv2.INTER_LINEAR) if s > 1 else \
            frame.copy()
        known = [tr.box for tr in self.tracks]
        for b in known:
            paint(img, b * s, grow=0.05)
        windows = discovery_windows(w, h) if everywhere else []
        hog = hog_boxes(self._hog, frame, min_side=self.min_side, threshold=self.hog_threshold) \
            if everywhere and self._hog is not None else []
        for c in hog + [p.box for p in untracked(self._people, known)]:
            if all(inside(c, k) < 0.6 for k in known):
                g = 0.5 * (c[3] - c[1])
                windows.append((int(max(0, c[0] - g)), int(max(0, c[1] - g)), int(min(w, c[2] + g)),
                                int(min(h, c[3] + g))))
        found: list[np.ndarray] = []
        bodies: list[np.ndarray] = []
        for x0, y0, x1, y1 in windows:
            for _ in range(self.max_people - len(self.tracks) - len(found)):
                view = img[round(y0 * s):round(y1 * s), round(x0 * s):round(x1 * s)]
                if min(view.shape[:2]) < 16:
                    break
                if min(view.shape[:2]) < self.min_side // 2:  # a small window: enlarge it for the 224 px detector
                    k = self.min_side / 2 / min(view.shape[:2])
                    view = cv2.resize(view, (round(view.shape[1] * k), round(view.shape[0] * k)))
                r = self._finder.process(np.ascontiguousarray(view))
                if r.pose_landmarks is None:
                    break
                p = _landmarks(r.pose_landmarks, 3)
                vis = p[p[:, 2] > 0.5]
                if len(vis) < 6:
                    break
                box = np.concatenate([vis[:, :2].min(0), vis[:, :2].max(0)]) * np.array(
                    [x1 - x0, y1 - y0, x1 - x0, y1 - y0]) + np.array([x0, y0, x0, y0])
                box = np.clip(box, 0, [w - 1, h - 1, w - 1, h - 1])
                paint(img, box * s, grow=0.05)
                bw, bh = box[2] - box[0], box[3] - box[1]
                # a box much narrower than tall is a limb or a fragment of someone painted out, not a person; a
                # tiny one (under an eighth of the frame's short side) or one without both shoulders is clutter
                # (a hoop, a poster) that static Pose reads as a person in a small window
                if all(iou(box, k) < 0.3 and inside(box, k) < 0.6 for k in known + found) and \
                        min(bw, bh) > 4 and bw >= 0.15 * bh and max(bw, bh) >= min(h, w) / 8 and \
                        (p[[11, 12], 2] > 0.5).all():
                    found.append(box)
                    bodies.append(holistic_to_openpose(p, None, None, None, image_size=(x1 - x0, y1 - y0),
                                                       frame_size=(w, h), offset=(float(x0), float(y0))))
        return list(zip(found, bodies, strict=True)) + self._finder_seeds(known + found, min(h, w) / 8)

    def _finder_seeds(self, known: list[np.ndarray], min_size: float) -> list[tuple[np.ndarray, np.ndarray]]:
        """People the finder sees where MediaPipe found no one (from behind, cut off): (box, the finder's body) each,
        when at least 5 body joints are seen and the box's larger side is at least ``min_size``."""
        out = []
        for p in untracked(self._people, known):
            body = coco17_to_openpose(p.keypoints, min_score=self._net.min_keypoint_score)
            if (body[:19, 2] > 0).sum() >= 5 and max(p.box[2] - p.box[0], p.box[3] - p.box[1]) >= min_size:
                out.append((p.box, body))
        return out

    # -- tracking -------------------------------------------------------------------------------------------------
    def _run(self, tr: _Track, frame: np.ndarray) -> np.ndarray | None:
        import cv2

        h, w = frame.shape[:2]
        if tr.crop is None or tr.lost or not crop_fits(tr.box, tr.crop, w, h, margin=self.margin):
            # Holistic tracks in the coordinates of the image it saw: a crop that moves every frame breaks its face
            # and hand tracking, so the crop moves only when the person nears its edge or changes size a lot
            tr.crop = tracker_crop(tr.box, w, h, margin=self.margin, lost=tr.lost)
        x0, y0, x1, y1 = tr.crop
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        others = [o.core for o in self.tracks if o is not tr and o.core is not None and not o.lost]
        image = others_painted(np.ascontiguousarray(frame[y0:y1, x0:x1]), tr.crop, own=tr.core, others=others)
        r = tr.tracker.process(image)
        size, at = (x1 - x0, y1 - y0), (float(x0), float(y0))
        if r.pose_landmarks is None:
            # Holistic lost (or never took hold of) this person: static Pose on the same crop, enlarged when small,
            # gives the body for this frame (face from the head square below; hands missing), so a person Holistic
            # cannot lock onto (cut by the frame edge, motion blur) is still followed
            view = image
            if min(image.shape[:2]) < self.min_side // 2:
                k = self.min_side / 2 / min(image.shape[:2])
                view = cv2.resize(image, (round(image.shape[1] * k), round(image.shape[0] * k)))
            r2 = self._finder.process(np.ascontiguousarray(view))
            p = _landmarks(r2.pose_landmarks, 3) if r2.pose_landmarks is not None else None
            if p is None or (p[:, 2] > 0.5).sum() < 6:
                kp = body_at(self._people, tr.box, min_score=self._net.min_keypoint_score) if self._net else None
                if kp is None:
                    return None
            else:
                kp = holistic_to_openpose(p, None, None, None, image_size=size, frame_size=(w, h), offset=at)
            self.fallbacks += 1
        else:
            kp = holistic_to_openpose(_landmarks(r.pose_landmarks, 3), _landmarks(r.face_landmarks, 2),
                                      _landmarks(r.left_hand_landmarks, 2), _landmarks(r.right_hand_landmarks, 2),
                                      image_size=size, frame_size=(w, h), offset=at)
        if r.face_landmarks is None and kp[0, 2] > 0.5:
            face_from_head(kp, frame, mesh=self._mesh, detector=self._face_det)
        face_from_body(kp)
        return kp

    def _restart(self, tr: _Track) -> None:
        tr.tracker.close()
        tr.tracker = self._holistic()
        self.restarts += 1

    def process(self, frame: np.ndarray) -> dict[int, np.ndarray]:
        """One uint8 (H, W, 3) RGB frame -> {track id: (137, 3) float32 pixels + confidence} of the people seen.

        The people followed are tracked first, so that discovery paints them out where they are in this frame (not
        where they were: a fast person would be found again beside their own paint); new people are tracked at once.
        """
        t = self.frames
        self.frames += 1
        seen = self._net.find(frame) if self._net is not None else []
        self._people = [p for p in seen if p.score >= self.finder_min_score]  # the people to follow
        self._claims: set[int] = set()  # the finder's people already taken by a track in this frame
        out: dict[int, np.ndarray] = {}
        for tr in sorted(self.tracks, key=lambda x: x.id):  # older tracks first: they keep their person
            self._step(tr, frame, t, out)
        # anyone seen lately, confirmed or not (counting confirmed people only backed discovery off sooner and lost
        # frames with both people on the two-person clips, docs/pose_tracking.md); costs speed after a false find
        held = len(out)
        if self._seen and held < max(self._seen):  # someone seen lately is not followed now: keep looking
            self._every = self.detect_every
            self._next_detect = min(self._next_detect, self._last_detect + self.detect_every)
        # discovery searches the whole frame and its tiles on a schedule (MoveNet misses close, cut-off people that
        # MediaPipe's face-anchored detector finds), and where the finder sees someone not followed at once
        scheduled = t >= self._next_detect
        if (scheduled or untracked(self._people, [person_box(o) for o in out.values()])) and \
                len(self.tracks) < self.max_people:
            found = self._discover(frame, everywhere=scheduled)
            for box, body in found:
                tr = _Track(id=self._next_id, tracker=self._holistic(), box=box, born=t)
                log.debug("frame %d: new person %d at %s", t, tr.id, np.round(box))
                self._next_id += 1
                self.tracks.append(tr)
                self._step(tr, frame, t, out, seed=body)
            # while every person is followed and nobody new shows up, look less often (discovery costs several
            # static Pose passes): the interval doubles up to max_detect_every, and resets when a person followed
            # is lost or a new one is confirmed
            if scheduled:
                self._every = min(2 * self._every, self.max_detect_every)
                self._next_detect = t + self._every
                self._last_detect = t
        self._seen = (self._seen + [held])[-self.recent:]
        # a track lost for a few frames still covers where it was (people_per_frame holds it over such gaps)
        boxes = [b for b in (person_box(o) for o in out.values()) if b is not None] + [
            tr.box for tr in self.tracks if tr.id not in out and tr.rows and tr.lost <= self.detect_every]
        self.unfollowed.append(len(untracked([p for p in seen if p.score >= self.count_min_score], boxes)))
        for tr in [x for x in self.tracks if x.lost > self.max_lost]:
            tr.tracker.close()
            self.tracks.remove(tr)
            self.ended.append(tr)
        return out

    def _step(self, tr: _Track, frame: np.ndarray, t: int, out: dict[int, np.ndarray], *,
              seed: np.ndarray | None = None) -> None:
        """Track ``tr`` in frame ``t``: accept its skeleton into ``out`` or count it lost. ``seed``: the body that
        discovery found for a new track (its skeleton in this frame when its own tracker does not take hold yet)."""
        kp = self._run(tr, frame)
        seeded = kp is None and seed is not None
        if seeded:
            kp = seed
        # a seed (static Pose on an enlarged window) is coarse: the tracker's first skeleton may differ from it by
        # twice the usual step, not more
        shift = self.jump_shift * (2 if tr.seeded else 1)
        if kp is not None and tr.last is not None and is_jump(tr.last, kp, max_shift=shift, frames=t - tr.last_t):
            log.debug("frame %d: track %d jumped; restarting its tracker", t, tr.id)
            self._restart(tr)
            kp = None
        if kp is not None:
            core = person_box(kp, joints=_CORE)
            # the same person twice: head-and-torso boxes overlap, or both skeletons sit on the one person the finder
            # sees there (a second tracker on a fast player whose old box went stale)
            claim = claim_of(self._people, person_box(kp))
            if core is None or claim in self._claims or any(
                    iou(core, person_box(o, joints=_CORE)) > 0.5 for o in out.values()
                    if person_box(o, joints=_CORE) is not None):
                log.debug("frame %d: track %d landed on a person already followed", t, tr.id)
                if len(tr.rows) < _YOUNG:  # a second find of someone followed: end it, do not restart
                    tr.lost = self.max_lost
                else:
                    self._restart(tr)
                kp = None
        if kp is None:
            tr.lost += 1
            young = len(tr.rows) < _YOUNG
            if not tr.rows or (young and t - tr.born >= _YOUNG):
                # not confirmed by its own tracker, or never took hold: a false find (a lost frame costs a detection)
                tr.lost = self.max_lost + 1
            if not young and tr.lost == 1:  # someone followed is lost: look for people again soon
                self._next_detect = min(self._next_detect, t + 1)
                self._every = self.detect_every
            return
        tr.lost = 0
        if claim is not None:
            self._claims.add(claim)
        tr.last, tr.last_t, tr.seeded = kp, t, seeded
        visible = kp[:, 2] > 0.3
        box = person_box(kp * visible[:, None])
        tr.box = box if box is not None else person_box(kp)
        tr.core = person_box(kp, joints=_CORE)
        tr.rows[t] = kp
        out[tr.id] = kp
        if len(tr.rows) == _YOUNG:  # a new person confirmed: others may be arriving, look again soon
            self._every = self.detect_every
            self._next_detect = min(self._next_detect, t + self._every)

    def all_tracks(self, num_frames: int) -> dict[int, np.ndarray]:
        """Every track so far (ended ones included): id -> (num_frames, 137, 3), zeros where absent."""
        out = {}
        for tr in self.ended + self.tracks:
            kp = np.zeros((num_frames, 137, 3), np.float32)
            for t, row in tr.rows.items():
                if t < num_frames:
                    kp[t] = row
            out[tr.id] = kp
        return dict(sorted(out.items()))
