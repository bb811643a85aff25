"""Import speed on the original iMiGUE release layout: frames/s of JSON parsing and of the whole import.

Writes a release folder (Label/labels_*.csv, Data/skeleton/raw/<vid>/<vid>_<frame>_keypoints.json, OpenPose 1.3 with
face and hands, one person per frame, a second person in 1 frame of 1000) of ``--videos`` x ``--frames`` in a
temporary directory, then times (1) reading the JSON folders (``read_openpose_json_dir``, parse + subject tracking)
and (2) ``import_imigue`` end to end (scan, parse, sanitise, write the dataset). The files were just written, so they
are in the page cache; a cold disk adds its read time. Real iMiGUE: 359 videos, ~21,000 frames for one of them.

    .venv/bin/python bench/bench_import_release.py [--videos 4] [--frames 2000]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from microgesture.data.importers import import_imigue
from microgesture.data.openpose import read_openpose_json_dir


def person(rng: np.random.Generator) -> dict:
    def part(n: int) -> list[float]:
        a = np.column_stack([rng.uniform(300, 1000, n), rng.uniform(50, 700, n), rng.uniform(0.1, 0.9, n)])
        return [round(float(v), 3) for v in a.ravel()]

    return {"person_id": [-1], "pose_keypoints_2d": part(25), "face_keypoints_2d": part(70),
            "hand_left_keypoints_2d": part(21), "hand_right_keypoints_2d": part(21), "pose_keypoints_3d": [],
            "face_keypoints_3d": [], "hand_left_keypoints_3d": [], "hand_right_keypoints_3d": []}


def build(root: Path, videos: int, frames: int) -> None:
    rng = np.random.default_rng(0)
    lines = ["video_id,label_id,start_time,start_frame,end_time,end_frame,class,subject_id,subject_gender,"
             "subject_nationality,win_or_lose"]
    for v in range(videos):
        vid = str(100 + v)
        d = root / "Data" / "skeleton" / "raw" / vid
        d.mkdir(parents=True)
        for t in range(frames):
            people = [person(rng)] + ([person(rng)] if t % 1000 == 7 else [])
            (d / f"{vid}_{t:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": people}))
        for k, s in enumerate(range(0, frames - 60, 50)):
            lines.append(f"{vid},{k + 1},{s / 25:.4f},{s},{(s + 40) / 25:.4f},{s + 40},{k % 31 + 1},{v + 1},F,X,Win")
    (root / "Label").mkdir()
    (root / "Label" / "labels_20200831.csv").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=4)
    ap.add_argument("--frames", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        build(raw, args.videos, args.frames)
        n = args.videos * args.frames
        t0 = time.perf_counter()
        for d in sorted((raw / "Data" / "skeleton" / "raw").iterdir()):
            read_openpose_json_dir(d)
        parse = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = import_imigue(raw, Path(tmp) / "ds", split="subject:0.5,0.25,0.25")
        total = time.perf_counter() - t0
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    clips = sum(report.clips_per_split.values())
    print(f"{args.videos} videos x {args.frames} frames = {n} JSON frames, {clips} clips")
    print(f"JSON parsing + subject tracking: {parse:.2f} s = {n / parse:,.0f} frames/s")
    print(f"whole import (scan, parse, sanitise, write): {total:.2f} s = {n / total:,.0f} frames/s")


if __name__ == "__main__":
    main()
