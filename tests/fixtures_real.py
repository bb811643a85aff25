"""Tiny raw folders in the original iMiGUE release layout, with every quirk of real OpenPose output (a few frames each).

Built from the description of the release and of one real press conference's OpenPose 1.3 output: 1280x720 frames,
the athlete filling the frame (shoulders ~370 px apart), lower body undetected behind the table, low hand
confidences, tiny negative confidences, negative coordinates at near-zero confidence, frames with two people or
nobody, hand points at (0, 0, 0), missing frame files. The real data needs a licence; these files only mimic it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

W, H = 1280, 720
T = 40  # frames per video
# video id -> (subject id, gender, nationality, win_or_lose)
SUBJECTS = {"371": ("1", "F", "United States", "Win"), "372": ("2", "M", "Spain", "Lose"),
            "373": ("3", "F", "China", "Win"), "374": ("4", "M", "France", "Lose"),
            "375": ("5", "F", "Japan", "Win"), "376": ("6", "M", "Brazil", "Lose")}
NO_DATA = "377"  # labelled, but neither skeleton nor video: skipped and counted
# per video: (label_id, start_frame, end_frame, raw class); clips overlap (co-occurring gestures) in some videos
ROWS = [(1, 2, 13, 20), (2, 10, 21, 99), (3, 24, 37, 31)]
HEADER = ("video_id,label_id,start_time,start_frame,end_time,end_frame,class,subject_id,subject_gender,"
          "subject_nationality,win_or_lose")

# the quirks, all in video 371 (frame, what); counted by tests/test_real_layout.py
QUIRK_VIDEO = "371"
NEG_CONF_FRAME, NEG_XY_FRAME, TWO_PEOPLE_FRAME, NOBODY_FRAME, GAP_FRAME, OUTSIDE_FRAME, OVER_ONE_FRAME = (
    5, 6, 7, 8, 9, 11, 12)


def subject_pose(vid: str, t: int) -> np.ndarray:
    """(137, 3) OpenPose-137 of the seated athlete at frame ``t``: body 0-7 (+ 15-18 head), face, hands."""
    rng = np.random.default_rng([int(vid), t])
    p = np.zeros((137, 3), np.float32)
    cx, cy = 640 + 3 * np.sin(t / 5), 330.0
    body = {0: (0, -120), 1: (0, 0), 2: (-185, 5), 3: (-230, 180), 4: (-120, 300), 5: (185, 5), 6: (230, 180),
            7: (120, 300 - 4 * t * (int(vid) % 3)), 15: (-20, -135), 16: (20, -135), 17: (-50, -125), 18: (50, -125)}
    for j, (dx, dy) in body.items():
        p[j] = (cx + dx, cy + dy, rng.uniform(0.33, 0.86))
    # lower body (BODY_25 8-24) stays 0: behind the table
    ang = np.linspace(0, 2 * np.pi, 70, endpoint=False)
    p[25:95, 0], p[25:95, 1] = cx + 60 * np.cos(ang), cy - 130 + 75 * np.sin(ang)
    p[25:95, 2] = rng.uniform(0.53, 0.89, 70)
    for base, wrist in ((95, 7), (116, 4)):  # left hand at BODY 7, right hand at BODY 4
        p[base : base + 21, :2] = p[wrist, :2] + rng.normal(0, 15, (21, 2))
        p[base : base + 21, 2] = rng.uniform(0.12, 0.69, 21)
    p[116 + 17 : 116 + 21] = 0  # right-hand points OpenPose did not find: (0, 0, 0)
    return p


def reporter_pose(t: int) -> np.ndarray:
    """A second person with a larger box than the athlete (a largest-box rule would jump to them)."""
    p = np.zeros((137, 3), np.float32)
    p[:8, 0] = np.linspace(20, 1270, 8)
    p[:8, 1] = np.linspace(10, 710, 8)
    p[:8, 2] = 0.5
    return p


def _person(p: np.ndarray) -> dict:
    return {"person_id": [-1], "pose_keypoints_2d": p[:25].ravel().tolist(),
            "face_keypoints_2d": p[25:95].ravel().tolist(), "hand_left_keypoints_2d": p[95:116].ravel().tolist(),
            "hand_right_keypoints_2d": p[116:].ravel().tolist(), "pose_keypoints_3d": [], "face_keypoints_3d": [],
            "hand_left_keypoints_3d": [], "hand_right_keypoints_3d": []}


def frame_file(root: Path, vid: str, t: int) -> Path:
    return root / "Data" / "skeleton" / "raw" / vid / f"{vid}_{t:012d}_keypoints.json"


def write_frames(root: Path, vid: str, quirks: bool) -> None:
    for t in range(T):
        people = [subject_pose(vid, t)]
        if quirks:
            if t == GAP_FRAME:
                continue  # OpenPose wrote no file
            if t == NEG_CONF_FRAME:
                people[0][48] = (686.9, 271.0, -7.4e-05)  # the point `data check` refused in issue 14
            if t == NEG_XY_FRAME:
                people[0][6] = (-19.5, 652.6, 0.02)
            if t == TWO_PEOPLE_FRAME:
                people = [reporter_pose(t), people[0]]
            if t == NOBODY_FRAME:
                people = []
            if t == OUTSIDE_FRAME:
                people[0][4] = (1300.0, 650.0, 0.7)  # a confident point right of the frame
            if t == OVER_ONE_FRAME:
                people[0][1, 2] = 1.0002
        f = frame_file(root, vid, t)
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps({"version": 1.3, "people": [_person(p) for p in people]}))


def make_release(root: Path, *, csv: bool = True, txt: bool = True, vids: tuple[str, ...] = tuple(SUBJECTS),
                 quirks: bool = True) -> Path:
    """``root`` in the original release layout: Label/labels_20200831.csv, Label/raw/<vid>.txt, Data/skeleton/raw."""
    label = root / "Label"
    (label / "raw").mkdir(parents=True, exist_ok=True)
    lines = [HEADER]
    for vid in (*vids, NO_DATA):
        subj, gender, nat, wl = SUBJECTS.get(vid, ("7", "M", "Italy", "Win"))
        rows = ROWS if int(vid) % 2 else ROWS[:2]
        for lid, s, e, cls in rows:
            lines.append(f"{vid},{lid},{s / 25 + 0.0153:.4f},{s},{e / 25 + 0.0153:.4f},{e},{cls},{subj},{gender},"
                         f"{nat},{wl}")
        if txt:
            (label / "raw" / f"{vid}.txt").write_text("".join(f"{s / 25 + 0.0153:.4f}\t{e / 25 + 0.0153:.4f}\t{cls}\n"
                                                              for _, s, e, cls in rows))
        if vid != NO_DATA:
            write_frames(root, vid, quirks and vid == QUIRK_VIDEO)
    if csv:
        (label / "labels_20200831.csv").write_text("\n".join(lines) + "\n")
    return root
