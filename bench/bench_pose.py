"""Pose extraction speed: MediaPipe Holistic -> OpenPose-137 on a 640x360 video, frames per second.

The video is the public-domain astronaut photograph (scikit-image) sliding over a gray 640x360 canvas, so Holistic
finds a person (pose, face and, where visible, hands) in every frame. Run in the pose environment, or from the main
one (it then re-runs itself there):

    .venv-pose/bin/python bench/bench_pose.py [--frames 100] [--repeat 3]

Reported: model start-up (s), then frames/s over the frames after the first (Holistic's first frame runs the
detectors; later ones mostly track), with face detection for subject selection every 5 frames, as `microgesture pose`
runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_video(path: Path, frames: int) -> None:
    import cv2
    import numpy as np
    from skimage import data

    from microgesture.data.video import write_video

    im = cv2.resize(data.astronaut(), (300, 300), interpolation=cv2.INTER_AREA)
    v = np.full((frames, 360, 640, 3), 128, np.uint8)
    for t in range(frames):
        x = 40 + int(200 * (0.5 - 0.5 * np.cos(2 * np.pi * t / frames)))  # slides right and back
        v[t, 30:330, x:x + 300] = im
    write_video(path, v, fps=25)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--complexity", type=int, default=1, help="Holistic model_complexity (1 ships in the wheel)")
    a = ap.parse_args()
    if importlib.util.find_spec("mediapipe") is None:
        from microgesture.pose import pose_python

        py = pose_python()
        if py is None:
            sys.exit("mediapipe is not installed and there is no .venv-pose: run `make pose-env` first")
        sys.exit(subprocess.call([py, __file__, *sys.argv[1:]]))
    os.environ.setdefault("GLOG_minloglevel", "2")
    import mediapipe as mp

    from microgesture.data.video import iter_frames
    from microgesture.pose.holistic import HolisticExtractor

    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs visible, python {platform.python_version()}, "
          f"mediapipe {mp.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "astronaut_640x360.mp4"
        make_video(video, a.frames)
        frames = list(iter_frames(video))
        print(f"video: {len(frames)} frames 640x360 (decoding excluded from the timings)")
        for r in range(a.repeat):
            t0 = time.perf_counter()
            ex = HolisticExtractor(model_complexity=a.complexity)
            t1 = time.perf_counter()
            ex.process(frames[0])
            t2 = time.perf_counter()
            found = 0
            for f in frames[1:]:
                found += bool((ex.process(f)[:25, 2] > 0).any())
            t3 = time.perf_counter()
            ex.close()
            n = len(frames) - 1
            print(f"run {r + 1}: start-up {t1 - t0:.2f} s, first frame {1000 * (t2 - t1):.0f} ms, then "
                  f"{n / (t3 - t2):.1f} frames/s ({1000 * (t3 - t2) / n:.1f} ms/frame), person found in {found}/{n}")


if __name__ == "__main__":
    main()
