"""What the video checks cost per frame: header probe (``data check``), packet decode without colour conversion
(``data check --decode`` and the probe ``train`` runs before it starts), and decoding to RGB (what training reads).

Writes a temporary folder of H.264 clips (crf 23, textured moving content) and times each check over all of them.

    .venv/bin/python bench/bench_video_probe.py [--size 640x360] [--clips 12] [--frames 96]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from microgesture.data.video import probe_video, read_video, verify_video, write_video


def frames(t: int, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A slowly moving smooth texture + noise: compresses like camera footage."""
    base = rng.integers(0, 255, (h // 8 + 2, w // 8 + 2, 3)).astype(np.uint8)
    big = np.kron(base, np.ones((8, 8, 1), np.uint8))
    out = np.stack([np.roll(big, i, axis=1)[:h, :w] for i in range(t)])
    return np.clip(out.astype(np.int16) + rng.integers(-8, 8, out.shape), 0, 255).astype(np.uint8)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--clips", type=int, default=12)
    ap.add_argument("--frames", type=int, default=96)
    a = ap.parse_args()
    w, h = (int(x) for x in a.size.split("x"))
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        paths = [write_video(Path(tmp) / f"c{i}.mp4", frames(a.frames, w, h, rng)) for i in range(a.clips)]
        n = a.clips * a.frames
        print(f"{a.clips} clips x {a.frames} frames at {w}x{h}, {platform.processor() or platform.machine()}")
        for name, fn in (("header probe", lambda p: probe_video(p)), ("decode packets", verify_video),
                         ("decode to RGB", read_video)):
            t0 = time.perf_counter()
            for p in paths:
                fn(p)
            dt = time.perf_counter() - t0
            print(f"{name:15s} {1e3 * dt / a.clips:8.2f} ms/clip {n / dt:10.0f} frames/s")


if __name__ == "__main__":
    main()
