"""The original iMiGUE release layout and the quirks of real OpenPose output (issue 14), on fixtures_real.py folders."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from fixtures_real import (
    NO_DATA,
    NOBODY_FRAME,
    QUIRK_VIDEO,
    SUBJECTS,
    TWO_PEOPLE_FRAME,
    T,
    frame_file,
    make_release,
    reporter_pose,
    subject_pose,
)

from microgesture.data.check import check_dataset, has_errors
from microgesture.data.format import Dataset
from microgesture.data.importers import REPORT_FILE, RawDataError, import_imigue
from microgesture.data.sanitise import SanitiseCounts, SanitisePolicy, sanitise, track_subject
from microgesture.data.splits import parse_split, subject_split

SPLIT = "subject:0.5,0.25,0.25"


def _import(tmp_path, **kw):
    raw = kw.pop("raw", None) or make_release(tmp_path / "raw")
    return raw, import_imigue(raw, tmp_path / "ds", split=kw.pop("split", SPLIT), **kw)


def test_release_layout_imports_with_subjects_and_metadata(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="microgesture.data.importers"):
        raw, report = _import(tmp_path)
    assert "layout: original iMiGUE release (labels CSV: labels_20200831.csv; Label/raw: 7 files" in caplog.text
    ds = Dataset.open(tmp_path / "ds")
    assert len(ds) == 3 * 3 + 3 * 2 and report.videos_without_data == [NO_DATA]
    c = ds.clip("371_1")  # label_id 2 -> k 1; raw class 99 -> 31
    assert (c.label, c.start_frame, c.end_frame, c.subject) == (31, 10, 21, "1")
    assert c.extra == {"subject_gender": "F", "subject_nationality": "United States", "win_or_lose": "Win"}
    assert ds.clip("372_0").label == 19 and ds.header.extra["subject_source"] == "labels_csv"
    assert ds.header.extra["layout"] == "release" and ds.header.frame_size == (1280, 720)
    assert {len({x.split for x in ds if x.video_id == v}) for v in SUBJECTS} == {1}  # a video's clips stay together
    on_disk = json.loads((tmp_path / "ds" / REPORT_FILE).read_text())
    assert on_disk["videos_without_data"] == [NO_DATA] and "1 labelled videos have no skeleton" in report.summary()
    assert check_dataset(tmp_path / "ds") == []  # sanitised: not even a warning


def test_sanitise_counts_every_quirk(tmp_path):
    _, report = _import(tmp_path)
    q = report.sanitise_per_video[QUIRK_VIDEO]
    assert q == {"frames": T, "confidence_clamped": 2, "low_confidence": 2, "outside_frame": 1,
                 "multi_person_frames": 1, "nobody_frames": 1, "missing_frames": 1}
    clean = report.sanitise_per_video["372"]
    assert clean["frames"] == T and SanitiseCounts(**clean).changed() == 0
    ds = Dataset.open(tmp_path / "ds")
    assert ds.header.extra["sanitise"]["counts"]["confidence_clamped"] == 2
    assert ds.header.extra["sanitise"]["policy"] == {"min_confidence": 0.05, "drop_outside_frame": True}
    s = ds.skeleton("371_0")  # frames 2..13
    np.testing.assert_array_equal(s[5 - 2, 48], 0)  # the negative-confidence face point: missing
    np.testing.assert_array_equal(s[6 - 2, 6], 0)  # (-19.5, 652.6) at 0.02: missing
    np.testing.assert_array_equal(s[NOBODY_FRAME - 2], 0)
    np.testing.assert_allclose(s[TWO_PEOPLE_FRAME - 2, :8, :2], subject_pose("371", TWO_PEOPLE_FRAME)[:8, :2])
    assert s[12 - 2, 1, 2] == 1.0 and s[11 - 2, 4].tolist() == [0, 0, 0]
    assert (s[..., 2] >= 0).all() and (s[..., 2] <= 1).all() and (s[..., 0] < 1280).all()


def test_subject_is_tracked_not_the_largest_box():
    subj = [subject_pose("371", t) for t in range(6)]
    people = {t: [subj[t]] for t in range(6)}
    people[3] = [reporter_pose(3), subj[3]]  # the reporter's box is larger
    people[4] = [subj[4], reporter_pose(4)]
    out, multi = track_subject(people, 6, 137)
    assert multi == 2
    np.testing.assert_array_equal(out[3], subj[3])
    np.testing.assert_array_equal(out[4], subj[4])
    alone, _ = track_subject({0: [reporter_pose(0), subj[0]]}, 1, 137)  # nobody seen alone: largest box
    np.testing.assert_array_equal(alone[0], reporter_pose(0))


def test_sanitise_policy_unit():
    a = np.array([[[10, 10, -1e-4], [5, 5, 0.5], [-3, 4, 0.9], [100, 5, 0.9], [1, 1, 1.5], [0, 0, 0]]], np.float32)
    c = SanitiseCounts()
    sanitise(a, (50, 50), SanitisePolicy(min_confidence=0.1), c)
    assert (c.confidence_clamped, c.low_confidence, c.outside_frame) == (2, 1, 2)
    assert a[0, :, 2].tolist() == [0, 0.5, 0, 0, 1.0, 0] and (a[0, [0, 2, 3, 5]] == 0).all()
    with pytest.raises(ValueError, match="min_confidence"):
        SanitisePolicy(min_confidence=1.5)


def test_txt_labels_only_seconds_to_frames(tmp_path):
    raw = make_release(tmp_path / "raw", csv=False)
    _, report = _import(tmp_path, raw=raw)
    ds = Dataset.open(tmp_path / "ds")
    assert ds.clip("373_2").start_frame == 24 and ds.clip("373_2").end_frame == 37  # round(seconds * 25)
    assert ds.header.extra["subject_source"] == "video_id" and ds.clip("373_2").subject == "373"
    assert not has_errors(check_dataset(tmp_path / "ds"))


def test_csv_and_txt_must_agree(tmp_path):
    raw = make_release(tmp_path / "raw")
    txt = raw / "Label" / "raw" / "372.txt"
    lines = txt.read_text().splitlines()
    lines[1] = "0.5153\t0.8553\t99"  # 13..21 while the CSV says 10..21: 3 frames apart
    txt.write_text("\n".join(lines) + "\n")
    with pytest.raises(RawDataError) as e:
        import_imigue(raw, tmp_path / "ds", split=SPLIT)
    msg = str(e.value)
    assert "\n" not in msg and f"{txt}:line 2" in msg and "labels_20200831.csv:line" in msg and "2 frames" in msg
    assert not (tmp_path / "ds").exists() and not list(tmp_path.glob(".ds*"))
    report = import_imigue(raw, tmp_path / "ds", split=SPLIT, skip_bad=True)
    assert "372" not in {c.video_id for c in Dataset.open(tmp_path / "ds")} and report.skipped[0].clip_id == "372_*"


def _rewrite_csv(raw, line_no, fn):
    p = raw / "Label" / "labels_20200831.csv"
    lines = p.read_text().splitlines()
    lines[line_no - 1] = fn(lines[line_no - 1])
    p.write_text("\n".join(lines) + "\n")
    return p


BAD = {
    # case: (mutation, the video left out under --skip-bad, words of the one-line message)
    "row_does_not_parse": (lambda r: _rewrite_csv(r, 2, lambda s: s.replace(",2,", ",two,", 1)),
                           "371", ["labels_20200831.csv:line 2", "integer label_id"]),
    "class_out_of_range": (lambda r: _rewrite_csv(r, 5, lambda s: s.replace(",20,2,", ",40,2,")),
                           "372", ["labels_20200831.csv:line 5", "class 40"]),
    "json_not_json": (lambda r: frame_file(r, "373", 3).write_text("{not json"),
                      "373", ["373_000000000003_keypoints.json", "not an OpenPose JSON frame"]),
    "frame_numbers_collide": (lambda r: frame_file(r, "374", 3).with_name("374_3_keypoints.json").write_text("{}"),
                              "374", ["374_3_keypoints.json", "collides with 374_000000000003_keypoints.json"]),
    "subject_conflict": (lambda r: _rewrite_csv(r, 13, lambda s: s.replace(",5,F,", ",9,F,")),
                         "375", ["labels_20200831.csv:line 13", "subject_id 9 for video 375 conflicts"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_or_skipped(tmp_path, case):
    mutate, vid, words = BAD[case]
    raw = make_release(tmp_path / "raw", txt=False)
    mutate(raw)
    with pytest.raises(RawDataError) as e:
        import_imigue(raw, tmp_path / "ds", split=SPLIT)
    assert "\n" not in str(e.value) and all(w in str(e.value) for w in words), str(e.value)
    assert not (tmp_path / "ds").exists() and not list(tmp_path.glob(".ds*"))
    report = import_imigue(raw, tmp_path / "ds", split=SPLIT, skip_bad=True)
    ds = Dataset.open(tmp_path / "ds")
    assert report.skipped and all(s.clip_id.startswith(f"{vid}_") for s in report.skipped)
    assert {c.video_id for c in ds} >= set(SUBJECTS) - {vid} and not has_errors(check_dataset(ds))


def test_subject_split_is_reproducible_disjoint_and_balanced():
    rng = np.random.default_rng(0)
    labels = {f"s{i}": rng.choice(5, size=int(rng.integers(5, 60)), p=[0.4, 0.3, 0.15, 0.1, 0.05]).tolist()
              for i in range(40)}
    spec = parse_split("subject:0.7,0.05,0.25", seed=3)
    a, b = subject_split(labels, 5, spec), subject_split(labels, 5, spec)
    assert a.of_subject == b.of_subject and set(a.of_subject) == set(labels)
    n = sum(a.clips.values())
    assert abs(a.clips["train"] / n - 0.7) < 0.05 and a.clips["val"] > 0 and abs(a.clips["test"] / n - 0.25) < 0.05
    assert a.max_class_share_diff < 0.1
    with pytest.raises(ValueError, match="subject:TRAIN,VAL,TEST"):
        parse_split("video:0.5,0.5,0")


def test_split_recorded_and_seeded(tmp_path):
    _, report = _import(tmp_path, seed=1)
    ds = Dataset.open(tmp_path / "ds")
    sp = ds.header.extra["split"]
    assert sp["method"] == "subject" and sp["seed"] == 1 and sp == report.split and "max_class_share_diff" in sp
    assert sum(sp["clips"].values()) == len(ds)
    with pytest.raises(RawDataError, match="--split subject:0.7,0.05,0.25"):
        import_imigue(make_release(tmp_path / "raw2"), tmp_path / "ds2")


def test_miga_lists_are_used_with_the_release_layout(tmp_path):
    raw = make_release(tmp_path / "raw", vids=("371", "372"))
    (raw / "iMiGUE_train_clips_list.txt").write_text("371_0.mp4 19\n371_1.mp4 31\n371_2.mp4 30\n")
    (raw / "iMiGUE_test_clips_list.txt").write_text("372_0.mp4 19\n372_1.mp4 31\n")
    report = import_imigue(raw, tmp_path / "ds")
    assert report.clips_per_split == {"test": 2, "train": 3} and report.split["method"] == "lists"


def test_original_layout_imports_checks_and_trains_a_step(tmp_path):
    pytest.importorskip("torch")
    try:
        from microgesture.train import fit, resolve_config
    except ImportError:  # the train module moved into a package
        from microgesture.train.fit import fit, resolve_config  # type: ignore[no-redef]
    from microgesture.config import merge

    _import(tmp_path, split="subject:0.5,0.17,0.33")
    assert not has_errors(check_dataset(tmp_path / "ds"))
    cfg = resolve_config(branch="joint-dstcnn", dataset=str(tmp_path / "ds"), overrides=merge(
        {"model": {"channels": [8, 16], "temporal_strides": [1, 2]},
         "input": {"clip_len": 8, "num_test_clips": 1, "layout": "mmg36"},
         "train": {"epochs": 1, "batch_size": 4}},
        {"train": {"limit_train_batches": 1, "predict_train": False}}))
    m = fit(cfg, out=tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "model.ckpt").exists() and np.isfinite(m["test"]["top1"])
