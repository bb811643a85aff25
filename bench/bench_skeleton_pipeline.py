"""Skeleton loading + transform throughput of the joint branches' input pipeline, on one core.

Builds a dataset of 2,000 OpenPose-137 clips (30-300 frames, random coordinates: the pipeline's cost does not depend on
the values) in a temporary directory, then times Dataset.skeleton + SkeletonTransform.train_sample (aim68, 64 frames,
augmentations on) and test_sample (5 clips x flip) per clip.

    .venv/bin/python bench/bench_skeleton_pipeline.py [--clips 2000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from microgesture.branches import SkeletonPipeline
from microgesture.data.format import Clip, Dataset, DatasetHeader, DatasetWriter
from microgesture.inputs.skeleton import SkeletonInputConfig


def build(root: Path, n: int) -> Dataset:
    rng = np.random.default_rng(0)
    header = DatasetHeader(name="bench", layout="openpose137", classes=tuple(str(k) for k in range(32)))
    with DatasetWriter(root, header) as w:
        for i in range(n):
            t = int(rng.integers(30, 301))
            sk = np.concatenate([rng.uniform(0, 1280, (t, 137, 2)), rng.uniform(0, 1, (t, 137, 1))], -1)
            w.add(Clip(clip_id=f"c{i}", video_id=f"v{i}", subject=f"s{i % 50}", split="train", label=i % 32,
                       start_frame=0, end_frame=t - 1, num_frames=t), sk.astype(np.float32))
    return Dataset.open(root)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=2000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        ds = build(Path(tmp) / "ds", args.clips)
        rows = []
        for layout in ("aim68", "mmg36"):
            pipe = SkeletonPipeline(SkeletonInputConfig(layout=layout), ds.layout)
            clips = ds.clips
            t0 = time.perf_counter()
            for i, c in enumerate(clips):
                pipe.train_sample(ds, c, np.random.default_rng([0, 0, i]))
            train_rate = len(clips) / (time.perf_counter() - t0)
            sub = clips[: len(clips) // 4]
            t0 = time.perf_counter()
            for c in sub:
                pipe.test_sample(ds, c)
            test_rate = len(sub) / (time.perf_counter() - t0)
            rows.append((layout, train_rate, test_rate))
    print(f"{'layout':8s} {'train clips/s':>14s} {'test clips/s (10 views)':>24s}")
    for layout, a, b in rows:
        print(f"{layout:8s} {a:14.0f} {b:24.0f}")


if __name__ == "__main__":
    main()
