"""Benchmark: PoseC3D heatmap volumes, microgesture's batched renderer vs a per-keypoint numpy loop.

Volumes are PoseC3D's training input: 48 frames x 36 channels x 56 x 56, mmg36 joints or limbs, sigma 0.6. Two kinds
of skeleton: ``pose`` is an upper body filling the PoseC3D box (what the renderer sees in training: the box is fit to
the skeleton), with per-frame motion; ``uniform`` scatters the 36 points uniformly over the canvas, so limbs are long
(about 3x the window pixels of ``pose``): a pessimistic case for limbs.

Run: ``.venv/bin/python bench/bench_heatmaps.py`` (``--quick`` for fewer repeats). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from heatmap_loop_baseline import render_loop  # noqa: E402

from microgesture.inputs.heatmaps import render_heatmaps  # noqa: E402
from microgesture.layouts import get_layout  # noqa: E402

T, SIZE, SIGMA = 48, 56, 0.6  # PoseC3D: 48 frames, 56 x 56, sigma 0.6

# A seated upper body in the mmg36 order (56 x 56 canvas, person facing the camera; their right is image left).
_BODY = [(28, 14), (28, 24), (19, 25), (15, 36), (20, 44), (37, 25), (41, 36), (36, 44)]
_FACE = [(26.5, 12.5), (29.5, 12.5), (24.5, 13.5), (31.5, 13.5), (25, 15.5), (25.8, 17.5), (28, 19), (30.2, 17.5),
         (31, 15.5), (26.5, 11.5), (29.5, 11.5), (28, 12), (27, 16.5), (28, 16), (29, 16.5), (28, 17)]  # fmt: skip
_TIPS = [(-3, 3), (-1.5, 5), (0, 5.5), (1.5, 5), (3, 4)]


def pose_clip(rng: np.random.Generator, t: int = T) -> tuple[np.ndarray, np.ndarray]:
    """(T, 36, 2) keypoints of a moving upper body and (T, 36) scores (5% missing)."""
    template = _BODY + _FACE
    for wrist in (_BODY[7], _BODY[4]):  # mmg36 24-29 = left hand (wrist 7), 30-35 = right hand (wrist 4)
        template += [wrist] + [(wrist[0] + dx, wrist[1] + dy) for dx, dy in _TIPS]
    base = np.array(template, dtype=np.float32)
    phase = rng.uniform(0, 2 * np.pi, size=(1, 36, 2))
    amp = rng.uniform(0.5, 3.0, size=(1, 36, 2))
    time_ = np.arange(t, dtype=np.float32)[:, None, None]
    sway = rng.normal(0, 1.0, size=(t, 1, 2)).cumsum(0) * 0.3
    kp = base + amp * np.sin(time_ / 6 + phase) + sway + rng.normal(0, 0.3, size=(t, 36, 2))
    scores = rng.uniform(0.3, 1.0, size=(t, 36)) * (rng.random((t, 36)) > 0.05)
    return kp.astype(np.float32), scores.astype(np.float32)


def uniform_clip(rng: np.random.Generator, t: int = T) -> tuple[np.ndarray, np.ndarray]:
    kp = rng.uniform(0, SIZE, size=(t, 36, 2)).astype(np.float32)
    return kp, rng.uniform(0.3, 1.0, size=(t, 36)).astype(np.float32)


def timeit(fn, repeat: int) -> float:
    """Best wall-clock seconds of ``repeat`` calls after one warm-up call."""
    return cpu_and_wall(fn, repeat)[1]


def cpu_and_wall(fn, repeat: int) -> tuple[float, float]:
    """Best CPU seconds of this process and best wall-clock seconds of ``repeat`` calls after a warm-up call.

    Best-of rather than median: on a shared machine the fastest call is the one least disturbed by other processes.
    With one torch thread the CPU time is the work itself; the wall time also counts waiting for a core.
    """
    fn()
    cpu, wall = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    return min(cpu), min(wall)


def batch_inputs(kind: str, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T, 36, 2) keypoints and (B, T, 36) scores of ``batch`` clips of one kind, from a fixed seed."""
    rng = np.random.default_rng(1)
    make = pose_clip if kind == "pose" else uniform_clip
    clips = [make(rng) for _ in range(batch)]
    return torch.from_numpy(np.stack([c[0] for c in clips])), torch.from_numpy(np.stack([c[1] for c in clips]))


