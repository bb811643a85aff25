"""Would shorter keyframe intervals make the demo's RGB branch cheaper? Decode time of a training sample against disk.

The demo's `rgb` stage is bound by decoding: a training sample keeps 4 frames of its clip, but the clip files have one
keyframe, so ``read_frames`` decodes every frame up to the last sampled one. This re-encodes a dataset's first clip
videos (H.264 crf 23, veryfast, as ``write_video``) with a keyframe every k frames and times ``read_frames`` of 4
uniformly sampled frames (the demo's ``clip_len``) per clip, seeking when the next wanted frame is more than k frames on
(``seek_gap=k``), against the files as they are. Reports milliseconds per clip (best of 3 passes) and bytes.

    .venv/bin/python bench/bench_keyframes.py [--dataset runs/study_seeds/data/dataset] [--clips 150] [--keyints 1 4 8]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from microgesture.data.format import Dataset
from microgesture.data.video import read_frames, read_video
from microgesture.inputs.skeleton import uniform_indices


def encode(frames: np.ndarray, path: Path, keyint: int) -> None:
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        params = f"keyint={keyint}:min-keyint={keyint}:scenecut=0"
        s.options = {"crf": "23", "preset": "veryfast", "x264-params": params}
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)


def per_clip_ms(paths: dict[str, Path], idx: dict[str, np.ndarray], seek_gap: int, reps: int = 3) -> float:
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        for cid, p in paths.items():
            read_frames(p, idx[cid], seek_gap=seek_gap)
        best = min(best, time.perf_counter() - t)
    return 1000 * best / len(paths)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="runs/study_seeds/data/dataset", help="a dataset with clip videos")
    ap.add_argument("--clips", type=int, default=150, help="first N train clips")
    ap.add_argument("--keyints", type=int, nargs="+", default=[1, 4, 8])
    ap.add_argument("--clip-len", type=int, default=4, help="frames sampled per clip (the demo's rgb: 4)")
    args = ap.parse_args()
    ds = Dataset.open(args.dataset)
    clips = [c for c in ds.split("train") if c.video_path][: args.clips]
    orig = {c.clip_id: ds.root / c.video_path for c in clips}
    rng = np.random.default_rng(0)
    frames = {cid: read_video(p) for cid, p in orig.items()}
    idx = {cid: uniform_indices(len(f), args.clip_len, rng) for cid, f in frames.items()}
    cpu = platform.processor() or platform.machine()
    print(f"{len(clips)} clips of {args.dataset}, {args.clip_len} frames each; {cpu}, {os.cpu_count()} cores")
    print("| files | bytes | ms per clip |\n|---|---:|---:|")
    print(f"| as generated (one keyframe) | {sum(os.path.getsize(p) for p in orig.values()):,} | "
          f"{per_clip_ms(orig, idx, 96):.2f} |")
    with tempfile.TemporaryDirectory() as tmp:
        for k in args.keyints:
            paths = {cid: Path(tmp) / f"{cid}_k{k}.mp4" for cid in orig}
            for cid, p in paths.items():
                encode(frames[cid], p, k)
            size = sum(os.path.getsize(p) for p in paths.values())
            print(f"| keyframe every {k} frame(s), seek_gap {k} | {size:,} | {per_clip_ms(paths, idx, k):.2f} |")


if __name__ == "__main__":
    main()
