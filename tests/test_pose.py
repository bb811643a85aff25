"""Pose extraction: the MediaPipe -> OpenPose-137 mapping, gap filling, reports, the OpenPose JSON backend, overlays,
and (in the pose environment, where mediapipe is installed) MediaPipe Holistic on a real photograph.

The main test run has no mediapipe: its tests skip there, and ``make test`` runs this file a second time in
``.venv-pose`` with MICROGESTURE_REQUIRE_MEDIAPIPE=1, which turns those skips into failures.
"""

from __future__ import annotations

import importlib.util
import json
import os

import numpy as np
import pytest

from microgesture.data.video import probe_video, read_video, write_video
from microgesture.layouts import FACE0, FACE70_FLIP, LHAND0, RHAND0
from microgesture.pose import (
    PoseResult,
    extract_pose,
    fill_short_gaps,
    load_pose,
    missing_report,
    pose_python,
    write_pose_overlay,
)
from microgesture.pose.holistic import FACE70_FROM_MESH, POSE33_TO_BODY25, choose_box, holistic_to_openpose
from microgesture.pose.overlay import draw_skeleton

REQUIRE = bool(os.environ.get("MICROGESTURE_REQUIRE_MEDIAPIPE"))


def _need(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        if REQUIRE:
            pytest.fail(f"{module} is required in the pose environment but not importable")
        pytest.skip(f"{module} not installed (pose environment only: make pose-env)")


# -- mapping --------------------------------------------------------------------------------------------------------
def _pose33(w: int, h: int) -> np.ndarray:
    p = np.zeros((33, 3), np.float32)
    p[:, :2] = 0.5
    p[:, 2] = 0.9
    p[11, :2], p[12, :2] = (0.7, 0.6), (0.3, 0.5)  # person's left shoulder on the image right
    p[11, 2], p[12, 2] = 0.8, 0.6
    p[23, :2], p[24, :2] = (0.6, 0.9), (0.4, 0.9)
    p[27, :2] = (0.5, 1.4)  # left ankle below the image
    return p


def test_tables_are_well_formed():
    assert len(POSE33_TO_BODY25) == 25 and len(FACE70_FROM_MESH) == 70
    assert len(set(FACE70_FROM_MESH)) == 70 and all(0 <= i < 478 for i in FACE70_FROM_MESH)
    assert POSE33_TO_BODY25[20] == () and POSE33_TO_BODY25[23] == ()  # small toes have no twin


def test_holistic_to_openpose_derives_and_scales():
    w, h = 200, 100
    hand = np.stack([np.linspace(0.1, 0.2, 21), np.full(21, 0.3)], 1)
    kp = holistic_to_openpose(_pose33(w, h), None, hand, None, image_size=(w, h))
    assert kp.shape == (137, 3) and kp.dtype == np.float32
    np.testing.assert_allclose(kp[1, :2], [(0.7 + 0.3) / 2 * w, (0.6 + 0.5) / 2 * h])  # neck = shoulder midpoint
    assert kp[1, 2] == pytest.approx(0.6)  # the lower of the two visibilities
    np.testing.assert_allclose(kp[2, :2], [0.3 * w, 0.5 * h])  # BODY_25 2 = person's right shoulder = MediaPipe 12
    np.testing.assert_allclose(kp[5, :2], [0.7 * w, 0.6 * h])
    assert (kp[[20, 23]] == 0).all()  # small toes
    assert (kp[14] == 0).all()  # left ankle outside the frame -> missing, (0, 0, 0)
    assert (kp[LHAND0:LHAND0 + 21, 2] == 1).all() and (kp[RHAND0:, 2] == 0).all()
    assert (kp[FACE0:FACE0 + 70] == 0).all()


def test_holistic_crop_offset_and_pupil_fallback():
    mesh = np.random.default_rng(0).uniform(0.2, 0.8, size=(468, 3)).astype(np.float32)
    kp = holistic_to_openpose(None, mesh, None, None, image_size=(100, 50), frame_size=(400, 300), offset=(30, 20))
    face = kp[FACE0:FACE0 + 70]
    np.testing.assert_allclose(face[0, :2], mesh[127, :2] * [100, 50] + [30, 20], rtol=1e-6)
    np.testing.assert_allclose(face[68, :2], face[36:42, :2].mean(0), rtol=1e-5)  # no iris points: eye mean
    assert (kp[:25] == 0).all() and (face[:, 2] == 1).all()


def test_choose_box():
    boxes = np.array([[0, 0, 100, 100], [140, 40, 180, 80]])
    assert choose_box(boxes, "largest", (320, 120)) == 0
    assert choose_box(boxes, "central", (320, 120)) == 1
    with pytest.raises(ValueError, match="select"):
        choose_box(boxes, "left", (320, 120))


# -- gaps, report, file -------------------------------------------------------------------------------------------
def test_fill_short_gaps():
    kp = np.zeros((10, 137, 3), np.float32)
    kp[:, 4] = [[t * 10.0, 5.0, 0.8] for t in range(10)]
    kp[[3, 4], 4] = 0  # gap of 2
    kp[:, 7] = [[1.0, 1.0, 1.0]] * 10
    kp[1:7, 7] = 0  # gap of 6
    kp[:3, 9] = 0
    kp[3:, 9] = [5.0, 5.0, 1.0]  # leading gap, never filled
    out, n = fill_short_gaps(kp, 3)
    np.testing.assert_allclose(out[3:5, 4], [[30, 5, 0.8], [40, 5, 0.8]], rtol=1e-6)
    assert (out[1:7, 7] == 0).all() and (out[:3, 9] == 0).all()
    assert n == 2
    same, n0 = fill_short_gaps(kp, 0)
    assert n0 == 0 and np.array_equal(same, kp)


def test_missing_report_counts_parts():
    kp = np.zeros((4, 137, 3), np.float32)
    kp[:2, 1, 2] = 1  # body in frames 0, 1
    kp[0, FACE0 + 5, 2] = 1  # face in frame 0
    kp[:3, LHAND0 + 2, 2] = 1
    rep = missing_report(kp)
    assert rep["body"] == 0.5 and rep["face"] == 0.75 and rep["left_hand"] == 0.25 and rep["right_hand"] == 1.0
    assert rep["person"] == 0.25 and len(rep["joints"]) == 137 and rep["joints"][1] == 0.5


def test_save_load_roundtrip_without_pickle(tmp_path):
    kp = np.random.default_rng(1).uniform(0, 50, size=(5, 137, 3)).astype(np.float32)
    res = PoseResult(keypoints=kp, fps=30.0, frame_size=(64, 48), backend="openpose-json", source="x",
                     selection={"rule": "central"}, missing=missing_report(kp), gaps={"max_gap": 2})
    p = res.save(tmp_path / "s.npz")
    with np.load(p, allow_pickle=False) as z:
        assert json.loads(str(z["meta"]))["selection"] == {"rule": "central"}
        assert str(z["layout"]) == "openpose137"
    back = load_pose(p)
    assert np.array_equal(back.keypoints, kp) and back.fps == 30.0 and back.frame_size == (64, 48)
    assert back.selection == {"rule": "central"} and not back.no_person


# -- openpose-json backend ----------------------------------------------------------------------------------------
def _person(cx: float, cy: float, size: float) -> dict:
    body = np.zeros((25, 3))
    body[:8] = [[cx + size * np.cos(k * np.pi / 4), cy + size * np.sin(k * np.pi / 4), 0.9] for k in range(8)]
    return {"pose_keypoints_2d": body.ravel().tolist(), "face_keypoints_2d": [],
            "hand_left_keypoints_2d": [], "hand_right_keypoints_2d": []}


def _write_json_frames(folder, n: int = 6):
    folder.mkdir()
    for t in range(n):
        people = [] if t == 2 else [_person(60, 60, 40), _person(160, 60, 10)]  # large left, small central
        (folder / f"v_{t:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": people}))
    return folder


