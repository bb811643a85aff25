"""Several people in a video: boxes, identity checks, track stitching, association checks and subject selection.

Numpy only (no MediaPipe), so the logic is tested on synthetic keypoints. The MediaPipe side
(:mod:`microgesture.pose.multi`) finds people and runs one Holistic tracker per person; this module decides what
those results mean:

- :func:`person_box`, :func:`iou`: an OpenPose-137 skeleton's box and the overlap of two boxes.
- :func:`is_jump`: a tracker's new skeleton is too far from where its person was (it jumped to someone else).
- :func:`stitch_tracks`: a track that ends and one that starts near it soon after are the same person.
- :func:`check_association`: face and hands that do not sit on the body's nose and wrists are marked missing
  (:func:`part_checks`: the tests frame by frame).
- :func:`summarize_tracks`, :func:`select_track`: a listing of the tracks and the subject rule that picks one track
  (``main``, ``largest``, ``central`` or ``person=ID``).
- :func:`people_per_frame`: how many people are visible in each frame; :func:`hold_several` fills its short drops.
- :func:`frozen_stretches`: where the video itself stalls (the same picture over and over).

Keypoints are OpenPose-137 (x, y pixels, confidence; (0, 0, 0) = missing), one (T, 137, 3) array per track.
"""

from __future__ import annotations

import re

import numpy as np

from microgesture.layouts import FACE0, LHAND0, RHAND0

__all__ = ["SELECT_RULES", "person_box", "iou", "body_scale", "is_jump", "stitch_tracks", "check_association",
           "association_report", "summarize_tracks", "select_track", "parse_select", "people_per_frame", "hold_several",
           "frozen_stretches", "repeats_frame", "part_checks", "NOSE_TOL", "WRIST_TOL", "FACE_BOX_PAD",
           "REPEAT_LEVEL"]

SELECT_RULES = ("main", "largest", "central", "person=ID")
NOSE_TOL = 0.5  # face nose tip within half a shoulder width of the body's nose
WRIST_TOL = 0.5  # hand wrist within half a shoulder width of the body's wrist
REPEAT_LEVEL = 16  # a frame repeats the one before when no pixel changes by more than this (codec noise)
FACE_BOX_PAD = 0.1  # or the body's nose within the face's box padded by a tenth of its size
_FACE_NOSE = FACE0 + 30  # iBUG 30: nose tip
_CORE = (0, 1, 2, 5, 8, 9, 12, 15, 16, 17, 18)  # nose, neck, shoulders, hips, eyes, ears: where the person is


def person_box(kp: np.ndarray, *, joints: tuple[int, ...] | None = None) -> np.ndarray | None:
    """(137, 3) -> box (4,) x0, y0, x1, y1 over the present joints (all, or ``joints``); None when none is present."""
    kp = np.asarray(kp, np.float32)
    if joints is not None:
        kp = kp[list(joints)]
    xy = kp[kp[:, 2] > 0, :2]
    if not len(xy):
        return None
    return np.concatenate([xy.min(0), xy.max(0)])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boxes x0, y0, x1, y1."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, float(iw)) * max(0.0, float(ih))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def body_scale(kp: np.ndarray) -> float:
    """A length that does not vanish in profile: the largest of shoulder width, nose-neck distance and face width.

    Shoulder width alone collapses when a person turns sideways (the shoulders overlap in the image), which would
    make every association test fail on a profile view.
    """
    kp = np.asarray(kp, np.float32)
    cands = [0.0]
    if kp[2, 2] > 0 and kp[5, 2] > 0:
        cands.append(float(np.hypot(*(kp[2, :2] - kp[5, :2]))))
    if kp[0, 2] > 0 and kp[1, 2] > 0:
        cands.append(float(np.hypot(*(kp[0, :2] - kp[1, :2]))))
    face = kp[FACE0:FACE0 + 68]
    if (face[:, 2] > 0).sum() >= 10:
        xy = face[face[:, 2] > 0, :2]
        cands.append(float(xy[:, 0].max() - xy[:, 0].min()))
    return max(cands)


def _centre(kp: np.ndarray) -> np.ndarray | None:
    box = person_box(kp, joints=_CORE)
    return None if box is None else (box[:2] + box[2:]) / 2