def peak_temporaries_mib(kind: str, volume: str, batch: int) -> float:
    """Peak resident memory of one batch render beyond its inputs and output, measured in a fresh process (Linux)."""
    code = (
        "import sys, numpy as np, torch; sys.path.insert(0, sys.argv[1]); import bench_heatmaps as b;"
        "from microgesture.inputs.heatmaps import render_heatmaps; from microgesture.layouts import get_layout;"
        "kp, sc = b.batch_inputs(sys.argv[2], int(sys.argv[4]));"
        "e = np.array(get_layout('mmg36').edges) if sys.argv[3] == 'limb' else None;"
        "render_heatmaps(kp[:1], sc[:1], 56, 0.6, e);"  # warm up lazy imports and kernels
        "rss = lambda f: int(next(l for l in open('/proc/self/status') if l.startswith(f)).split()[1]);"
        "before = rss('VmRSS'); out = render_heatmaps(kp, sc, 56, 0.6, e);"
        "print((rss('VmHWM') - before) / 1024 - out.numel() * 4 / 2**20)"
    )
    try:
        res = subprocess.run([sys.executable, "-c", code, str(Path(__file__).resolve().parent), kind, volume,
                              str(batch)], capture_output=True, text=True, check=True)  # fmt: skip
        return float(res.stdout.strip().splitlines()[-1])
    except (subprocess.CalledProcessError, ValueError, IndexError):
        return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--batch", type=int, default=64, help="clips in the all-threads batch run")
    args = ap.parse_args()
    rep, loop_rep = (5, 1) if args.quick else (20, 3)
    edges = np.array(get_layout("mmg36").edges)
    rng = np.random.default_rng(0)
    threads = torch.get_num_threads()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())  # other processes on the machine skew the timings
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"load average {load}")
    print("One clip, one thread; best-of CPU time (best wall-clock time in brackets):")
    print("| skeleton | volume | numpy loop | microgesture | microgesture, reused `out` | speed-up |")
    print("|---|---|---|---|---|---|")
    for kind, make in (("pose", pose_clip), ("uniform", uniform_clip)):
        kp, sc = make(rng)
        kpt, sct = torch.from_numpy(kp), torch.from_numpy(sc)
        for name, e in (("joint", None), ("limb", edges)):
            torch.set_num_threads(1)
            ref = render_loop(kp[None], sc[None], (SIZE, SIZE), SIGMA, e)
            got = render_heatmaps(kpt, sct, SIZE, SIGMA, e)
            err = float(np.abs(got.numpy() - ref).max())
            assert err < 1e-4, f"renderer and loop disagree by {err}"
            loop = cpu_and_wall(partial(render_loop, kp[None], sc[None], (SIZE, SIZE), SIGMA, e), loop_rep)
            ours = cpu_and_wall(partial(render_heatmaps, kpt, sct, SIZE, SIGMA, e), rep)
            reuse = cpu_and_wall(partial(render_heatmaps, kpt, sct, SIZE, SIGMA, e, out=torch.empty_like(got)), rep)
            cells = [f"{c * 1e3:.{p}f} ms ({w * 1e3:.{p}f})" for (c, w), p in ((loop, 0), (ours, 2), (reuse, 2))]
            print(f"| {kind} | {name} | {' | '.join(cells)} | {loop[0] / ours[0]:.0f}x |")
    print()
    print(f"Batch of {args.batch} clips (B, 36, 48, 56, 56); 'reused' draws into a preallocated `out`, 'new' allocates")
    print("the output (first-touch page faults of the whole volume on the CPU):")
    cols = f"1 thread, reused: CPU (wall) | {threads} threads, reused: wall | {threads} threads, new: wall"
    print(f"| skeleton | volume | {cols} | output | temp. peak |")
    print("|---|---|---|---|---|---|---|")
    n = 2 if args.quick else 5
    for kind in ("pose", "uniform"):
        kpt, sct = batch_inputs(kind, args.batch)
        buf = torch.empty(args.batch, 36, T, SIZE, SIZE)
        for name, e in (("joint", None), ("limb", edges)):
            torch.set_num_threads(1)
            one = cpu_and_wall(partial(render_heatmaps, kpt, sct, SIZE, SIGMA, e, out=buf), n)
            torch.set_num_threads(threads)
            reuse = timeit(partial(render_heatmaps, kpt, sct, SIZE, SIGMA, e, out=buf), n)
            new = timeit(partial(render_heatmaps, kpt, sct, SIZE, SIGMA, e), n)
            cells = [f"{one[0] * 1e3:.0f} ({one[1] * 1e3:.0f}) ms = {one[0] * 1e3 / args.batch:.2f} ms/clip"]
            cells += [f"{x * 1e3:.0f} ms = {x * 1e3 / args.batch:.2f} ms/clip" for x in (reuse, new)]
            extra = peak_temporaries_mib(kind, name, args.batch)
            print(f"| {kind} | {name} | {' | '.join(cells)} | {buf.numel() * 4 / 2**20:.0f} MiB | {extra:.0f} MiB |")
    print(f"\n# load average after the run: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