@pytest.mark.parametrize(("rule", "cx"), [("largest", 60), ("central", 160)])
def test_openpose_json_backend_selects_subject(tmp_path, rule, cx):
    folder = _write_json_frames(tmp_path / "json")
    res = extract_pose(folder, select=rule, frame_size=(320, 120), max_gap=1)
    assert res.backend == "openpose-json" and res.keypoints.shape == (6, 137, 3)
    assert res.keypoints[0, :8, 0].mean() == pytest.approx(cx, abs=1)
    assert res.selection["rule"] == rule and res.selection["multi_person_frames"] == 5
    assert res.missing["person"] == pytest.approx(1 / 6, abs=1e-3)  # raw report: frame 2 empty
    assert res.gaps["filled_joint_frames"] == 8 and res.keypoints[2, 1, 2] > 0  # ... then filled (gap of 1)


def test_openpose_json_empty_folder_is_an_error(tmp_path):
    from microgesture.pose import PoseError

    (tmp_path / "e").mkdir()
    with pytest.raises(PoseError, match="no OpenPose JSON"):
        extract_pose(tmp_path / "e")


def test_cli_pose_on_json_frames(tmp_path, capsys):
    pytest.importorskip("typer")  # the main command line; the pose environment has only ``python -m microgesture.pose``
    from microgesture.cli import main

    folder = _write_json_frames(tmp_path / "json")
    with pytest.raises(SystemExit) as done:
        main(["pose", str(folder), "-o", str(tmp_path / "s.npz"), "--select", "central", "--frame-size", "320x120"])
    assert done.value.code == 0
    res = load_pose(tmp_path / "s.npz")
    assert res.selection["rule"] == "central" and res.keypoints[0, :8, 0].mean() == pytest.approx(160, abs=1)
    assert "frames with several people: 5" in capsys.readouterr().err
    with pytest.raises(SystemExit) as bad:
        main(["pose", str(folder), "-o", str(tmp_path / "t.npz"), "--select", "left"])
    assert bad.value.code == 2 and "--select" in capsys.readouterr().err