def is_jump(prev: np.ndarray | None, new: np.ndarray, *, max_shift: float = 0.75, frames: int = 1) -> bool:
    """True when the new skeleton's head-and-torso centre lies more than ``max_shift`` body scales (of the previous
    skeleton) per frame elapsed from the previous one: the tracker has jumped to another person, not followed its own.
    The scale is the larger of :func:`body_scale` and a quarter of the head-and-torso box height (small, fast figures).

    Args:
        prev: the track's last accepted (137, 3) skeleton, or None (nothing to compare: never a jump).
        new: the tracker's (137, 3) output for this frame.
        frames: frames since ``prev`` (the person may have moved further while lost).
    """
    if prev is None:
        return False
    a, b = _centre(prev), _centre(new)
    if a is None or b is None:
        return False
    box = person_box(prev, joints=_CORE)
    scale = max(body_scale(prev), 0.25 * float(box[3] - box[1]), 1.0)
    return float(np.hypot(*(a - b))) > max_shift * scale * max(1, frames) ** 0.5


def stitch_tracks(tracks: dict[int, np.ndarray], *, max_gap: int, min_iou: float = 0.2,
                  max_shift: float = 0.75) -> dict[int, np.ndarray]:
    """Join a track to an earlier one that ended at most ``max_gap`` frames before it starts: the same person, lost
    for a moment. It is the same person when the box where the earlier one was last seen overlaps the box where the
    later one is first seen by at least ``min_iou``, or when the later one starts within the reach of
    :func:`is_jump` (``max_shift`` body scales x sqrt(gap)) of where the earlier one was lost (a small, fast person
    leaves their old box while lost); never when that step is a jump. Of several such tracks the most overlapping,
    then the nearest, is joined. The joined track keeps the earlier id. Tracks that overlap in time are never joined.

    Args:
        tracks: id -> (T, 137, 3) keypoints (all of the same length T).
    """
    out = {k: np.array(v, np.float32, copy=True) for k, v in sorted(tracks.items())}
    changed = True
    while changed:
        changed = False
        spans = {k: np.flatnonzero((v[..., 2] > 0).any(1)) for k, v in out.items()}
        spans = {k: s for k, s in spans.items() if len(s)}
        for a in sorted(spans, key=lambda k: spans[k][-1]):
            end = spans[a][-1]
            last = person_box(out[a][end])
            best, best_key = None, None
            for b, sb in spans.items():
                if b == a or sb[0] <= end or sb[0] - end > max_gap:
                    continue
                first = person_box(out[b][sb[0]])
                ov = iou(last, first)
                dist = float(np.hypot(*((first[:2] + first[2:]) / 2 - (last[:2] + last[2:]) / 2)))
                if is_jump(out[a][end], out[b][sb[0]], max_shift=max_shift, frames=int(sb[0] - end)):
                    continue  # overlapping boxes or not, the head and torso are too far: someone else
                key = (ov >= min_iou, ov, -dist)
                if best_key is None or key > best_key:
                    best, best_key = b, key
            if best is not None:
                lo, hi = min(a, best), max(a, best)
                merged = out[lo].copy()
                take = (out[hi][..., 2] > 0).any(1)
                merged[take] = out[hi][take]
                out[lo] = merged
                del out[hi]
                changed = True
                break
    return out


