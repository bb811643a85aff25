"""Throughput and disk cost of derived-modality extraction (Taylor, DIS / RAFT flow, depth).

Usage: .venv/bin/python bench/bench_extract.py [--size 320x180] [--frames 100] [--threads 1]
       [--skip raft_small,raft_large,depth,e2e]
       .venv/bin/python bench/bench_extract.py --taylor-variants [--golden AUTHORS_TAYLOR.npz]

Input is a synthetic clip (smooth background, two textured patches moving 1-3 px per frame, Gaussian noise sigma 2,
as a stand-in for a static-camera interview shot), passed once through H.264 (crf 23) and decoded, as extraction
sees real clips. Extractor speed does not depend on content; disk cost does.

* "extract": the extractor alone on decoded frames in memory, frames/s of input.
* "end to end": ``run_extraction`` on a small dataset (decode + extract + H.264 encode, one process).
* "disk": bytes of the H.264 outputs (crf 23, microgesture's write_video) per 1,000 output frames.

``--taylor-variants`` prints instead how far the Taylor options move the uint8 output from the default (MM-Gesture's
computation) on the synthetic clip: per-channel scaling, unrounded gray, float16 arithmetic (the authors' GPU
default); with ``--golden`` also the default's distance to the authors' output stored in that file.

RAFT and depth use randomly initialised weights: speed only (the network cost is the same as with trained weights).
Depth uses the Depth-Anything-Small architecture (ViT-S/14 DINOv2 + DPT head, transformers' default
DepthAnythingConfig) at the processor size 518, on frames of the size asked for (1280x720 gives 518 x 924 model input,
as iMiGUE videos would).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def synth_clip(n: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    """(n, h, w, 3) uint8 synthetic clip."""
    import cv2

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    bg = 70 + 50 * xx / w + 40 * yy / h
    ph, pw = h // 4, w // 6
    tex = cv2.GaussianBlur(rng.uniform(60, 230, (ph, pw)), (0, 0), 2.0)
    out = np.empty((n, h, w, 3), np.uint8)
    for t in range(n):
        f = bg.copy()
        x0 = (w // 8 + 3 * t) % (w - pw)
        y0 = h // 2 - ph // 2 + int(round(4 * np.sin(t / 5)))
        f[y0 : y0 + ph, x0 : x0 + pw] = tex
        x1 = w - 2 * pw + (t % 10) - 10
        f[h // 8 : h // 8 + ph, x1 : x1 + pw] = tex[::-1, ::-1]  # a second patch swinging 1 px per frame
        f = f + rng.normal(0, 2.0, f.shape)
        g = np.clip(f, 0, 255).astype(np.uint8)
        out[t] = np.stack([g, (g * 0.9).astype(np.uint8), (g * 0.8).astype(np.uint8)], axis=-1)
    return out


def fps_of(fn, frames: np.ndarray, repeat: int = 1) -> tuple[float, np.ndarray]:
    out = fn(frames)  # warm-up (also the output kept for the disk figure)
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn(frames)
    return repeat * len(frames) / (time.perf_counter() - t0), out


def disk_per_1000(video: np.ndarray, tmp: Path) -> float:
    from microgesture.data.video import write_video

    p = write_video(tmp / "out.mp4", video, fps=25.0)
    return p.stat().st_size / len(video) * 1000


def end_to_end(modality: str, config, clip: np.ndarray, tmp: Path, clips: int = 4) -> tuple[float, float]:
    """(input frames/s, output bytes per 1,000 output frames) of run_extraction on a small dataset."""
    from microgesture.data.format import Clip, DatasetHeader, DatasetWriter
    from microgesture.data.video import probe_video, write_video
    from microgesture.extract.runner import run_extraction

    root = tmp / f"ds-{modality}"
    n, h, w = clip.shape[:3]
    header = DatasetHeader(name="bench", layout="openpose137", classes=("a",), fps=25.0, frame_size=(w, h),
                           extra={"skeletons": False})
    with DatasetWriter(root, header) as wr:
        for k in range(clips):
            rel = f"videos/c{k}.mp4"
            write_video(wr.path_for(rel), np.roll(clip, k, axis=0))
            wr.add(Clip(clip_id=f"c{k}", video_id=f"v{k}", subject="s", split="train", label=0, start_frame=0,
                        end_frame=n - 1, num_frames=n, video_path=rel))
    t0 = time.perf_counter()
    rep = run_extraction(root, modality, config, log=lambda s: None)
    dt = time.perf_counter() - t0
    assert not rep.failed, rep.failed
    outs = list((root / modality).glob("*.mp4"))
    nbytes = sum(p.stat().st_size for p in outs)
    nframes = sum(probe_video(p)["num_frames"] for p in outs)
    return rep.frames / dt, nbytes / nframes * 1000


def taylor_variants(clip: np.ndarray, golden: str | None) -> None:
    """Print level differences between Taylor variants (see the module docstring)."""
    import torch

    from microgesture.extract.taylor import quantize, rgb_to_gray, taylor_float

    def levels(a: torch.Tensor, b: torch.Tensor) -> str:
        d = (a.to(torch.int32) - b.to(torch.int32)).abs().float()
        over = float((d > 1).float().mean())
        return f"max {int(d.max()):3d}  mean {float(d.mean()):6.3f}  pixels > 1 level {over:6.2%}"

    g = rgb_to_gray(torch.from_numpy(clip))
    f = taylor_float(g)
    ref = quantize(f)
    print(f"# Taylor K=3 L=6 on the {clip.shape[2]}x{clip.shape[1]} synthetic clip, {len(ref)} output frames; "
          "uint8 levels vs the default (frame scale, 8-bit gray, float32)")
    print(f"{'scale=channel':30s} {levels(quantize(f, 'channel'), ref)}")
    unrounded = taylor_float(rgb_to_gray(torch.from_numpy(clip), gray="float"))
    print(f"{'gray=float':30s} {levels(quantize(unrounded), ref)}")
    print(f"{'float16 arithmetic':30s} {levels(quantize(taylor_float(g.half()).float()), ref)}")
    if golden:
        with np.load(golden) as z:
            got = taylor_float(torch.from_numpy(z["gray"]))
            want_f, want_q = torch.from_numpy(z["taylor_float"]), torch.from_numpy(z["taylor_uint8"])
        print(f"# golden {golden}: the authors' float32 loop on its own gray input")
        print(f"{'float, max abs difference':30s} {float((got - want_f).abs().max()):.2e}")
        print(f"{'uint8, scale=frame (default)':30s} {levels(quantize(got), want_q)}")
        print(f"{'uint8, scale=channel':30s} {levels(quantize(got, 'channel'), want_q)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="320x180", help="WxH of the synthetic clip")
    ap.add_argument("--frames", type=int, default=100, help="frames per clip")
    ap.add_argument("--threads", type=int, default=1, help="torch / OpenCV threads")
    ap.add_argument("--skip", default="", help="comma-separated: raft_small, raft_large, depth, e2e")
    ap.add_argument("--depth-frames", type=int, default=2, help="frames for the depth timing")
    ap.add_argument("--raft-frames", type=int, default=9, help="frames for the RAFT timings")
    ap.add_argument("--taylor-variants", action="store_true", help="only compare Taylor options (no timings)")
    ap.add_argument("--golden", default=None, help="with --taylor-variants: an npz of the authors' Taylor output")
    args = ap.parse_args()

    import cv2
    import torch

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    w, h = (int(x) for x in args.size.split("x"))
    skip = set(filter(None, args.skip.split(",")))
    from microgesture.data.video import read_video, write_video

    with tempfile.TemporaryDirectory() as d:  # H.264 round trip: extractors see decoded frames, as in a real run
        clip = read_video(write_video(Path(d) / "src.mp4", synth_clip(args.frames, h, w)))
    if args.taylor_variants:
        taylor_variants(clip, args.golden)
        return
    print(f"# {w}x{h}, {args.frames}-frame synthetic clip, {args.threads} thread(s), cpu_count={os.cpu_count()}, "
          f"torch {torch.__version__}, OpenCV {cv2.__version__}, load average {os.getloadavg()[0]:.2f} (start)")
    print(f"{'what':42s} {'frames/s':>10s} {'MB / 1000 frames':>17s}")

    from microgesture.extract.flow import FlowConfig, FlowExtractor
    from microgesture.extract.taylor import TaylorConfig, TaylorExtractor

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        print(f"{'source video (H.264 crf 23)':42s} {'':>10s} {disk_per_1000(clip, tmp) / 1e6:17.2f}")
        rows = [("taylor K=3 L=6 (torch)", TaylorExtractor(TaylorConfig()), clip, 3)]
        for preset in ("ultrafast", "fast", "medium"):
            rows.append((f"flow DIS {preset}", FlowExtractor(FlowConfig(preset=preset)), clip, 2))
        torch.manual_seed(0)
        for method in ("raft_small", "raft_large"):
            if method not in skip:
                ex = FlowExtractor(FlowConfig(method=method, weights=None, batch_size=4))
                rows.append((f"flow {method}, 12 updates (random init)", ex, clip[: args.raft_frames], 1))
        if "depth" not in skip:
            from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, DPTImageProcessor

            from microgesture.extract.depth import DepthConfig, DepthExtractor

            model = DepthAnythingForDepthEstimation(DepthAnythingConfig())  # ViT-S/14, random weights
            proc = DPTImageProcessor(size={"height": 518, "width": 518}, keep_aspect_ratio=True,
                                     ensure_multiple_of=14, resample=3, image_mean=[0.485, 0.456, 0.406],
                                     image_std=[0.229, 0.224, 0.225])
            ex = DepthExtractor(DepthConfig(input_size=518, batch_size=1), model=model, processor=proc)
            rows.append(("depth Depth-Anything ViT-S @518 (random)", ex, clip[: args.depth_frames], 1))
        for name, fn, frames, repeat in rows:
            fps, out = fps_of(fn, frames, repeat)
            # Random weights give meaningless flow / depth images, so their file sizes say nothing.
            disk = "-" if "random" in name else f"{disk_per_1000(out, tmp) / 1e6:.2f}"
            print(f"{name:42s} {fps:10.2f} {disk:>17s}", flush=True)
        if "e2e" not in skip:
            for name, modality, cfg in [("end to end: taylor", "taylor", TaylorConfig()),
                                        ("end to end: flow DIS medium", "flow", FlowConfig())]:
                fps, per = end_to_end(modality, cfg, clip, tmp)
                print(f"{name:42s} {fps:10.2f} {per / 1e6:17.2f}", flush=True)
    print(f"# load average {os.getloadavg()[0]:.2f} (end); other jobs on the machine lower the figures")


if __name__ == "__main__":
    main()
