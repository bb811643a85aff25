"""The synthetic benchmark: class prior, subject splits, what each program moves, videos, reproducibility, formats."""

from __future__ import annotations

import csv
import filecmp
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from microgesture.data.classes import IMIGUE_CLASSES, IMIGUE_TRAIN_COUNTS
from microgesture.data.format import Dataset
from microgesture.data.synth import PRESETS, Preset, generate, make_plan, rendered_at, synth_clip
from microgesture.data.synth.generate import scene_for, synth_recording
from microgesture.data.synth.programs import PROGRAMS
from microgesture.data.synth.render import render
from microgesture.data.video import probe_video, read_video
from microgesture.layouts import FACE0, LHAND0, RHAND0

C = {name: i for i, name in enumerate(IMIGUE_CLASSES)}
# A few clips, small frames: enough to exercise the raw writer without the cost of the tiny preset.
MICRO = Preset(name="micro", clips=(12, 4, 4), subjects=(2, 1, 1), frame_size=(96, 54), clip_median=10,
               clip_range=(6, 16), clips_per_video=4, gap=(4, 8))  # fmt: skip
NANO = Preset(name="nano", clips=(3, 1, 1), subjects=(1, 1, 1), frame_size=(96, 54), clip_median=8,
              clip_range=(6, 10), clips_per_video=3, gap=(3, 5))  # fmt: skip


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("synth") / "tiny", preset="tiny", seed=3)