def test_python_m_microgesture_pose_on_json_frames(tmp_path):
    from microgesture.pose.__main__ import main

    folder = _write_json_frames(tmp_path / "json")
    assert main([str(folder), "-o", str(tmp_path / "s.npz"), "--max-gap", "1"]) == 0
    assert load_pose(tmp_path / "s.npz").gaps["filled_joint_frames"] == 8
    assert main([str(tmp_path / "nothing"), "-o", str(tmp_path / "x.npz"), "--backend", "openpose-json"]) == 2


# -- overlay ------------------------------------------------------------------------------------------------------
def test_draw_skeleton_and_overlay_video(tmp_path):
    kp = np.zeros((137, 3), np.float32)
    kp[2], kp[3], kp[4] = (10, 10, 1), (30, 10, 1), (30, 30, 1)  # right arm
    img = np.zeros((48, 64, 3), np.uint8)
    out = draw_skeleton(img, kp)
    assert out[10, 20].any() and out[20, 30].any()  # on both bones
    assert not out[40, 5].any() and not img.any()  # elsewhere untouched, input not modified
    frames = np.full((4, 48, 64, 3), 90, np.uint8)
    write_video(tmp_path / "v.mp4", frames, fps=10)
    res = PoseResult(keypoints=np.repeat(kp[None], 3, 0), fps=10.0, frame_size=(64, 48), backend="openpose-json")
    p = write_pose_overlay(tmp_path / "v.mp4", res, tmp_path / "o.mp4", labels=lambda t: [f"frame {t}"])
    assert probe_video(p)["num_frames"] == 4  # frames past the skeleton are copied
    v = read_video(p).astype(int)
    assert np.abs(v[0, 8:13, 18:23] - 90).max() > 40  # the bone is visible after encoding


# -- MediaPipe (pose environment) ---------------------------------------------------------------------------------
def _astronaut_video(path, *, frames: int = 10, canvas=(240, 320)):
    """The public-domain astronaut photo (scikit-image), 256 px, sliding right 4 px per frame over a gray canvas."""
    import cv2
    from skimage import data

    im = cv2.resize(data.astronaut(), (256, 256), interpolation=cv2.INTER_AREA)
    v = np.full((frames, *canvas, 3), 128, np.uint8)
    for t in range(frames):
        v[t, :, 10 + 4 * t:266 + 4 * t] = im[8:248]
    write_video(path, v, fps=25)
    return path