def part_checks(kp: np.ndarray, *, nose_tol: float = NOSE_TOL, wrist_tol: float = WRIST_TOL
                ) -> list[tuple[str, slice, np.ndarray, np.ndarray, np.ndarray]]:
    """The association tests of :func:`check_association`, frame by frame, without changing anything.

    Returns, for face, left hand and right hand: (name, the part's slice of the 137 points, reported (T,) bool,
    passed (T,) bool, distance (T,) float: the part's reference point to the body's, in body scales; NaN where it
    cannot be measured). A face also passes when the body's nose lies on it (inside the box of its points padded by
    ``FACE_BOX_PAD`` of its larger side): in profile the body model puts its nose on the cheek or the forehead,
    further from the face mesh's nose tip than ``nose_tol`` body scales, while the face is plainly on that head.
    """
    kp = np.asarray(kp, np.float32)
    scales = np.array([body_scale(f) for f in kp], np.float32)
    out = []
    for name, part, point, ref, tol in (("face", slice(FACE0, FACE0 + 70), _FACE_NOSE, 0, nose_tol),
                                        ("left_hand", slice(LHAND0, LHAND0 + 21), LHAND0, 7, wrist_tol),
                                        ("right_hand", slice(RHAND0, RHAND0 + 21), RHAND0, 4, wrist_tol)):
        present = kp[:, part, 2] > 0
        reported = present.any(1)
        measurable = reported & (kp[:, point, 2] > 0) & (kp[:, ref, 2] > 0) & (scales > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            dist = np.hypot(*(kp[:, point, :2] - kp[:, ref, :2]).T) / scales
        dist = np.where(measurable, dist, np.nan).astype(np.float32)
        ok = measurable & (np.nan_to_num(dist, nan=np.inf) <= tol)
        if name == "face":
            # not for hands: clasped hands put one person's wrist inside another's hand box
            for t in np.flatnonzero(reported & ~ok & (kp[:, ref, 2] > 0)):
                xy = kp[t, part][present[t], :2]
                lo, hi = xy.min(0), xy.max(0)
                pad = FACE_BOX_PAD * float((hi - lo).max())
                ok[t] = bool(((kp[t, ref, :2] >= lo - pad) & (kp[t, ref, :2] <= hi + pad)).all())
        out.append((name, part, reported, ok, dist))
    return out


def check_association(kp: np.ndarray, *, nose_tol: float = NOSE_TOL, wrist_tol: float = WRIST_TOL
                      ) -> tuple[np.ndarray, dict]:
    """Keep the face and each hand only where they sit on this person's body; mark the rest missing.

    The face passes when its nose tip is within ``nose_tol`` body scales (:func:`body_scale`) of the body's nose or
    the body's nose lies on the face (:func:`part_checks`), a hand when its wrist is within ``wrist_tol`` of the
    body wrist of the same side. A part whose body reference is missing cannot be checked and is dropped too: a face
    or hand that cannot be tied to a body is not attributed.

    Args:
        kp: (T, 137, 3) one person's skeleton.

    Returns:
        The checked copy and a report: for each part, frames where it was reported, frames that passed, and
        ``rate`` = passed / reported (1.0 when never reported); for the face also ``from_body``, the frames whose face
        is only the body model's face points (they pass by construction).
    """
    kp = np.array(kp, np.float32, copy=True)
    rep: dict = {}
    for name, part, reported, ok, _ in part_checks(kp, nose_tol=nose_tol, wrist_tol=wrist_tol):
        n, p = int(reported.sum()), int(ok.sum())
        rep[name] = {"reported": n, "passed": p, "rate": round(p / n, 4) if n else 1.0}
        if name == "face":
            # a face made of the body model's own face points (headface.face_from_body) passes by construction: its
            # count lets a report leave it out of the rate
            derived = reported & ((kp[:, part, 2] > 0).sum(1) <= 5) & (kp[:, _FACE_NOSE, :2] == kp[:, 0, :2]).all(1)
            rep[name]["from_body"] = int(derived.sum())
        kp[reported & ~ok, part] = 0.0
    return kp, rep


def association_report(kp: np.ndarray, **tol: float) -> dict:
    """The checks of :func:`check_association` on a skeleton, as a report only (the skeleton is not changed)."""
    return check_association(kp, **tol)[1]


def people_per_frame(tracks: dict[int, np.ndarray], num_frames: int, *, hold: int = 0,
                     unfollowed: np.ndarray | list[int] | None = None) -> np.ndarray:
    """(T,) int: how many people are in each frame: the tracks with a body (any of the first 25 joints) plus, per
    frame, ``unfollowed`` people (seen by a person detector where no track's skeleton is; default none).

    With ``hold`` > 0 a track also counts in gaps of at most ``hold`` frames between two frames where it has a body:
    a person seen just before and just after a short tracking loss was in the frame during it.
    """
    n = np.zeros(num_frames, np.int64)
    for v in tracks.values():
        seen = (v[:num_frames, :25, 2] > 0).any(1)
        for a, b in _short_gaps(seen, hold):
            seen[a + 1:b] = True
        n[:len(seen)] += seen
    if unfollowed is not None:
        extra = np.asarray(unfollowed, np.int64)[:num_frames]
        n[:len(extra)] += extra
    return n


def hold_several(count: np.ndarray | list[int], *, max_gap: int) -> np.ndarray:
    """(T,) people per frame with short drops of a group filled: a stretch of at most ``max_gap`` frames between two
    frames that each count at least two people counts at least the fewer of those two.

    People do not leave a shot and come back within half a second (the caller's ``max_gap``); a drop that short is
    the detector missing someone blurred, turned away or behind the other person. A track's own hold
    (:func:`people_per_frame`) cannot bridge it when the person's track breaks off there and a new one starts.
    Counts of 0 or 1 on both sides are never raised, so a video of one person stays one person.
    """
    n = np.array(count, np.int64, copy=True)
    for a, b in _short_gaps(n >= 2, max_gap):
        n[a + 1:b] = np.maximum(n[a + 1:b], min(n[a], n[b]))
    return n


def _short_gaps(flags: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    """(a, b) for every run of 1 to ``max_gap`` False frames, a and b the True frames around it."""
    idx = np.flatnonzero(flags)
    return [(a, b) for a, b in zip(idx[:-1], idx[1:], strict=True) if 1 < b - a <= max_gap + 1]


def repeats_frame(prev: np.ndarray | None, frame: np.ndarray, *, level: int = REPEAT_LEVEL) -> bool:
    """Does ``frame`` repeat ``prev``: no pixel differs by more than ``level`` grey levels (same shape; None: no).

    The largest difference, not the mean: in a still interview shot only the speaker's face and hands change, a few
    hundredths of the picture, so the mean difference stays below one grey level for the whole clip, while the
    largest is 10 or more in every frame; a stalled file's repeats differ by codec noise only (at most 14 on the frozen
    stretch of the arm-wrestling clip). Measured on ../shared/realvideo/ by ``bench/bench_pose.py --clips DIR
    --frame-changes`` (docs/pose_tracking.md). Pass int16 frames to skip a conversion per call.
    """
    if prev is None or prev.shape != frame.shape:
        return False
    return int(np.abs(np.asarray(frame, np.int16) - np.asarray(prev, np.int16)).max()) <= level


def frozen_stretches(repeats: np.ndarray | list[bool], *, min_len: int = 5,
                     fps: float | None = None) -> list[list[int]]:
    """[[first, last], ...]: runs of at least ``min_len`` frames that each repeat the frame before (``repeats[t]``:
    :func:`repeats_frame` of frame t - 1 and frame t); with ``fps``, also at least half a second long.

    A file that stalls or breaks shows one picture for a while (a corrupt stretch decodes to frozen smeared blocks);
    nobody can be seen anew there, which a pose report should say rather than count as people missing. Single
    repeats are frame-rate conversion (a duplicate every few frames) and are not reported, nor is less than half a
    second: a person holding still for a few frames repeats the picture too.
    """
    if fps:
        min_len = max(min_len, round(fps / 2))
    rep = np.asarray(repeats, bool)
    out, t = [], 0
    while t < len(rep):
        if not rep[t]:
            t += 1
            continue
        e = t
        while e < len(rep) and rep[e]:
            e += 1
        if e - t >= min_len:
            out.append([int(t), int(e - 1)])
        t = e
    return out


def summarize_tracks(tracks: dict[int, np.ndarray], frame_size: tuple[int, int]) -> list[dict]:
    """One record per track: id, frames present, first and last frame, mean box (x0, y0, x1, y1 px), mean area as a
    fraction of the frame, mean distance of its centre from the frame centre (fraction of the half-diagonal), and
    ``frontal``: the fraction of its frames in which a face mesh sits on its body (a frontal or near-frontal face).
    """
    w, h = frame_size
    out = []
    for tid, kp in sorted(tracks.items()):
        present = np.flatnonzero((kp[:, :25, 2] > 0).any(1))
        if not len(present):
            continue
        boxes = np.array([person_box(kp[t]) for t in present])
        mean_box = boxes.mean(0)
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2 - np.array([w, h]) / 2
        checked, _ = check_association(kp[present])
        frontal = float((checked[:, FACE0:FACE0 + 70, 2] > 0).any(1).mean())
        out.append({"id": int(tid), "frames": int(len(present)), "first": int(present[0]), "last": int(present[-1]),
                    "mean_box": [round(float(v), 1) for v in mean_box],
                    "area": round(float(((boxes[:, 2:] - boxes[:, :2]).prod(1)).mean() / (w * h)), 4),
                    "off_centre": round(float(np.hypot(*centres.T).mean() / np.hypot(w / 2, h / 2)), 4),
                    "frontal": round(frontal, 4)})
    return out


def parse_select(select: str) -> tuple[str, int | None]:
    """``"main"`` -> ("main", None); ``"person=3"`` -> ("person", 3). Raises ValueError on anything else."""
    m = re.fullmatch(r"person=(\d+)", select.strip())
    if m:
        return "person", int(m.group(1))
    if select in ("main", "largest", "central"):
        return select, None
    raise ValueError(f"select must be one of {', '.join(SELECT_RULES)}, not {select!r}")


def select_track(summary: list[dict], select: str, num_frames: int) -> int | None:
    """The id of the subject's track, or None when there is no track.

    Rules: ``main`` (default) prefers the person present longest and most frontal: score = fraction of frames
    present x (0.5 + 0.5 x frontal), ties to the larger; ``largest``: largest mean box area; ``central``: mean centre
    nearest the frame centre; ``person=ID``: that track (a ValueError names the ids there are when it does not exist).
    """
    rule, pid = parse_select(select)
    if rule == "person":
        ids = [s["id"] for s in summary]
        if pid not in ids:
            raise ValueError(f"person={pid}: no such track; the tracks are {', '.join(map(str, ids)) or 'none'}")
        return pid
    if not summary:
        return None
    if rule == "largest":
        key = [s["area"] for s in summary]
    elif rule == "central":
        key = [-s["off_centre"] for s in summary]
    else:
        key = [s["frames"] / max(num_frames, 1) * (0.5 + 0.5 * s["frontal"]) + 1e-6 * s["area"] for s in summary]
    return summary[int(np.argmax(key))]["id"]
