"""Importers on tiny raw folders written here: 3 videos of 20 frames, 2 clips each, a few keypoints filled."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from microgesture.data.format import Dataset, DatasetError
from microgesture.data.importers import (
    REPORT_FILE,
    RawDataError,
    import_imigue,
    import_list,
    read_openpose_json_dir,
    split_from_name,
)
from microgesture.data.video import probe_video, write_video

VIDS = ("0001", "0002", "0003")
SPLIT_OF = {"0001": "train", "0002": "val", "0003": "test"}
LABEL_ROWS = [(99, 0, 7), (5, 8, 15)]  # raw class, start, end -> labels 31 and 4
T = 20
SIDE = 48  # video frames are SIDE x SIDE pixels: every keypoint of table() lies inside (the sanitiser keeps it)


def table(vid: str, n: int = T) -> np.ndarray:
    """(n, 411) OpenPose rows: keypoints 0-4 move with the frame index, the rest are missing (zeros)."""
    a = np.zeros((n, 137, 3), np.float32)
    t = np.arange(n, dtype=np.float32)[:, None]
    a[:, :5, 0] = 10 + t + np.arange(5) + int(vid)
    a[:, :5, 1] = 20 + np.arange(5)
    a[:, :5, 2] = 0.9
    return a.reshape(n, 411)


def write_table(path: Path, rows: list[list]) -> None:
    if path.suffix == ".xlsx":
        import openpyxl

        wb = openpyxl.Workbook()
        for r in rows:
            wb.active.append(r)
        wb.save(path)
    else:
        path.write_text("".join(",".join(str(v) for v in r) + "\n" for r in rows))


def make_raw(root: Path, *, fmt: str = "csv", videos: bool = True, nested: bool = True, subjects: bool = True,
             vids: tuple[str, ...] = VIDS) -> Path:
    """The MiGA'25 raw layout (the synthetic generator's too): <vid>/<vid>_openpose.csv|xlsx, _label.csv, .mp4."""
    root.mkdir(parents=True, exist_ok=True)
    for vid in vids:
        d = root / vid if nested else root
        d.mkdir(exist_ok=True)
        write_table(d / f"{vid}_openpose.{fmt}", table(vid).tolist())
        (d / f"{vid}_label.csv").write_text("".join(f"{c},{s},{e}\n" for c, s, e in LABEL_ROWS))
        if videos:  # frame t is flat grey 10 * t, so a cut clip's first frame tells where it starts
            frames = np.repeat(np.arange(T, dtype=np.uint8)[:, None, None, None] * 10, SIDE, axis=1)
            write_video(d / f"{vid}.mp4", np.repeat(np.repeat(frames, SIDE, axis=2), 3, axis=3), fps=25)
    for split in ("train", "val", "test"):
        lines = [f"{v}_{k}.mp4 {31 if c == 99 else c - 1}\n" for v in vids if SPLIT_OF[v] == split
                 for k, (c, _, _) in enumerate(LABEL_ROWS)]
        (root / f"iMiGUE_{split}_clips_list.txt").write_text("".join(lines))
    if subjects:
        (root / "subjects.csv").write_text("video_id,subject\n" + "".join(f"{v},s{v}\n" for v in vids))
    return root


def test_import_nested_csv_with_videos(tmp_path):
    raw = make_raw(tmp_path / "raw")
    report = import_imigue(raw, tmp_path / "ds")
    ds = Dataset.open(tmp_path / "ds")
    assert len(ds) == 6 and report.clips_per_split == {"test": 2, "train": 2, "val": 2} and not report.skipped
    assert [c.label for c in ds.split("train")] == [31, 4]
    assert {c.split for c in ds if c.video_id == "0002"} == {"val"}
    assert {c.subject for c in ds} == {"s0001", "s0002", "s0003"} and ds.header.extra["subject_source"] == "file"
    assert ds.header.fps == 25 and ds.header.frame_size == (SIDE, SIDE) and ds.layout == "openpose137"
    c = ds.clip("0003_1")
    assert (c.start_frame, c.end_frame, c.num_frames, c.video_start) == (8, 15, 8, 0)
    np.testing.assert_array_equal(ds.skeleton(c), table("0003")[8:16].reshape(8, 137, 3))
    assert probe_video(ds.video_file(c))["num_frames"] == 8
    from microgesture.data.video import read_video

    first = read_video(ds.video_file(c), num_frames=1)[0].mean()
    assert abs(first - 80) < 6  # frame 8 of the source is grey 80
    assert json.loads((tmp_path / "ds" / REPORT_FILE).read_text())["skipped"] == []


def test_import_flat_xlsx_without_videos_or_subjects(tmp_path):
    raw = make_raw(tmp_path / "raw", fmt="xlsx", videos=False, nested=False, subjects=False, vids=("0001", "0002"))
    import_imigue(raw, tmp_path / "ds", fps=30, frame_size=(640, 360))
    ds = Dataset.open(tmp_path / "ds")
    assert len(ds) == 4 and all(c.subject == c.video_id and c.video_path == "" for c in ds)
    assert ds.header.extra["subject_source"] == "video_id" and ds.header.extra["videos"] == "none"
    assert ds.header.fps == 30 and ds.header.frame_size == (640, 360)
    np.testing.assert_allclose(ds.skeleton("0002_0"), table("0002")[:8].reshape(8, 137, 3))


def test_no_cut_clips_references_the_long_video(tmp_path):
    raw = make_raw(tmp_path / "raw", vids=("0001",))
    import_imigue(raw, tmp_path / "ds", cut_clips=False, splits=[raw / "iMiGUE_train_clips_list.txt"])
    ds = Dataset.open(tmp_path / "ds")
    c = ds.clip("0001_1")
    assert c.video_path == "videos/0001.mp4" and c.video_start == 8 and ds.video_file(c).is_file()
    assert not (tmp_path / "ds" / "videos" / "0001_1.mp4").exists()


def test_label_header_unknown_class_and_split_csv(tmp_path):
    raw = make_raw(tmp_path / "raw", videos=False, vids=("0001", "0002"))
    (raw / "0001" / "0001_label.csv").write_text("class,start,end\n,0,7\n3.0,8,15.0\n")  # pandas-style floats
    (raw / "0002" / "0002_label.csv").write_text("\ufeff99,0,7\n5,8,15\n", encoding="utf-8")  # Excel's BOM
    for f in raw.glob("*_list.txt"):
        f.unlink()
    (raw / "splits.csv").write_text("video_id,split\n0001,train\n0002,val\n")
    names = [[f"{j}_{c}" for j in range(137) for c in "xyc"]]  # a header row on the skeleton table is skipped
    write_table(raw / "0002" / "0002_openpose.csv", names + table("0002").tolist())
    import_imigue(raw, tmp_path / "ds", splits=[raw / "splits.csv"])
    ds = Dataset.open(tmp_path / "ds")
    np.testing.assert_allclose(ds.skeleton("0002_1"), table("0002")[8:16].reshape(8, 137, 3))
    assert ds.clip("0001_0").label == -1 and ds.clip("0001_1").label == 2  # header row not counted in k
    assert ds.clip("0002_1").split == "val" and ds.clip("0002_0").label == 31


def _json_frame(people: list[np.ndarray]) -> dict:
    def person(p):
        parts, i = {}, 0
        for key, n in (("pose_keypoints_2d", 25), ("face_keypoints_2d", 70), ("hand_left_keypoints_2d", 21),
                       ("hand_right_keypoints_2d", 21)):
            parts[key] = p[i : i + n].ravel().tolist()
            i += n
        return parts

    return {"version": 1.3, "people": [person(p) for p in people]}


def test_json_frames_no_person_and_several_people(tmp_path):
    raw = make_raw(tmp_path / "raw", videos=False, vids=("0001",))
    (raw / "0001" / "0001_openpose.csv").unlink()
    jd = raw / "0001"  # the <vid>/ folder of per-frame JSON files
    a = table("0001").reshape(T, 137, 3)
    small = a[5].copy()
    small[:5, :2] = [[1, 1], [2, 1], [1, 2], [2, 2], [1.5, 1.5]]
    for t in range(T):
        people = [] if t == 3 else ([small, a[t]] if t == 5 else [a[t]])
        (jd / f"0001_{t:012d}_keypoints.json").write_text(json.dumps(_json_frame(people)))
    skel, bad, counts = read_openpose_json_dir(jd)
    assert not bad and counts == {"multi_person": 1, "empty": 1, "missing": 0}
    assert np.all(skel[3] == 0)
    np.testing.assert_allclose(skel[5], a[5])  # the larger box wins
    report = import_imigue(raw, tmp_path / "ds")
    assert report.multi_person_frames == {"0001": 1} and report.empty_frames == {"0001": 1}
    np.testing.assert_allclose(Dataset.open(tmp_path / "ds").skeleton("0001_0")[3], 0)


def _set_row(path: Path, row: int, values: list) -> None:
    lines = path.read_text().splitlines()
    lines[row - 1] = ",".join(str(v) for v in values)
    path.write_text("\n".join(lines) + "\n")


def _cell_values(vid: str, t: int) -> list:
    return table(vid)[t].tolist()


def _negative(vals: list) -> list:
    vals[6] = -5.0  # keypoint 2, x; its confidence is 0.9
    return vals


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def _nan(vals: list) -> list:
    vals[0] = "nan"
    return vals


BAD_CASES = {
    # name: (mutation of the raw folder, bad clip, words the message must contain)
    "truncated_csv_row": (lambda r: _set_row(r / "0001/0001_openpose.csv", 5, _cell_values("0001", 4)[:300]),
                          "0001_0", ["0001_openpose.csv:row 5", "300 values"]),
    "nan": (lambda r: _set_row(r / "0001/0001_openpose.csv", 10, _nan(_cell_values("0001", 9))),
            "0001_1", ["0001_openpose.csv:row 10", "non-finite"]),
    "label_outside_classes": (lambda r: (r / "0002/0002_label.csv").write_text("40,0,7\n5,8,15\n"),
                              "0002_0", ["0002_label.csv:line 1", "class 40"]),
    "frames_beyond_skeleton": (lambda r: write_table(r / "0003/0003_openpose.csv", table("0003", 14).tolist()),
                               "0003_1", ["0003_label.csv:line 2", "exceed the 14 frames", "0003_openpose.csv"]),
    "missing_video": (lambda r: (r / "0002/0002.mp4").unlink(), "0002_0", ["0002_label.csv", "0002.mp4 is missing"]),
    "clip_in_no_list": (lambda r: (r / "iMiGUE_test_clips_list.txt").write_text("0003_0.mp4 31\n"),
                        "0003_1", ["0003_label.csv:line 2", "no split list"]),
    "listed_clip_absent": (lambda r: _append(r / "iMiGUE_val_clips_list.txt", "0009_0.mp4 3\n"),
                           "0009_0", ["iMiGUE_val_clips_list.txt:line 3", "no label row"]),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_stops_or_is_skipped(tmp_path, case):
    mutate, clip_id, words = BAD_CASES[case]
    raw = make_raw(tmp_path / "raw")
    mutate(raw)
    with pytest.raises(RawDataError) as e:
        import_imigue(raw, tmp_path / "ds")
    assert all(w in str(e.value) for w in words), str(e.value)
    assert not (tmp_path / "ds").exists() and not list(tmp_path.glob(".ds*"))  # nothing written
    report = import_imigue(raw, tmp_path / "ds", skip_bad=True)
    ds = Dataset.open(tmp_path / "ds")
    assert clip_id not in ds and len(ds) == 6 - (clip_id != "0009_0") - (case == "missing_video")
    skipped = json.loads((tmp_path / "ds" / REPORT_FILE).read_text())["skipped"]
    assert clip_id in [s["clip_id"] for s in skipped] and all(w in report.summary() for w in words[:1])


def test_truncated_xlsx_row_is_named(tmp_path):
    raw = make_raw(tmp_path / "raw", fmt="xlsx", videos=False, vids=("0001",))
    rows = table("0001").tolist()
    rows[11] = rows[11][:200]
    write_table(raw / "0001" / "0001_openpose.xlsx", rows)
    with pytest.raises(RawDataError, match=r"0001_openpose.xlsx:row 12: 200 values, expected 411"):
        import_imigue(raw, tmp_path / "ds")


def test_existing_output_and_missing_lists(tmp_path):
    raw = make_raw(tmp_path / "raw", videos=False, vids=("0001",))
    (tmp_path / "ds").mkdir()
    with pytest.raises(FileExistsError):
        import_imigue(raw, tmp_path / "ds")
    for f in raw.glob("*_list.txt"):
        f.unlink()
    with pytest.raises(RawDataError, match="no split lists"):
        import_imigue(raw, tmp_path / "ds2")


def test_split_from_name():
    assert split_from_name("iMiGUE_train_clips_list.txt") == "train"
    assert split_from_name("ma52-validation.list.txt") == "val"
    assert split_from_name("clips_list.txt") is None and split_from_name("train_test_list.txt") is None


def _list_raw(tmp_path: Path) -> tuple[Path, Path]:
    vd = tmp_path / "videos"
    frames = np.zeros((6, 8, 8, 3), np.uint8)
    for i, name in enumerate(("train/0003_01_0001.mp4", "train/0003_01_0002.mp4", "val/0007_02_0001.mp4")):
        write_video(vd / name, frames[: 4 + i], fps=30)
    (tmp_path / "classes.txt").write_text("shrug\nnod\n\nwave\n")
    (tmp_path / "train.txt").write_text("0003_01_0001.mp4 0\n0003_01_0002.mp4 2\n")
    (tmp_path / "val.txt").write_text("0007_02_0001.mp4 1\n")
    return vd, tmp_path / "classes.txt"


def test_import_list_makes_an_rgb_only_dataset(tmp_path):
    vd, classes = _list_raw(tmp_path)
    lists = [(tmp_path / "train.txt", "train"), (tmp_path / "val.txt", "val")]
    import_list(lists, vd, tmp_path / "ds", classes_file=classes)
    ds = Dataset.open(tmp_path / "ds")
    assert ds.classes == ("shrug", "nod", "wave") and not ds.has_skeletons and ds.skeleton_store.shape == (0, 137, 3)
    assert [(c.clip_id, c.subject, c.split, c.label, c.num_frames) for c in ds] == [
        ("0003_01_0001", "0003", "train", 0, 4), ("0003_01_0002", "0003", "train", 2, 5),
        ("0007_02_0001", "0007", "val", 1, 6)]
    assert ds.header.fps == 30 and ds.header.extra["skeletons"] is False
    assert probe_video(ds.video_file("0007_02_0001"))["num_frames"] == 6
    with pytest.raises(DatasetError, match="no skeletons"):
        ds.skeleton("0003_01_0001")


def test_import_list_bad_label_and_missing_video(tmp_path):
    vd, classes = _list_raw(tmp_path)
    (tmp_path / "val.txt").write_text("0007_02_0001.mp4 3\n0009_01_0001.mp4 1\n")
    lists = [(tmp_path / "train.txt", "train"), (tmp_path / "val.txt", "val")]
    with pytest.raises(RawDataError) as e:
        import_list(lists, vd, tmp_path / "ds", classes_file=classes)
    assert "val.txt:line 1" in str(e.value) and "label in -1..2" in str(e.value)
    assert "val.txt:line 2" in str(e.value) and "0009_01_0001.mp4 not found" in str(e.value)
    assert not (tmp_path / "ds").exists()
    report = import_list(lists, vd, tmp_path / "ds", classes_file=classes, skip_bad=True)
    assert len(Dataset.open(tmp_path / "ds")) == 2 and len(report.skipped) == 2


def test_clip_cutter_streams_and_leaves_nothing_of_a_clip_the_video_ends_inside(tmp_path):
    """The cutter writes overlapping clips frame by frame; a clip past the video's end is reported with the file and
    the frame, and neither its file nor a temporary is left behind."""
    from types import SimpleNamespace

    from microgesture.data.format import Clip
    from microgesture.data.importers import _cut_clips
    from microgesture.data.video import read_video

    src = tmp_path / "long.mp4"
    frames = np.repeat(np.arange(12, dtype=np.uint8)[:, None, None, None] * 20, 16, axis=1)
    write_video(src, np.repeat(np.repeat(frames, 16, axis=2), 3, axis=3), fps=25)
    out = tmp_path / "out"
    w = SimpleNamespace(path_for=lambda rel: (out / rel).parent.mkdir(parents=True, exist_ok=True) or out / rel)

    def clip(cid, s, e):
        return Clip(clip_id=cid, video_id="v", subject="s", split="train", label=0, start_frame=s, end_frame=e,
                    num_frames=e - s + 1, video_path=f"videos/{cid}.mp4")

    bad = _cut_clips(src, [clip("a", 2, 6), clip("b", 4, 9), clip("c", 8, 15)], w, 25.0)
    assert set(bad) == {"c"} and str(src) in bad["c"] and "before frame 15 of clip c" in bad["c"]
    assert sorted(p.name for p in (out / "videos").iterdir()) == ["a.mp4", "b.mp4"]  # no c, no temporary
    assert probe_video(out / "videos/a.mp4")["num_frames"] == 5 and probe_video(out / "videos/b.mp4")["num_frames"] == 6
    assert abs(read_video(out / "videos/b.mp4", num_frames=1)[0].mean() - 80) < 6  # b starts at frame 4 (grey 80)