def test_mediapipe_astronaut_face_and_shoulders(tmp_path):
    _need("mediapipe")
    _need("skimage")
    res = extract_pose(_astronaut_video(tmp_path / "a.mp4"), backend="mediapipe")
    kp = res.keypoints
    assert kp.shape == (10, 137, 3) and not res.no_person and res.frame_size == (320, 240)
    assert res.missing["face"] == 0 and res.missing["body"] == 0
    for t in range(10):
        face = kp[t, FACE0:FACE0 + 70]
        # the face in the 512 px photo spans x 150-300, y 40-195: halved, shifted by the slide and the 8 px crop
        x0, x1, y0, y1 = 75 + 10 + 4 * t, 150 + 10 + 4 * t, 20 - 8, 98 - 8
        assert (face[:, 2] == 1).all()
        assert ((face[:, 0] > x0) & (face[:, 0] < x1) & (face[:, 1] > y0) & (face[:, 1] < y1)).all()
        chin = face[8, 1]
        assert kp[t, 2, 1] > chin and kp[t, 5, 1] > chin  # shoulders below the face
        assert kp[t, 2, 0] < kp[t, 5, 0]  # the person's right shoulder on the image left
        assert face[36, 0] < face[45, 0] and face[48, 0] < face[54, 0]  # iBUG order: image-left first
    slide = np.polyfit(np.arange(10), kp[:, FACE0 + 30, 0], 1)[0]  # the nose tip follows the 4 px/frame slide
    assert slide == pytest.approx(4.0, abs=0.8)
    assert res.selection["frozen"] == []  # the picture moves in every frame


def test_mediapipe_face_table_is_mirror_consistent():
    """Holistic on the photo and on its mirror image: face-70 point k of one is the mirror of point flip(k) of the
    other, so the table maps iBUG mirror pairs to mesh mirror pairs (a wrong index shows up as a large error)."""
    _need("mediapipe")
    _need("skimage")
    import mediapipe as mp
    from skimage import data

    from microgesture.pose.holistic import _landmarks

    im = data.astronaut()
    with mp.solutions.holistic.Holistic(static_image_mode=True, refine_face_landmarks=True) as h:
        faces = []
        for img in (im, np.ascontiguousarray(im[:, ::-1])):
            r = h.process(img)
            faces.append(holistic_to_openpose(None, _landmarks(r.face_landmarks, 2), None, None,
                                              image_size=(512, 512))[FACE0:FACE0 + 70, :2])
    perm = np.arange(70)
    for a, b in FACE70_FLIP:
        perm[a], perm[b] = b, a
    mirrored = faces[1].copy()
    mirrored[:, 0] = 511 - mirrored[:, 0]
    err = np.linalg.norm(faces[0] - mirrored[perm], axis=1)
    assert err.max() < 5.0, f"point {err.argmax()} is {err.max():.1f} px off its mirror"


def test_mediapipe_no_person_gives_empty_flagged_result(tmp_path):
    _need("mediapipe")
    write_video(tmp_path / "g.mp4", np.full((16, 96, 128, 3), 120, np.uint8), fps=25)
    res = extract_pose(tmp_path / "g.mp4", backend="mediapipe")
    assert res.keypoints.shape == (16, 137, 3) and (res.keypoints == 0).all()
    assert res.no_person and res.missing["person"] == 1.0
    assert res.selection["frozen"] == [[1, 15]]  # one picture throughout: frames 1-15 repeat frame 0
    assert load_pose(res.save(tmp_path / "g.npz")).no_person


@pytest.mark.parametrize(("rule", "lo", "hi", "finder"), [("largest", 0, 256, True), ("central", 240, 400, True),
                                                      ("largest", 0, 256, False)])
def test_mediapipe_selects_the_subject(tmp_path, rule, lo, hi, finder):
    """Two astronauts: a large one on the left, a small one in the centre of the frame."""
    _need("mediapipe")
    _need("skimage")
    import cv2
    from skimage import data

    im = data.astronaut()
    v = np.full((6, 256, 640, 3), 128, np.uint8)
    v[:, :, :256] = cv2.resize(im, (256, 256), interpolation=cv2.INTER_AREA)
    v[:, 48:208, 240:400] = cv2.resize(im, (160, 160), interpolation=cv2.INTER_AREA)
    write_video(tmp_path / "two.mp4", v, fps=25)
    res = extract_pose(tmp_path / "two.mp4", backend="mediapipe", select=rule, options={"finder": finder})
    nose = res.keypoints[:, FACE0 + 30]
    assert (nose[:, 2] == 1).all() and ((nose[:, 0] > lo) & (nose[:, 0] < hi)).all()
    assert res.selection["rule"] == rule and res.selection["multi_person_frames"] == 6
    assert res.selection["unfollowed_per_frame"] == [0] * 6  # both have a skeleton: nobody counted twice
    # without the finder (no onnxruntime) discovery falls back to the tiles and HOG, and still finds both
    assert bool(res.selection["settings"]["finder"]) == finder and res.selection["settings"]["hog"] != finder


