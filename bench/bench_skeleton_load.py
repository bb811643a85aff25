"""Time to load one clip's skeleton with Dataset.skeleton (memory-mapped store), median and p99 over random clips.

Builds a dataset of ~2,000 openpose137 clips of 30-300 frames (about 0.5 GB) in a temporary directory; opening the
dataset is not timed. The store was just written, so it is in the page cache (the usual state during training, when
the same clips are read every epoch); a cold disk read is slower. Target: < 1 ms per clip.

    .venv/bin/python bench/bench_skeleton_load.py [--clips 2000] [--draws 5000]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from microgesture.data.format import Clip, Dataset, DatasetHeader, DatasetWriter


def build(root: Path, clips: int, lo: int, hi: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    header = DatasetHeader(name="bench", layout="openpose137", classes=tuple(f"c{i}" for i in range(32)))
    frames = 0
    with DatasetWriter(root, header) as w:
        for i in range(clips):
            t = int(rng.integers(lo, hi + 1))
            s = rng.random((t, 137, 3), dtype=np.float32) * np.float32(720)
            w.add(Clip(clip_id=f"c{i}", video_id=f"v{i // 50}", subject=f"s{i // 50}", split="train",
                       label=i % 32, start_frame=0, end_frame=t - 1, num_frames=t), s)
            frames += t
    return frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=2000)
    ap.add_argument("--min-frames", type=int, default=30)
    ap.add_argument("--max-frames", type=int, default=300)
    ap.add_argument("--draws", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="microgesture-bench-") as tmp:
        root = Path(tmp) / "ds"
        t0 = time.perf_counter()
        frames = build(root, args.clips, args.min_frames, args.max_frames, args.seed)
        size = (root / "skeletons.npy").stat().st_size / 2**20
        print(f"built {args.clips} clips, {frames} frames, store {size:.0f} MiB in {time.perf_counter() - t0:.1f} s")
        ds = Dataset.open(root)  # not timed
        ids = [c.clip_id for c in ds.clips]
        order = np.random.default_rng(args.seed + 1).integers(0, len(ids), args.draws)
        for layout in (None, "mmg36"):
            times = np.empty(args.draws)
            for j, i in enumerate(order):
                t = time.perf_counter_ns()
                ds.skeleton(ids[i], layout=layout)
                times[j] = (time.perf_counter_ns() - t) / 1e6
            print(f"Dataset.skeleton(layout={layout}): median {np.median(times):.3f} ms, "
                  f"p99 {np.percentile(times, 99):.3f} ms, max {times.max():.3f} ms over {args.draws} random clips")
        print(f"machine: {platform.machine()} {platform.processor() or ''}, numpy {np.__version__}")


if __name__ == "__main__":
    main()
