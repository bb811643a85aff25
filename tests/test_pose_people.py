"""Several people without MediaPipe: tracks, stitching, jumps, association checks and subject selection on synthetic
keypoints (CI has no real footage, and MediaPipe does not find drawn stick figures)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from microgesture.layouts import FACE0, LHAND0, RHAND0
from microgesture.pose import PoseError, PoseResult, load_pose, select_person, track_listing
from microgesture.pose.people import (
    body_scale,
    check_association,
    frozen_stretches,
    iou,
    is_jump,
    parse_select,
    part_checks,
    people_per_frame,
    person_box,
    repeats_frame,
    select_track,
    stitch_tracks,
    summarize_tracks,
)


def _person(cx: float, cy: float, s: float = 40.0, *, face: bool = True, hands: bool = True) -> np.ndarray:
    """A frontal upper body centred at (cx, cy) with shoulder width s: body, face around the nose, hands at wrists."""
    kp = np.zeros((137, 3), np.float32)
    body = {0: (0, -0.8), 1: (0, 0), 2: (-0.5, 0), 5: (0.5, 0), 3: (-0.6, 0.6), 6: (0.6, 0.6), 4: (-0.5, 1.1),
            7: (0.5, 1.1), 8: (0, 1.5), 9: (-0.25, 1.5), 12: (0.25, 1.5), 15: (-0.1, -0.9), 16: (0.1, -0.9),
            17: (-0.2, -0.85), 18: (0.2, -0.85)}
    for j, (dx, dy) in body.items():
        kp[j] = (cx + dx * s, cy + dy * s, 0.9)
    if face:
        ang = np.linspace(0, 2 * np.pi, 70, endpoint=False)
        kp[FACE0:FACE0 + 70] = np.stack([cx + 0.25 * s * np.cos(ang), cy - 0.8 * s + 0.3 * s * np.sin(ang),
                                         np.ones(70)], 1)
        kp[FACE0 + 30] = (cx, cy - 0.8 * s, 1)  # nose tip on the body's nose
    if hands:
        for start, wrist in ((LHAND0, 7), (RHAND0, 4)):
            kp[start:start + 21] = kp[wrist] + np.array([0, 0.1 * s, 0.1]) * np.linspace(0, 1, 21)[:, None]
            kp[start:start + 21, 2] = 1
    return kp


def _two_people(t: int = 20) -> dict[int, np.ndarray]:
    """Person 0 on the left all along, frontal; person 1 on the right from frame 5, face missing (turned away)."""
    a = np.stack([_person(80 + i, 120) for i in range(t)])
    b = np.zeros_like(a)
    b[5:] = np.stack([_person(240, 110, 50, face=False) for _ in range(t - 5)])
    return {0: a, 1: b}


def test_boxes_iou_and_scale():
    kp = _person(100, 100)
    box = person_box(kp)
    assert box[0] < 80 and box[2] > 120 and person_box(np.zeros((137, 3))) is None
    assert iou(box, box) == pytest.approx(1.0) and iou(box, box + 1000) == 0.0
    side = _person(100, 100)
    side[5, 0] = side[2, 0]  # profile: shoulders on top of each other
    assert body_scale(side) >= 0.8 * 40  # nose-neck keeps the scale
    assert body_scale(kp) == pytest.approx(40, rel=0.05)


def test_is_jump_tells_following_from_jumping():
    a = _person(100, 100)
    assert not is_jump(a, _person(110, 100))  # walked a quarter shoulder
    assert is_jump(a, _person(220, 100))  # the other person, three shoulder widths away
    assert not is_jump(a, _person(220, 100), frames=16)  # ... reachable after half a second lost
    assert not is_jump(None, a)


def test_people_per_frame_counts_and_holds_short_gaps():
    tracks = _two_people()
    assert list(people_per_frame(tracks, 20)) == [1] * 5 + [2] * 15
    tracks[1][10:12] = 0  # lost for two frames
    assert people_per_frame(tracks, 20)[10] == 1
    assert people_per_frame(tracks, 20, hold=2)[10] == 2 and people_per_frame(tracks, 20, hold=1)[10] == 1
    tracks[1][15:] = 0  # gone at the end: never held
    assert people_per_frame(tracks, 20, hold=5)[17] == 1


def test_people_per_frame_adds_people_seen_without_a_skeleton():
    tracks = _two_people()
    seen = np.zeros(20, np.int64)
    seen[:3] = 1  # the finder saw someone nobody tracks (from behind) in frames 0-2
    count = people_per_frame(tracks, 20, unfollowed=seen)
    assert list(count) == [2] * 3 + [1] * 2 + [2] * 15
    assert list(people_per_frame(tracks, 20, unfollowed=seen[:10])[:10]) == list(count[:10])  # shorter list


def test_frozen_stretches_are_long_runs_of_repeats_only():
    rep = np.zeros(40, bool)
    rep[[7, 14, 21]] = True  # a duplicate every 7 frames: frame-rate conversion, not a stall
    rep[25:31] = True  # frames 25-30 repeat frame 24
    assert frozen_stretches(rep) == [[25, 30]]
    rep[35:40] = True  # a stall running to the end
    assert frozen_stretches(rep) == [[25, 30], [35, 39]]
    assert frozen_stretches(rep, min_len=7) == []
    assert frozen_stretches(rep, fps=12) == [[25, 30]]  # half a second at 12 fps: 6 frames
    assert frozen_stretches(rep, fps=14) == []  # 7 frames
    assert frozen_stretches([]) == []


def test_a_still_shot_with_a_moving_face_is_not_a_repeat():
    """A still interview shot: only a small face patch changes, so the mean difference is far below one grey level,
    yet the frame is new; codec noise of a few grey levels over the whole frame is a repeat."""
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    b = a.copy()
    b[20:26, 70:76] = 255 - b[20:26, 70:76]  # the speaker's mouth, 0.25 % of the picture
    assert np.abs(b.astype(int) - a).mean() < 1 and not repeats_frame(a, b)
    noisy = np.clip(a.astype(int) + rng.integers(-8, 9, a.shape), 0, 255).astype(np.uint8)
    assert repeats_frame(a, noisy) and repeats_frame(a, a)
    assert not repeats_frame(None, a) and not repeats_frame(a[:, :80], a)


def test_stitch_joins_a_lost_person_found_again_and_nobody_else():
    a = np.stack([_person(100 + i, 100) for i in range(30)])
    first, again = a.copy(), a.copy()
    first[12:] = 0
    again[:16] = 0  # lost for frames 12-15, found again where it was
    other = np.stack([_person(300, 100) for _ in range(30)])
    other[:14] = 0  # starts elsewhere: someone else
    out = stitch_tracks({0: first, 3: again, 5: other}, max_gap=10)
    assert sorted(out) == [0, 5]
    assert (out[0][:12, 1, 2] > 0).all() and (out[0][16:, 1, 2] > 0).all() and (out[0][12:16] == 0).all()
    assert sorted(stitch_tracks({0: first, 3: again}, max_gap=2)) == [0, 3]  # gap longer than allowed


def test_stitch_joins_a_fast_person_who_left_their_old_box():
    """A small, fast person lost for 6 frames is found again off their old box (no overlap): joined when the step
    is within the jump reach; a track that starts far away is not; of two candidates the nearer is joined."""
    a = np.stack([_person(100 + 12 * i, 100, s=10) for i in range(30)])  # box about 25 px tall, 12 px per frame
    first, again = a.copy(), a.copy()
    first[10:] = 0
    again[:16] = 0  # lost for frames 10-15: 84 px further, no overlap with the last box
    assert iou(person_box(first[9]), person_box(again[16])) == 0
    far = np.stack([_person(600, 300, s=10) for _ in range(30)])
    far[:14] = 0
    out = stitch_tracks({0: first, 3: again, 5: far}, max_gap=10, max_shift=4.0)
    assert sorted(out) == [0, 5] and (out[0][16:, 1, 2] > 0).all()
    assert sorted(stitch_tracks({0: first, 3: again}, max_gap=10, max_shift=0.75)) == [0, 3]  # a jump at 0.75
    near = np.stack([_person(100 + 12 * 9 + 20, 100, s=10) for _ in range(30)])
    near[:12] = 0
    out = stitch_tracks({0: first, 3: again, 4: near}, max_gap=10, max_shift=4.0)
    assert sorted(out) == [0, 3]  # the nearer candidate (4) joined 0; then 3 overlaps it in time


def test_association_drops_parts_of_someone_else():
    kp = np.stack([_person(100, 100) for _ in range(6)])
    other = _person(300, 100)
    kp[1, FACE0:FACE0 + 70] = other[FACE0:FACE0 + 70]  # the face of the man beside
    kp[2, LHAND0:LHAND0 + 21] = other[LHAND0:LHAND0 + 21]
    kp[3, RHAND0:RHAND0 + 21] = other[RHAND0:RHAND0 + 21]
    kp[4, 4] = 0  # right wrist missing: the right hand cannot be checked
    out, rep = check_association(kp)
    assert (out[1, FACE0:FACE0 + 70] == 0).all() and (out[2, LHAND0:LHAND0 + 21] == 0).all()
    assert (out[3, RHAND0:RHAND0 + 21] == 0).all() and (out[4, RHAND0:RHAND0 + 21] == 0).all()
    assert (out[0] == kp[0]).all() and (out[:, :25] == kp[:, :25]).all()  # body untouched
    assert rep["face"] == {"reported": 6, "passed": 5, "rate": pytest.approx(5 / 6, abs=1e-4), "from_body": 0}
    assert rep["right_hand"]["passed"] == 4 and rep["left_hand"]["passed"] == 5


def test_association_keeps_a_profile_face_that_covers_the_body_nose():
    """In profile the body model's nose sits on the cheek, more than NOSE_TOL body scales from the face mesh's nose
    tip: the face still passes because the body's nose lies on it. A face beside the head fails, and a hand never
    passes by its box (clasped hands put one wrist inside another person's hand)."""
    s = 40.0
    kp = np.stack([_person(100, 100, s) for _ in range(3)])
    ang = np.linspace(0, 2 * np.pi, 70, endpoint=False)
    for t, (centre, half) in enumerate(((0.3, 0.35), (0.9, 0.25))):
        face = np.stack([100 + centre * s + half * s * np.cos(ang), 68 + 0.3 * s * np.sin(ang), np.ones(70)], 1)
        face[30] = (100 + (centre + half - 0.05) * s, 68, 1)  # nose tip at the front of the profile
        kp[t, FACE0:FACE0 + 70] = face
    hand = kp[2, LHAND0:LHAND0 + 21].copy()
    hand[:, 0] += np.linspace(0.7 * s, -0.3 * s, 21)  # wrist point 0.7 body scales out, the box over the wrist
    kp[2, LHAND0:LHAND0 + 21] = hand
    (_, _, _, face_ok, face_d), (_, _, _, hand_ok, hand_d), _ = part_checks(kp)
    assert face_d[0] == pytest.approx(0.6, abs=0.01) and face_d[1] == pytest.approx(1.1, abs=0.01)
    assert face_ok.tolist() == [True, False, True]
    assert hand_d[2] == pytest.approx(0.7, abs=0.01) and hand_ok.tolist() == [True, True, False]
    out, rep = check_association(kp)
    assert (out[0, FACE0:FACE0 + 70] == kp[0, FACE0:FACE0 + 70]).all() and (out[1, FACE0:FACE0 + 70] == 0).all()
    assert rep["face"]["passed"] == 2 and rep["left_hand"]["passed"] == 2


def test_association_counts_faces_made_from_the_body():
    from microgesture.pose.headface import face_from_body

    kp = np.stack([_person(100, 100) for _ in range(4)])
    kp[:2, FACE0:FACE0 + 70] = 0
    for t in range(2):
        assert face_from_body(kp[t])
    _, rep = check_association(kp)
    assert rep["face"]["reported"] == 4 and rep["face"]["passed"] == 4 and rep["face"]["from_body"] == 2


def test_select_track_rules():
    tracks = _two_people()
    summary = summarize_tracks(tracks, (320, 240))
    assert [s["id"] for s in summary] == [0, 1] and summary[0]["frames"] == 20 and summary[1]["first"] == 5
    assert summary[0]["frontal"] == 1.0 and summary[1]["frontal"] == 0.0
    assert select_track(summary, "main", 20) == 0  # present longest, frontal
    assert select_track(summary, "largest", 20) == 1
    assert select_track(summary, "central", 20) == 0  # person 1 at x=240 of 320
    assert select_track(summary, "person=1", 20) == 1
    with pytest.raises(ValueError, match="person=7: no such track; the tracks are 0, 1"):
        select_track(summary, "person=7", 20)
    assert select_track([], "main", 20) is None
    assert parse_select("person=12") == ("person", 12)
    with pytest.raises(ValueError, match="select must be one of"):
        parse_select("left")


def test_main_prefers_frontal_when_both_stay():
    tracks = _two_people()
    tracks[1][:5] = tracks[1][5]  # both present all along; person 1 larger but never frontal
    assert select_track(summarize_tracks(tracks, (320, 240)), "main", 20) == 0


def test_a_group_counted_before_and_after_a_short_drop_was_there_during_it():
    from microgesture.pose.people import hold_several

    count = [2, 2, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1, 2, 1, 1, 0, 0]
    held = hold_several(count, max_gap=3)
    # 2-4: three frames between a 2 and a 3 -> at least 2; 7-11: five frames, longer than max_gap -> unchanged
    assert held.tolist() == [2, 2, 2, 2, 2, 3, 3, 1, 1, 1, 1, 1, 2, 1, 1, 0, 0]
    assert hold_several(count, max_gap=5)[7:12].tolist() == [2] * 5
    one = [1, 1, 0, 0, 1, 1, 0, 1]  # one person, lost now and then: never raised to a group
    assert hold_several(one, max_gap=10).tolist() == one
    assert hold_several([], max_gap=3).tolist() == []


def test_select_person_from_a_saved_file(tmp_path):
    from microgesture.pose import _select

    tracks = _two_people()
    tracks[1][8, FACE0:FACE0 + 70] = _person(80, 120)[FACE0:FACE0 + 70]  # person 0's face attached to person 1
    unfollowed = [1] * 5 + [0] * 15  # someone without a skeleton beside person 0 before person 1 arrives
    kp, sel, people = _select(tracks, 20, select="main", frame_size=(320, 240), hold=0, unfollowed=unfollowed,
                              fps=25.0)
    assert sel["track"] == 0 and sel["multi_person_frames"] == 20 and len(sel["tracks"]) == 2
    assert sel["multi_person_frames_tracked"] == 15 and sel["unfollowed_per_frame"] == unfollowed
    assert (people[1][8, FACE0:FACE0 + 70] == 0).all()  # association checks applied to every track
    res = PoseResult(keypoints=kp, fps=25.0, frame_size=(320, 240), backend="mediapipe", selection=sel,
                     people=people)
    back = load_pose(res.save(tmp_path / "p.npz"))
    assert sorted(back.people) == [0, 1] and np.array_equal(back.people[1], people[1])
    other = select_person(back, "person=1")
    assert other.selection["track"] == 1 and np.array_equal(other.keypoints, people[1])
    assert other.selection["multi_person_frames"] == 20  # the people seen without a skeleton still count
    assert other.missing["body"] == 0.25  # absent in frames 0-4
    lines = track_listing(other)
    assert lines[1].startswith("* person=1: 15/20 frames (from 5 to 19)") and lines[0].startswith("  person=0")
    # short tracks share a closing line, the subject is always listed in full
    assert track_listing(other, min_frames=20) == lines  # person 0 is in 20 frames
    assert track_listing(other, min_frames=21) == [lines[1], "  and 1 more, each in under 21 frames: person=0"]
    with pytest.raises(PoseError, match="person=4: no such track"):
        select_person(back, "person=4")
    with pytest.raises(PoseError, match="holds no tracks"):
        select_person(PoseResult(keypoints=kp, fps=25.0, frame_size=(320, 240), backend="openpose-json"), "main")


def test_cli_person_option_errors(tmp_path, capsys):
    pytest.importorskip("typer")  # the main command line
    from test_pose import _write_json_frames

    from microgesture.cli import main

    folder = _write_json_frames(tmp_path / "json")
    with pytest.raises(SystemExit) as done:
        main(["pose", str(folder), "-o", str(tmp_path / "a.npz"), "--person", "1", "--select", "largest"])
    assert done.value.code == 2 and "--person 1 and --select largest: give one of them" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        main(["pose", str(folder), "-o", str(tmp_path / "b.npz"), "--person", "3"])
    assert done.value.code == 2 and "needs the mediapipe backend" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        main(["pose", "--help"])
    assert "main (the default" in " ".join(capsys.readouterr().out.split())


def test_cli_track_listing_thumbnails_and_person(tmp_path, capsys):
    """``microgesture pose VIDEO --tracks DIR --person 0`` on the first frames of a real interview (re-run in the
    pose environment): the listing marks the subject, one thumbnail per track, the skeleton is that track's."""
    pytest.importorskip("typer")
    from pathlib import Path

    from microgesture.cli import main
    from microgesture.data.video import iter_frames, probe_video, write_video
    from microgesture.pose import pose_python

    real = Path(__file__).resolve().parents[2] / "shared" / "realvideo" / "interview_nodding_0019_02_0078.mp4"
    if not real.is_file() or (pose_python() is None and importlib.util.find_spec("mediapipe") is None):
        pytest.skip("needs ../shared/realvideo and the pose environment")
    video = tmp_path / "v.mp4"
    write_video(video, np.stack([f for _, f in zip(range(8), iter_frames(real), strict=False)]),
                fps=probe_video(real, count=False)["fps"] or 25)
    with pytest.raises(SystemExit) as done:
        main(["pose", str(video), "-o", str(tmp_path / "s.npz"), "--tracks", str(tmp_path / "tracks"),
              "--person", "0"])
    assert done.value.code == 0
    err = capsys.readouterr().err
    assert "* person=0: 8/8 frames (from 0 to 7), mean box [" in err and "track thumbnails: 1 PNG" in err
    assert err.count("person=0:") == 1, err  # listed once (not by the pose child as well)
    res = load_pose(tmp_path / "s.npz")
    assert res.selection["rule"] == "person=0" and res.selection["track"] == 0
    assert np.array_equal(res.keypoints[:, :25], res.people[0][:, :25])
    import cv2

    thumb = cv2.imread(str(tmp_path / "tracks" / "person_0.png"))
    assert thumb is not None and thumb.shape[0] > thumb.shape[1]  # a seated person: taller than wide


def test_coco17_maps_to_body25_sides_and_derived_joints():
    from collections import Counter

    from microgesture.pose.finder import COCO17_TO_BODY25, coco17_to_openpose

    kp = np.zeros((17, 3), np.float32)
    kp[:, 0] = np.arange(17) * 10.0
    kp[:, 1] = 100.0 + np.arange(17)
    kp[:, 2] = 0.9
    kp[12, 2] = 0.1  # right hip below the threshold: right hip and mid-hip missing
    out = coco17_to_openpose(kp, min_score=0.2)
    assert out.shape == (137, 3) and (out[19:] == 0).all()  # feet, face and hands: no COCO twin
    assert tuple(out[2, :2]) == (60.0, 106.0) and tuple(out[5, :2]) == (50.0, 105.0)  # right/left shoulder
    assert tuple(out[4, :2]) == (100.0, 110.0) and tuple(out[7, :2]) == (90.0, 109.0)  # right/left wrist
    assert tuple(out[1, :2]) == (55.0, 105.5)  # neck between the shoulders
    assert out[9, 2] == 0 and out[8, 2] == 0 and out[12, 2] == pytest.approx(0.9)
    assert tuple(out[15, :2]) == (20.0, 102.0) and tuple(out[18, :2]) == (30.0, 103.0)  # right eye, left ear
    uses = Counter(i for src in COCO17_TO_BODY25 for i in src)  # every COCO point used; shoulders, hips twice
    assert set(uses) == set(range(17)) and {k for k, n in uses.items() if n == 2} == {5, 6, 11, 12}


def test_face_from_body_only_when_no_face_and_at_half_confidence():
    from microgesture.pose.headface import BODY_FACE_WEIGHT, face_from_body

    kp = np.zeros((137, 3), np.float32)
    kp[[0, 15, 16, 17, 18]] = [(50, 40, 0.9), (45, 35, 0.8), (55, 35, 0.8), (40, 38, 0.6), (60, 38, 0.0)]
    assert face_from_body(kp)
    face = kp[FACE0:FACE0 + 70]
    assert tuple(face[30]) == pytest.approx((50, 40, 0.9 * BODY_FACE_WEIGHT))  # nose tip
    assert tuple(face[68, :2]) == (45, 35) and tuple(face[69, :2]) == (55, 35)  # right, left pupil
    assert face[0, 2] > 0 and face[16, 2] == 0  # the left ear was not seen: its tragion stays missing
    assert (face[:, 2] > 0).sum() == 4
    before = kp.copy()
    kp[0, :2] = (0, 0)
    assert not face_from_body(kp)  # a face is present now: nothing is overwritten
    assert (kp[FACE0:FACE0 + 70] == before[FACE0:FACE0 + 70]).all()


def test_finder_people_against_tracks():
    from microgesture.pose.finder import Person, body_at, claim_of, untracked

    kp = np.zeros((17, 3), np.float32)
    kp[:, :2] = np.linspace((300, 100), (330, 180), 17)
    kp[:, 2] = 0.8
    people = [Person(box=np.array([100, 90, 150, 200], np.float32), keypoints=kp - [200, 0, 0], score=0.6),
              Person(box=np.array([291, 94, 333, 182], np.float32), keypoints=kp, score=0.5)]
    # the player on the right is followed (a skeleton box tighter than the finder's), the left one is not
    assert untracked(people, [np.array([298, 103, 324, 180], np.float32)]) == [people[0]]
    # two skeletons on the right player (a stale second tracker): both claim person 1, so one is a duplicate
    assert claim_of(people, np.array([302, 89, 332, 154], np.float32)) == 1
    assert claim_of(people, np.array([298, 103, 324, 180], np.float32)) == 1
    assert claim_of(people, np.array([200, 20, 260, 60], np.float32)) is None and claim_of(people, None) is None
    body = body_at(people, np.array([290, 95, 330, 185], np.float32), min_score=0.2)
    assert body is not None and body[1, 2] > 0 and 300 <= body[0, 0] <= 330
    assert body_at(people, np.array([0, 0, 20, 20], np.float32), min_score=0.2) is None