def test_person_finder_finds_both_astronauts():
    """MoveNet MultiPose (shipped in the wheel, run by ONNX Runtime) on two astronauts: one box around each."""
    _need("onnxruntime")
    _need("skimage")
    import cv2
    from skimage import data

    from microgesture.pose.finder import MODEL_PATH, PersonFinder, coco17_to_openpose

    assert MODEL_PATH.is_file()
    im = data.astronaut()
    v = np.full((256, 640, 3), 128, np.uint8)
    v[:, :256] = cv2.resize(im, (256, 256), interpolation=cv2.INTER_AREA)
    v[48:208, 240:400] = cv2.resize(im, (160, 160), interpolation=cv2.INTER_AREA)
    people = PersonFinder().find(v)
    assert len(people) == 2
    big, small = sorted(people, key=lambda p: p.box[0])
    assert big.box[0] < 40 and 150 < big.box[2] < 260 and small.box[0] > 230 and small.box[2] < 410
    for p in people:  # keypoints inside their own box, shoulders below the nose
        body = coco17_to_openpose(p.keypoints, min_score=0.2)
        xy = body[body[:, 2] > 0, :2]
        assert len(xy) >= 5 and (xy[:, 0] >= p.box[0] - 5).all() and (xy[:, 0] <= p.box[2] + 5).all()
        assert body[2, 1] > body[0, 1] and body[5, 1] > body[0, 1]


def test_weak_finds_count_as_present_but_are_not_followed(monkeypatch):
    """A person the finder scores between count_min_score and finder_min_score (partly hidden, blurred) counts in
    ``unfollowed`` but starts no discovery; below count_min_score it does not count; above, discovery looks."""
    _need("mediapipe")
    _need("onnxruntime")
    from microgesture.pose import multi
    from microgesture.pose.finder import Person

    score = [0.15]
    box = np.array([20, 20, 60, 100], np.float32)
    monkeypatch.setattr(multi.PersonFinder, "find",
                        lambda self, frame: [Person(box=box, keypoints=np.zeros((17, 3), np.float32), score=score[0])])
    looked = []
    frame = np.full((120, 160, 3), 128, np.uint8)
    with multi.MultiPersonExtractor(detect_every=1000) as ex:  # no scheduled discovery after frame 0
        monkeypatch.setattr(ex, "_discover", lambda frame, everywhere: looked.append(everywhere) or [])
        for s in (0.15, 0.05, 0.3):
            score[0] = s
            ex.process(frame)
        assert ex.settings()["finder_min_score"] == 0.2 and ex.settings()["count_min_score"] == 0.1
    assert ex.unfollowed == [1, 0, 1]
    assert looked == [True, False]  # frame 0: scheduled; frame 2: the strong find; never for the weak one


def test_main_env_reruns_mediapipe_in_the_pose_env(tmp_path):
    """From an environment without mediapipe, extract_pose runs ``python -m microgesture.pose`` in .venv-pose."""
    if importlib.util.find_spec("mediapipe") is not None:
        pytest.skip("mediapipe is importable here: nothing to re-run")
    if pose_python() is None:
        pytest.skip("no pose environment (.venv-pose or MICROGESTURE_POSE_PYTHON)")
    write_video(tmp_path / "g.mp4", np.full((4, 64, 80, 3), 120, np.uint8), fps=25)
    res = extract_pose(tmp_path / "g.mp4", backend="mediapipe")
    assert res.backend == "mediapipe" and res.keypoints.shape == (4, 137, 3) and res.no_person


def test_cli_pose_warns_of_a_frozen_stretch(tmp_path, capsys):
    """A video that shows one picture for 16 frames (more than half a second): the command says which frames
    repeat, naming the file."""
    pytest.importorskip("typer")
    if importlib.util.find_spec("mediapipe") is None and pose_python() is None:
        pytest.skip("no MediaPipe and no pose environment")
    from microgesture.cli import main

    v = np.full((20, 64, 80, 3), 120, np.uint8)
    v[:4] += np.arange(4, dtype=np.uint8)[:, None, None, None] * 40  # frames 0-3 change, 4-19 are one picture
    write_video(tmp_path / "g.mp4", v, fps=25)
    with pytest.raises(SystemExit) as done:
        main(["pose", str(tmp_path / "g.mp4"), "-o", str(tmp_path / "g.npz")])
    assert done.value.code == 0
    err = capsys.readouterr().err
    assert f"{tmp_path / 'g.mp4'}: frames 5-19 repeat frame 4" in " ".join(err.split()), err
    assert load_pose(tmp_path / "g.npz").selection["frozen"] == [[5, 19]]


