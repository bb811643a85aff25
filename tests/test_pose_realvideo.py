"""MediaPipe on real footage (../shared/realvideo beside the checkout; skipped where it is absent, and outside the pose
environment). Each test uses the first frames of a clip to stay under ~20 s on 2 cores; the full-clip figures come
from ``.venv-pose/bin/python bench/bench_pose.py --clips DIR``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from microgesture.data.video import iter_frames, probe_video, write_video

REAL = Path(__file__).resolve().parents[2] / "shared" / "realvideo"
pytestmark = [pytest.mark.skipif(not REAL.is_dir(), reason="no ../shared/realvideo"),
              pytest.mark.skipif(importlib.util.find_spec("mediapipe") is None, reason="pose environment only")]


def _head(name: str, frames: int, tmp_path) -> Path:
    src = REAL / name
    out = tmp_path / name
    write_video(out, np.stack([f for _, f in zip(range(frames), iter_frames(src), strict=False)]),
                fps=probe_video(src, count=False)["fps"] or 25)
    return out


def _jumps(kp: np.ndarray) -> int:
    from microgesture.pose.people import is_jump

    present = np.flatnonzero((kp[:, :25, 2] > 0).any(1))
    return sum(is_jump(kp[a], kp[b], max_shift=1.5, frames=b - a) for a, b in zip(present[:-1], present[1:],
                                                                                 strict=True))


def test_basketball_two_players_tracked_apart(tmp_path):
    from microgesture.pose import extract_pose

    res = extract_pose(_head("two_players_basketball.mp4", 45, tmp_path), backend="mediapipe")
    sel = res.selection
    count = np.asarray(sel["people_per_frame"])
    assert len(sel["tracks"]) >= 2 and (count >= 2).mean() >= 0.8, sel["people_per_frame"]
    assert sel["multi_person_frames"] == int((count >= 2).sum())
    boxes = {t["id"]: t["mean_box"] for t in sel["tracks"] if t["frames"] >= 20}
    assert len(boxes) >= 2 and max(b[0] for b in boxes.values()) - min(b[0] for b in boxes.values()) > 100  # apart
    assert _jumps(res.keypoints) == 0
    assert res.missing["body"] <= 0.1


def test_interview_one_person_selected(tmp_path):
    from microgesture.pose import extract_pose

    res = extract_pose(_head("interview_nodding_0019_02_0078.mp4", 30, tmp_path), backend="mediapipe")
    assert [t["frames"] for t in res.selection["tracks"]] == [30] and res.selection["multi_person_frames"] == 0
    assert res.selection["frozen"] == []  # a still shot where only the speaker moves is not a stalled video
    assert res.missing["body"] <= 0.05 and _jumps(res.keypoints) == 0
    box = res.selection["tracks"][0]["mean_box"]
    assert box[3] - box[1] > 0.4 * res.frame_size[1]  # the seated interviewee fills the portrait frame


def test_interview_face_kept_when_the_pixelated_face_turns(tmp_path):
    """The interview clips' faces are pixelated (anonymised): in profile neither Face Mesh nor BlazeFace finds them,
    and the body model's face points (nose, eyes, ears) keep the face present, marked at half confidence."""
    from microgesture.layouts import FACE0
    from microgesture.pose import extract_pose

    res = extract_pose(_head("interview_turning_around_0078_01_0005.mp4", 40, tmp_path), backend="mediapipe")
    assert res.missing["body"] <= 0.05 and res.missing["face"] <= 0.10
    face = res.keypoints[:, FACE0:FACE0 + 70]
    # some frames have only the body model's points: at most five, none above half confidence (BlazeFace's five
    # points carry its detection score, a mesh is 70 points at 1.0)
    coarse = ((face[:, :, 2] > 0).sum(1) <= 5) & (face[:, :, 2].max(1) <= 0.5)
    assert coarse.any()