def _pair(label: int, seed: int, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """The clean clip with the gesture and the same clip without it (same idle motion)."""
    a = synth_clip(label, seed=seed, num_frames=n, clean=True, preset="full")
    b = synth_clip(None, seed=seed, num_frames=n, clean=True, preset="full")
    return a[..., :2].astype(np.float64), b[..., :2].astype(np.float64)


# -- class prior and splits --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["tiny", "small"])
def test_class_counts_follow_the_imigue_prior(name):
    plan = make_plan(PRESETS[name], seed=0)
    ref = np.array(IMIGUE_TRAIN_COUNTS)
    train = plan.counts("train")
    assert train.sum() == PRESETS[name].clips[0]
    assert (train >= 1).all()
    assert np.corrcoef(train, ref)[0, 1] > 0.97
    assert train[C["illustrative gestures (non-MG)"]] > train[C["shake shoulders"]] > 10 * train[C["bite nails"]]
    held_out = plan.counts("val") + plan.counts("test")
    assert held_out.sum() == sum(PRESETS[name].clips[1:])
    assert np.corrcoef(held_out, ref)[0, 1] > 0.9


def test_full_preset_has_imigue_sizes():
    p = PRESETS["full"]
    assert p.clips == (12893, 777, 4562) and sum(p.subjects) == 72 and p.frame_size == (1280, 720)
    np.testing.assert_array_equal(make_plan(p, seed=0).counts("train"), IMIGUE_TRAIN_COUNTS)


def test_subjects_are_disjoint_across_splits(tiny):
    ds = Dataset.open(tiny)
    by_split = {s: {c.subject for c in ds.split(s)} for s in ("train", "val", "test")}
    assert by_split["train"] and by_split["val"] and by_split["test"]
    assert not (by_split["train"] & by_split["val"] or by_split["train"] & by_split["test"]
                or by_split["val"] & by_split["test"])  # fmt: skip
    assert all(len({c.subject for c in ds if c.video_id == v}) == 1 for v in {c.video_id for c in ds})


def test_subjects_differ():
    plan = make_plan(PRESETS["tiny"], seed=0)
    fields = ("shoulder", "scale", "cam_x", "speed", "amp", "breath_amp", "jitter_hand", "drop_hand")
    values = np.array([[getattr(s, f) for f in fields] for s in plan.subjects])
    assert (values.std(axis=0) > 0.02 * np.abs(values.mean(axis=0))).all()
    hat = C["touch hat"]
    for v in plan.videos:  # touch-hat clips go to subjects who wear a cap
        assert hat not in v.labels or plan.subjects[v.subject].hat


# -- what each program moves -------------------------------------------------------------------------------------------
def test_every_class_has_a_program_that_moves_something():
    assert sorted(PROGRAMS) == list(range(32))
    for label in range(32):
        a, b = _pair(label, seed=label)
        assert np.abs(a - b).max() > 1.0, IMIGUE_CLASSES[label]


def _hand_to(a: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-frame distance from the nearer hand (all 21 points) to a (T, 2) target."""
    hands = np.concatenate([a[:, LHAND0:RHAND0], a[:, RHAND0:]], axis=1)
    return np.linalg.norm(hands - target[:, None], axis=-1).min(axis=1)


@pytest.mark.parametrize(
    ("name", "face_points"),
    [("rub eyes", [36, 39, 42, 45]), ("touch forehead", [19, 24]), ("touch ears", [0, 16]), ("touch chin", [8]),
     ("bite nails", [62, 66]), ("play with hair", [0, 16, 19, 24])],
)  # fmt: skip
def test_hand_goes_to_its_face_region(name, face_points):
    for seed in (0, 1):
        a, b = _pair(C[name], seed)
        pts = [FACE0 + k for k in face_points]
        near = min(_hand_to(a, a[:, j]).min() for j in pts)
        rest = min(_hand_to(b, b[:, j]).min() for j in pts)
        face_width = np.linalg.norm(b[:, FACE0 + 16] - b[:, FACE0], axis=-1).mean()
        assert near < 0.5 * face_width < rest, (name, near, rest, face_width)


def test_bite_press_lips_moves_only_the_mouth():
    for seed in range(3):
        a, b = _pair(C["bite/press lips"], seed)
        d = np.abs(a - b).max(axis=(0, 2))
        mouth = list(range(FACE0 + 48, FACE0 + 68))
        jaw = list(range(FACE0, FACE0 + 17))  # closes when the pressed lips stop any talking
        assert d[mouth].max() > 1.0
        others = np.setdiff1d(np.arange(137), mouth + jaw)
        assert d[others].max() == 0.0  # wrists, hands, body, head, eyes, brows, nose: untouched
        # the cue is lip thickness: outer upper lip (face 51) or outer lower lip (57) to the inner lip line (62)
        for j in (51, 57):
            thick_a = np.linalg.norm(a[:, FACE0 + j] - a[:, FACE0 + 62], axis=-1)
            thick_b = np.linalg.norm(b[:, FACE0 + j] - b[:, FACE0 + 62], axis=-1)
            if thick_a.min() < 0.6 * thick_b.min():
                break
        else:
            raise AssertionError("neither lip got thinner")


def test_shake_shoulders_goes_up_and_down():
    for seed in range(3):
        a, b = _pair(C["shake shoulders"], seed, n=75)
        lift = (b[:, [2, 5], 1] - a[:, [2, 5], 1]).max(axis=1)  # pixels up (y points down)
        assert lift.max() > 2.0
        high = lift > 0.5 * lift.max()
        assert np.count_nonzero(np.diff(high.astype(int)) == 1) + high[0] >= 2  # at least two separate rises
        assert np.abs(a[:, [4, 7]] - b[:, [4, 7]]).max() < 0.5  # the wrists rest


def test_sit_straight_raises_the_neck_and_withdraw_arms_hides_the_hands():
    a, b = _pair(C["sit straight"], 0)
    assert (b[-10:, 1, 1] - a[-10:, 1, 1]).mean() > 3.0  # neck higher at the end of the clip
    w = synth_clip(C["withdraw arms"], seed=0, num_frames=60, clean=True, preset="full")
    base = synth_clip(None, seed=0, num_frames=60, clean=True, preset="full")
    hands = np.r_[LHAND0:137]
    assert w[-10:, hands, 2].mean() < 0.5 * base[-10:, hands, 2].mean()


def test_play_with_objects_differs_from_rub_hold_hands_only_in_pixels():
    rub, obj = C["rub/hold hands"], C["play with objects"]
    p = Preset(name="t", clips=(1, 1, 1), subjects=(1, 1, 1), frame_size=(160, 90))
    from microgesture.data.synth import sample_subject
    from microgesture.data.synth.body import Difficulty

    subject = sample_subject(np.random.default_rng(0), "S", Difficulty())
    recs = [synth_recording(subject, [c], seed=(4, 2), preset=p, lengths=[20], gaps=[5, 5]) for c in (rub, obj)]
    np.testing.assert_array_equal(recs[0].skeleton, recs[1].skeleton)
    frames = [render(r.body, subject, scene_for(r), range(5, 25)) for r in recs]
    assert (frames[0] != frames[1]).any()


def test_observed_skeleton_has_noise_whole_hand_losses_and_hidden_legs():
    s = synth_clip(C["touch chin"], seed=2, num_frames=60, preset="full")
    clean = synth_clip(C["touch chin"], seed=2, num_frames=60, preset="full", clean=True)
    assert s.dtype == np.float32 and s.shape == (60, 137, 3)
    missing = s[..., 2] == 0
    assert (s[missing] == 0).all()  # a dropped joint is (0, 0, 0), as OpenPose writes it
    assert missing[:, [10, 11, 13, 14]].all()  # legs under the table
    for j0 in (LHAND0, RHAND0):  # OpenPose's hand network writes a whole hand or none
        lost = missing[:, j0 : j0 + 21].sum(1)
        assert ((lost <= 2) | (lost >= 19)).all()
    conf = s[..., 2]
    hand, body = conf[:, LHAND0:], conf[:, 1:8]
    assert np.median(hand[hand > 0]) < np.median(body[body > 0])  # hands are the least confident part
    seen = ~missing
    err = np.linalg.norm(s[..., :2] - clean[..., :2], axis=-1)[seen]
    assert 0.1 < np.median(err) < 10.0


def test_raw_output_carries_openpose_quirks_and_the_skeleton_is_it_sanitised():
    from microgesture.data.sanitise import sanitise
    from microgesture.data.synth import sample_subject
    from microgesture.data.synth.body import Difficulty

    p = PRESETS["small"]
    subject = sample_subject(np.random.default_rng(1), "S", Difficulty())
    rec = synth_recording(subject, [C["touch chin"]] * 60, seed=(5, 2), preset=p)
    raw, c = rec.raw, rec.raw[..., 2]
    w, h = p.frame_size
    nobody = ~raw.any(axis=(1, 2))
    assert 0.002 < nobody.mean() < 0.05  # real: about 1% of frames
    assert (c < 0).any() and c.min() >= -1.5e-4  # tiny negative confidences
    outside = ((raw[..., 0] < 0) | (raw[..., 1] < 0) | (raw[..., 0] >= w) | (raw[..., 1] >= h)) & (c != 0)
    assert outside.any() and (c[outside] < 0.05).all()  # guesses past the edge, at near-zero confidence
    np.testing.assert_array_equal(rec.skeleton, sanitise(raw.copy(), p.frame_size))


# -- videos ------------------------------------------------------------------------------------------------------------
def test_clip_videos_decode_with_the_clip_length(tiny):
    ds = Dataset.open(tiny)
    assert ds.header.frame_size == (160, 90) and ds.layout == "openpose137" and ds.classes == IMIGUE_CLASSES
    for clip in ds.clips[:: max(1, len(ds) // 5)]:
        info = probe_video(ds.video_file(clip))
        assert (info["num_frames"], info["width"], info["height"]) == (clip.num_frames, 160, 90)
    frames = read_video(ds.video_file(ds.clips[0]))
    assert frames.shape[1:] == (90, 160, 3) and frames.std() > 5


def test_drawn_person_lies_inside_the_skeleton_box():
    p = PRESETS["tiny"]
    plan = make_plan(p, seed=1)
    for v in plan.videos[:3]:
        rec = synth_recording(plan.subjects[v.subject], v.labels, seed=(1, 2, v.index), preset=p)
        scene = scene_for(rec)
        for _, a, b in rec.segments[:3]:
            person = render(rec.body, rec.subject, scene, range(a, b + 1))
            empty = render(rec.body, rec.subject, scene, range(a, b + 1), person=False)
            drawn = (person != empty).any(-1).any(0)
            sk = rec.skeleton[a : b + 1]
            x, y = sk[..., 0][sk[..., 2] > 0], sk[..., 1][sk[..., 2] > 0]
            pw, ph = 0.25 * (x.max() - x.min()), 0.25 * (y.max() - y.min())
            ys, xs = np.nonzero(drawn)
            assert len(xs) > 50
            assert xs.min() + 0.5 >= x.min() - pw and xs.max() + 0.5 <= x.max() + pw
            assert ys.min() + 0.5 >= y.min() - ph and ys.max() + 0.5 <= y.max() + ph
            # the person is a minority of the frame: cropping on the skeleton matters
            assert (x.max() - x.min()) * (y.max() - y.min()) < 0.5 * p.frame_size[0] * p.frame_size[1]


# -- reproducibility and formats ---------------------------------------------------------------------------------------
def _same_content(a: Path, b: Path) -> None:
    """What the generator means to reproduce: every non-video file byte for byte, every video's decoded frames.

    Encoded bytes are not compared: they depend on the encoder build and CPU, not on the generator. The frames are
    compared within 2 levels (a decoder may round differently); same-seed runs of one build give 0 here.
    """
    names = sorted(str(f.relative_to(a)) for f in a.rglob("*") if f.is_file())
    assert names == sorted(str(f.relative_to(b)) for f in b.rglob("*") if f.is_file())
    videos = [n for n in names if n.endswith(".mp4")]
    assert videos
    _, mismatch, errors = filecmp.cmpfiles(a, b, [n for n in names if not n.endswith(".mp4")], shallow=False)
    assert not mismatch and not errors
    for n in videos:
        fa, fb = read_video(a / n), read_video(b / n)
        assert fa.shape == fb.shape and np.abs(fa.astype(np.int16) - fb).max() <= 2, n


def test_same_seed_gives_identical_files(tiny, tmp_path):
    again = generate(tmp_path / "again", preset="tiny", seed=3, workers=2)
    _same_content(tiny, again)
    other = generate(tmp_path / "other", preset=MICRO, seed=4, video=False)
    assert not filecmp.cmp(other / "skeletons.npy", generate(tmp_path / "o2", preset=MICRO, seed=5, video=False)
                           / "skeletons.npy", shallow=False)  # fmt: skip


def test_same_seed_same_frames_whatever_the_heap_holds(tmp_path):
    # libx264 on AVX-512 CPUs read uninitialised heap memory, so videos (and everything trained on them) changed from
    # run to run there. MALLOC_PERTURB_ fills freed memory with a byte pattern, which shows such reads on any CPU
    # that takes that path; the writer caps x264 at AVX2 where AVX-512 is present.
    code = ("import sys; from microgesture.data.synth import Preset, generate; "
            f"generate(sys.argv[1], preset=Preset(**{NANO.__dict__!r}), seed=7)")
    outs = []
    for perturb in ("165", "37"):
        out = tmp_path / f"p{perturb}"
        env = dict(os.environ, MALLOC_PERTURB_=perturb)
        subprocess.run([sys.executable, "-c", code, str(out)], check=True, env=env)
        outs.append(out)
    _same_content(*outs)


def test_dataset_rows_locate_clips_in_their_recordings(tiny):
    ds = Dataset.open(tiny)
    meta = ds.header.extra["synth"]
    assert meta["preset"] == "tiny" and meta["seed"] == 3
    start: dict[str, int] = {}
    end: dict[str, int] = {}
    overlapping = 0
    for c in ds:
        assert c.clip_id.startswith(c.video_id + "_") and c.end_frame - c.start_frame + 1 == c.num_frames
        assert c.start_frame > start.get(c.video_id, -1)  # clips of a recording keep their order
        overlapping += c.start_frame <= end.get(c.video_id, -1)
        start[c.video_id], end[c.video_id] = c.start_frame, max(c.end_frame, end.get(c.video_id, -1))
    assert 0.1 < overlapping / len(ds) < 0.4  # co-occurring gestures (iMiGUE: 24% of consecutive clips overlap)
    lengths = np.array([c.num_frames for c in ds])
    assert lengths.min() < 10 and lengths.max() > 25  # short flicks to longer clips


@pytest.mark.parametrize("table", ["csv", "xlsx"])
def test_imigue_raw_layout(tmp_path, table):
    preset = MICRO if table == "csv" else NANO  # openpyxl is slow: fewer rows
    out = generate(tmp_path / "raw", preset=preset, seed=0, format="imigue-raw", raw_table=table,
                   video=table == "csv")  # fmt: skip
    plan = make_plan(preset, seed=0)
    subjects = list(csv.DictReader(open(out / "subjects.csv")))
    assert [r["video_id"] for r in subjects] == [v.video_id for v in plan.videos]
    meta = json.loads((out / "synth.json").read_text())
    assert meta["frame_size"] == [96, 54]
    listed = {}
    for split in ("train", "val", "test"):
        for line in (out / f"iMiGUE_{split}_clips_list.txt").read_text().splitlines():
            name, label = line.split()
            listed[name] = int(label)
    assert len(listed) == sum(preset.clips)
    for v in plan.videos:
        d = out / v.video_id
        rows = [tuple(map(int, r)) for r in csv.reader(open(d / f"{v.video_id}_label.csv"))]
        assert [r[0] for r in rows] == [99 if c == 31 else c + 1 for c in v.labels]
        assert all(listed[f"{v.video_id}_{k}.mp4"] == c for k, c in enumerate(v.labels))
        if table == "csv":
            table_rows = np.loadtxt(d / f"{v.video_id}_openpose.csv", delimiter=",", ndmin=2)
        else:
            from openpyxl import load_workbook

            ws = load_workbook(d / f"{v.video_id}_openpose.xlsx", read_only=True).active
            table_rows = np.array([list(r) for r in ws.iter_rows(values_only=True)], float)
        assert table_rows.shape[1] == 411
        assert rows[-1][2] < len(table_rows) and all(a <= b for _, a, b in rows)
        xy = table_rows.reshape(len(table_rows), 137, 3)
        seen = xy[..., 2] >= 0.05  # detected; near-zero guesses may lie past the edge (an OpenPose quirk)
        assert (xy[..., 0][seen] < 96).mean() > 0.99 and (xy[..., 1][seen] < 54).mean() > 0.99
        if table == "csv":
            assert probe_video(d / f"{v.video_id}.mp4")["num_frames"] == len(table_rows)
        else:
            assert not (d / f"{v.video_id}.mp4").exists()


def test_raw_layout_round_trips_through_the_importer(tmp_path):
    from microgesture.data.importers import import_imigue

    raw = generate(tmp_path / "raw", preset=MICRO, seed=2, format="imigue-raw")
    import_imigue(raw, tmp_path / "imported")
    direct = Dataset.open(generate(tmp_path / "direct", preset=MICRO, seed=2, video=False))
    imported = Dataset.open(tmp_path / "imported")
    assert imported.header.frame_size == MICRO.frame_size and len(imported) == len(direct)
    for c in direct:
        d = imported.clip(c.clip_id)
        assert (d.label, d.split, d.subject, d.start_frame, d.end_frame) == (c.label, c.split, c.subject,
                                                                             c.start_frame, c.end_frame)  # fmt: skip
        np.testing.assert_allclose(imported.skeleton(d), direct.skeleton(c), atol=0.006)  # CSV keeps 2-3 decimals


def test_xlsx_is_reproducible(tmp_path):
    a = generate(tmp_path / "a", preset=NANO, seed=1, format="imigue-raw", raw_table="xlsx", video=False)
    b = generate(tmp_path / "b", preset=NANO, seed=1, format="imigue-raw", raw_table="xlsx", video=False)
    files = sorted(str(f.relative_to(a)) for f in a.rglob("*") if f.is_file())
    assert files and not filecmp.cmpfiles(a, b, files, shallow=False)[1]


def test_cli_synth(tmp_path, capsys):
    from microgesture.cli import main

    with pytest.raises(SystemExit) as e:
        main(["data", "synth", str(tmp_path / "cli"), "--preset", "tiny", "--seed", "1", "--no-video"])
    assert e.value.code == 0
    ds = Dataset.open(tmp_path / "cli")
    assert len(ds) == sum(PRESETS["tiny"].clips) and not any(c.video_path for c in ds)
    with pytest.raises(SystemExit) as e:
        main(["data", "synth", str(tmp_path / "bad"), "--preset", "huge"])
    assert e.value.code == 2 and "huge" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["data", "synth", str(tmp_path / "cli"), "--preset", "tiny", "--no-video"])  # exists
    assert e.value.code == 2


def test_a_preset_rendered_larger_is_the_same_recordings_with_more_pixels(tmp_path):
    small = generate(tmp_path / "x1", preset=MICRO, seed=2, video=False)
    big = generate(tmp_path / "x2", preset=rendered_at(MICRO, (192, 108)), seed=2, video=True)
    a, b = np.load(small / "skeletons.npy"), np.load(big / "skeletons.npy")
    assert a.shape == b.shape
    seen_a, seen_b = a[..., 2] > 0, b[..., 2] > 0
    both = seen_a & seen_b
    # the camera scales with the frame: every point doubles, confidences stay; only a point within a pixel of the
    # frame's edge may fall in or out of it (the last pixel row is h - 1 at either size)
    np.testing.assert_array_equal(b[..., :2][both], 2 * a[..., :2][both])
    np.testing.assert_array_equal(b[..., 2][both], a[..., 2][both])
    differ = seen_a != seen_b
    xy = np.where(seen_b[..., None], b[..., :2], 0)[differ]
    assert differ.any() and ((xy[:, 0] > 190) | (xy[:, 1] > 106) | (xy.min(1) < 2)).all()
    ds = Dataset.open(big)
    assert ds.header.frame_size == (192, 108)
    info = probe_video(ds.video_file(ds.clips[0]))
    assert (info["width"], info["height"], info["num_frames"]) == (192, 108, ds.clips[0].num_frames)


@pytest.mark.parametrize("size, why", [((200, 108), "aspect ratio 16:9"), ((191, 107), "even"), ((32, 18), "at least"),
                                       ((192.0, 108), "width, height"), ("192x108", "width, height")])
def test_rendered_at_refuses_sizes_that_would_change_the_framing(size, why):
    with pytest.raises(ValueError, match=why):
        rendered_at(MICRO, size)
    with pytest.raises(ValueError, match="unknown preset"):
        rendered_at("huge", (640, 360))
    assert rendered_at("small", [640, 360]).frame_size == (640, 360) and PRESETS["small"].frame_size == (320, 180)


def test_cli_synth_frame_size(tmp_path, capsys):
    from microgesture.cli import main

    with pytest.raises(SystemExit) as e:
        main(["data", "synth", str(tmp_path / "big"), "--preset", "tiny", "--no-video", "--frame-size", "320x180"])
    assert e.value.code == 0
    assert Dataset.open(tmp_path / "big").header.frame_size == (320, 180)
    for bad in ("320x181", "wide"):
        with pytest.raises(SystemExit) as e:
            main(["data", "synth", str(tmp_path / "bad"), "--preset", "tiny", "--frame-size", bad])
        err = capsys.readouterr().err
        assert e.value.code == 2 and "frame" in err and "Traceback" not in err
    assert not (tmp_path / "bad").exists()


def test_no_point_outside_the_frame_has_confidence(tmp_path):
    """A pose estimator reports nothing outside the image: the checker rejects such points, so the generator must not
    write them (found by `microgesture data check` on the small preset)."""
    from microgesture.data.check import check_dataset
    from microgesture.data.format import Dataset
    from microgesture.data.synth import generate

    root = generate(tmp_path / "ds", preset="tiny", seed=3, video=False)
    ds = Dataset.open(root)
    s = ds.skeleton_store
    w, h = ds.header.frame_size
    seen = s[..., 2] > 0
    assert (s[..., 0][seen] >= 0).all() and (s[..., 1][seen] >= 0).all()
    assert (s[..., 0][seen] <= w - 1).all() and (s[..., 1][seen] <= h - 1).all()
    assert not [p for p in check_dataset(ds, videos=False) if p.severity == "error"]


@pytest.mark.parametrize("fmt", ["microgesture", "imigue-raw"])
def test_a_killed_runs_temporary_is_swept(tmp_path, fmt):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = tmp_path / f".out.tmp-{int(dead.stdout)}"  # what a killed `data synth` leaves (atomic.temp_sibling)
    (left / "videos").mkdir(parents=True)
    generate(tmp_path / "out", preset=NANO, seed=0, video=False, format=fmt)
    assert not left.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["out"]