def test_missing_pose_env_error_says_how_to_create_it(tmp_path, monkeypatch):
    if importlib.util.find_spec("mediapipe") is not None:
        pytest.skip("mediapipe is importable here")
    from microgesture.pose import PoseError

    monkeypatch.setenv("MICROGESTURE_POSE_CHILD", "1")  # as if already inside the pose env: no second re-run
    write_video(tmp_path / "g.mp4", np.full((2, 32, 32, 3), 120, np.uint8), fps=25)
    with pytest.raises(PoseError, match="make pose-env"):
        extract_pose(tmp_path / "g.mp4", backend="mediapipe")


# -- discovery windows and progress ---------------------------------------------------------------------------------
def test_discovery_windows_tile_the_longer_side():
    """Discovery looks in the whole frame and in overlapping tiles that together cover it (a person cut by the frame
    edge or beside another is found in a tile); a 4:3 frame gets its left and right 60 %, a wide one squares."""
    from microgesture.pose.multi import discovery_windows

    for w, h in ((340, 256), (426, 240), (1080, 1296), (64, 64)):
        wins = discovery_windows(w, h)
        assert wins[0] == (0, 0, w, h)
        tiles = wins[1:]
        assert all(0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h for x0, y0, x1, y1 in tiles)
        cover = np.zeros((h, w), bool)
        for x0, y0, x1, y1 in tiles:
            cover[y0:y1, x0:x1] = True
        assert cover.all() and all((x1 - x0) * (y1 - y0) < w * h for x0, y0, x1, y1 in tiles)
    assert discovery_windows(340, 256)[1:] == [(0, 0, 204, 256), (136, 0, 340, 256)]
    assert all(x1 - x0 == 240 for x0, _, x1, _ in discovery_windows(426, 240)[1:])  # squares on a wide frame


def test_pose_child_progress_lines_move_the_bar(monkeypatch, caplog, capfd):
    """The pose child's ``@progress DONE TOTAL`` lines drive the parent's progress bar (one log line in quiet mode);
    its other stderr lines are passed on, TF-Lite noise dropped."""
    pytest.importorskip("rich", reason="the progress bar lives in the main environment (the pose one has no rich)")
    import logging
    import sys

    from microgesture.pose import _run_pose_child

    monkeypatch.setenv("MICROGESTURE_QUIET", "1")
    code = ("import sys\nfor i in range(1, 4): print(f'@progress {i} 3', file=sys.stderr)\n"
            "print('INFO: Created TensorFlow Lite XNNPACK delegate for CPU.', file=sys.stderr)\n"
            "print('a message', file=sys.stderr)")
    with caplog.at_level(logging.INFO, logger="microgesture.progress"):
        rc = _run_pose_child([sys.executable, "-c", code], env=dict(os.environ), description="pose v.mp4")
    err = capfd.readouterr().err
    assert rc == 0 and "a message" in err and "@progress" not in err and "TensorFlow" not in err
    assert any("pose v.mp4: 3 frames in" in r.getMessage() for r in caplog.records)


def test_python_m_pose_reports_progress_with_eta(tmp_path, monkeypatch, capsys):
    """``python -m microgesture.pose`` prints frames done, speed and time left; for a parent it prints the
    machine-readable ``@progress`` lines instead."""
    _need("mediapipe")
    from microgesture.pose.__main__ import main

    write_video(tmp_path / "g.mp4", np.full((4, 64, 80, 3), 120, np.uint8), fps=25)
    monkeypatch.delenv("MICROGESTURE_POSE_PROGRESS", raising=False)
    assert main([str(tmp_path / "g.mp4"), "-o", str(tmp_path / "a.npz"), "--backend", "mediapipe"]) == 0
    err = capsys.readouterr().err
    assert "pose g.mp4: 4/4 frames" in err and "frames/s, eta 0 s" in err and "@progress" not in err
    monkeypatch.setenv("MICROGESTURE_POSE_PROGRESS", "1")
    assert main([str(tmp_path / "g.mp4"), "-o", str(tmp_path / "b.npz"), "--backend", "mediapipe"]) == 0
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("@progress")]
    assert lines == [f"@progress {i} 4" for i in range(1, 5)]
