"""The dataset checker on tiny datasets written here, each broken in one way."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from test_importers import make_raw

from microgesture.data.check import check_dataset, has_errors
from microgesture.data.format import Clip, Dataset, DatasetHeader, DatasetWriter, rewrite_clips
from microgesture.data.importers import import_imigue
from microgesture.data.video import write_video

SPEC = [("v1_0", "v1", "s1", "train", 0), ("v1_1", "v1", "s1", "train", 1), ("v2_0", "v2", "s2", "val", 2),
        ("v3_0", "v3", "s3", "test", -1)]


def build(root, *, videos: bool = False, subject_source: str = "file", skeletons: bool = True, pseudo: bool = False):
    header = DatasetHeader(name="t", layout="openpose137", classes=("a", "b", "c"), fps=25.0, frame_size=(16, 16),
                           extra={"subject_source": subject_source, "skeletons": skeletons})
    with DatasetWriter(root, header) as w:
        for cid, vid, subject, split, label in SPEC + ([("v3_0@pseudo", "v3", "s3", "train", 2)] if pseudo else []):
            vp = f"videos/{cid}.mp4" if videos or not skeletons else ""
            if vp:
                write_video(w.path_for(vp), np.full((5, 16, 16, 3), 100, np.uint8))
            clip = Clip(clip_id=cid, video_id=vid, subject=subject, split=split, label=label, start_frame=10,
                        end_frame=14, num_frames=5, video_path=vp, pseudo=int(cid.endswith("@pseudo")))
            s = np.zeros((5, 137, 3), np.float32)
            s[:, :3] = [5.0, 6.0, 0.9]
            w.add(clip, s if skeletons else None)
    return Dataset.open(root)


def edit(ds: Dataset, clip_id: str, **kw) -> None:
    ds = Dataset.open(ds.root)  # the table as edited so far
    rewrite_clips(ds, [replace(c, **kw) if c.clip_id == clip_id else c for c in ds.clips])


def errors(problems):
    return [str(p) for p in problems if p.severity == "error"]


def test_clean_dataset_has_no_problems(tmp_path):
    ds = build(tmp_path / "ds", videos=True)
    assert check_dataset(tmp_path / "ds") == [] and check_dataset(ds) == []


def test_labels_and_frame_counts(tmp_path):
    ds = build(tmp_path / "ds")
    edit(ds, "v1_0", label=3)
    edit(ds, "v2_0", end_frame=20)
    edit(ds, "v1_1", label=-1)
    probs = check_dataset(tmp_path / "ds")
    errs = errors(probs)
    assert any("clip v1_0: label 3 is outside -1..2" in e for e in errs)
    assert any("clip v2_0: frames 10..20 do not hold num_frames 5" in e for e in errs)
    warn = [str(p) for p in probs if p.severity == "warning"]
    assert len(errs) == 2 and any("1 train clip(s) have label -1" in w and "v1_1" in w for w in warn)


def test_duplicate_ids(tmp_path):
    build(tmp_path / "ds")
    cp = tmp_path / "ds" / "clips.csv"
    lines = cp.read_text().splitlines()
    cp.write_text("\n".join(lines + [lines[1]]) + "\n")
    assert any("clip v1_0: clip id appears 2 times" in e for e in errors(check_dataset(tmp_path / "ds")))


def test_nonfinite_and_negative_skeleton_values(tmp_path):
    build(tmp_path / "ds")
    store = np.load(tmp_path / "ds" / "skeletons.npy", mmap_mode="r+")
    store[7, 2, 0] = np.nan  # clip v1_1 (rows 5..9), its frame 2
    store[11, 1, 1] = -3.0  # clip v2_0 (rows 10..14), frame 1, confidence 0.9
    store[16, 0, 0] = -3.0  # clip v3_0, but joint 0 here has confidence 0: allowed
    store[16, 0, 2] = 0.0
    store[2, 1, 2] = -7.4e-05  # clip v1_0: the tiny negative confidence of real OpenPose output (issue 14)
    store.flush()
    del store
    probs = check_dataset(tmp_path / "ds", videos=False)
    errs = errors(probs)
    assert len(errs) == 1 and "clip v1_1: non-finite value at frame 2 (store row 7), joint 2" in errs[0]
    warns = [str(p) for p in probs if p.severity == "warning"]
    assert len(warns) == 1 and "clip v1_0: 2 clip(s) have a negative coordinate" in warns[0], warns
    assert "frame 2 (store row 2), joint 1" in warns[0]


def test_store_ranges(tmp_path):
    ds = build(tmp_path / "ds")
    edit(ds, "v2_0", skel_offset=8)
    edit(ds, "v3_0", skel_offset=18)
    errs = errors(check_dataset(tmp_path / "ds"))
    assert any("clip v2_0: rows 8...12 overlap clip v1_1" in e for e in errs)
    assert any("clip v3_0: rows 18...22 are outside the store of 20 frames" in e for e in errs)


def test_videos_missing_and_short(tmp_path):
    ds = build(tmp_path / "ds", videos=True)
    (tmp_path / "ds" / "videos" / "v2_0.mp4").unlink()
    edit(ds, "v1_0", video_start=3)
    errs = errors(check_dataset(tmp_path / "ds"))
    assert any("v2_0.mp4: clip v2_0: video_path file not found" in e for e in errs)
    assert any("v1_0.mp4: clip v1_0: has 5 frames; the clip needs frames 3..7" in e for e in errs)
    assert len(errors(check_dataset(tmp_path / "ds", videos=False))) == 1  # existence only, no probe


def test_subject_leak_and_pseudo_rows(tmp_path):
    ds = build(tmp_path / "ds")
    edit(ds, "v3_0", subject="s1")
    errs = errors(check_dataset(tmp_path / "ds"))
    assert errs == [f"error: {tmp_path / 'ds' / 'clips.csv'}: subject 's1' is in both train (2 clips, e.g. v1_0) "
                    "and test (1 clips, e.g. v3_0)"]
    build(tmp_path / "ds2", pseudo=True)  # a copy of test clip v3_0 (subject s3) in train, as pseudo.py writes
    probs = check_dataset(tmp_path / "ds2")
    assert not has_errors(probs) and any("1 pseudo-labelled rows" in str(p) for p in probs)


def test_subjects_that_are_video_ids_give_a_warning(tmp_path):
    build(tmp_path / "ds", subject_source="video_id")
    probs = check_dataset(tmp_path / "ds")
    assert [p.severity for p in probs] == ["warning"] and "only video ids" in probs[0].message


def test_header_problems_are_listed_together(tmp_path):
    build(tmp_path / "ds")
    hp = tmp_path / "ds" / "dataset.json"
    d = json.loads(hp.read_text())
    hp.write_text(json.dumps({**d, "version": 2, "layout": "nope", "fps": 0}))
    errs = errors(check_dataset(tmp_path / "ds"))
    assert len(errs) == 3 and all("dataset.json" in e for e in errs)
    assert any("version 2" in e for e in errs) and any("unknown layout" in e for e in errs)
    assert errors(check_dataset(tmp_path / "none")) == [f"error: {tmp_path / 'none' / 'dataset.json'}: not found; "
                                                         f"is {tmp_path / 'none'} a microgesture dataset directory?"]


def test_rgb_only_dataset(tmp_path):
    ds = build(tmp_path / "ds", skeletons=False)
    assert check_dataset(tmp_path / "ds") == []
    edit(ds, "v1_0", video_path="")
    assert errors(check_dataset(tmp_path / "ds")) == [
        f"error: {tmp_path / 'ds' / 'clips.csv'}: clip v1_0: RGB-only dataset but no video_path"]


@pytest.mark.parametrize("cut_clips", [True, False])
def test_imported_dataset_passes(tmp_path, cut_clips):
    raw = make_raw(tmp_path / "raw", vids=("0001", "0002"))
    import_imigue(raw, tmp_path / "ds", cut_clips=cut_clips, splits=[raw / "iMiGUE_train_clips_list.txt",
                                                                      raw / "iMiGUE_val_clips_list.txt"])
    assert check_dataset(tmp_path / "ds") == []
