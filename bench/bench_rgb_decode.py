"""Decode + crop throughput of the RGB pipeline (clips/s), and seeking into a long video.

Writes a temporary dataset of clip mp4s (H.264, crf 23, textured moving content, a person-sized skeleton box) and
times ``RGBPipeline.train_sample`` (one view) and ``test_sample`` (2 clips x flip) in one process, then train samples
through a DataLoader with worker processes. Then a long video: a clip's sampled frames with ``read_frames`` (seeking)
against sequential decoding from the start of the file.

    .venv/bin/python bench/bench_rgb_decode.py [--size 640x360] [--clips 24] [--frames 64] [--clip-len 16]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from microgesture.data.format import Clip, Dataset, DatasetHeader, DatasetWriter
from microgesture.data.video import read_frames, read_video, write_video
from microgesture.inputs.rgb import RGBInputConfig, RGBPipeline


def textured_frames(t: int, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A slowly moving smooth texture + noise + a moving 'person' block: compresses like camera footage."""
    base = rng.integers(0, 255, (h // 8 + 2, w // 8 + 2, 3)).astype(np.float32)
    import cv2

    tex = cv2.resize(base, (w + 16, h + 16), interpolation=cv2.INTER_CUBIC)
    out = np.empty((t, h, w, 3), np.uint8)
    for i in range(t):
        f = tex[i % 16 : i % 16 + h, : w].copy()
        x0 = int(w * 0.35 + 10 * np.sin(i / 5))
        f[int(h * 0.2) : int(h * 0.9), x0 : x0 + int(w * 0.3)] *= 0.6
        f += rng.normal(0, 4, f.shape).astype(np.float32)
        out[i] = np.clip(f, 0, 255).astype(np.uint8)
    return out


def skeleton(t: int, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    s = np.zeros((t, 137, 3), np.float32)
    s[..., 0] = rng.uniform(0.35 * w, 0.65 * w, (t, 137))
    s[..., 1] = rng.uniform(0.2 * h, 0.9 * h, (t, 137))
    s[..., 2] = 0.9
    return s


def make_dataset(root: Path, *, n: int, t: int, size: tuple[int, int]) -> Dataset:
    rng = np.random.default_rng(0)
    w, h = size
    header = DatasetHeader(name="bench", layout="openpose137", classes=("a", "b"), frame_size=size)
    with DatasetWriter(root, header) as wr:
        for i in range(n):
            write_video(wr.path_for(f"videos/{i}.mp4"), textured_frames(t, w, h, rng))
            wr.add(Clip(clip_id=f"c{i}", video_id=f"c{i}", subject=f"s{i % 4}", split="train", label=i % 2,
                        start_frame=0, end_frame=t - 1, num_frames=t, video_path=f"videos/{i}.mp4"),
                   skeleton(t, w, h, rng))
    return Dataset.open(root)


def rate(fn, items, repeat: int = 2) -> tuple[float, float]:
    """(clips per wall second, clips per CPU second of this process); decoding, scaling and torch run on one
    thread here, so the second is the per-core throughput, robust to other load on a shared machine."""
    fn(items[0])  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        for it in items:
            fn(it)
    n = repeat * len(items)
    return n / (time.perf_counter() - t0), n / (time.process_time() - c0)


def decode_share(ds: Dataset, clip_len: int) -> float:
    """Fraction of ``train_sample``'s CPU time spent in ``read_frames`` (decoding + RGB conversion)."""
    import microgesture.inputs.rgb as rgb

    read, spent = rgb.read_frames, [0.0]

    def timed(*args, **kw):
        c0 = time.process_time()
        try:
            return read(*args, **kw)
        finally:
            spent[0] += time.process_time() - c0

    p = RGBPipeline(RGBInputConfig(clip_len=clip_len, size=224), "openpose137")
    rng = np.random.default_rng(0)
    rgb.read_frames = timed
    try:
        c0 = time.process_time()
        for c in ds.clips:
            p.train_sample(ds, c, rng)
        total = time.process_time() - c0
    finally:
        rgb.read_frames = read
    return spent[0] / total


class _Items(torch.utils.data.Dataset):
    def __init__(self, ds: Dataset, pipe: RGBPipeline):
        self.ds, self.pipe = ds, pipe

    def __len__(self) -> int:
        return len(self.ds.clips)

    def __getitem__(self, i: int):
        x = self.pipe.train_sample(self.ds, self.ds.clips[i], np.random.default_rng(i))
        return torch.from_numpy(x[self.pipe.key])


def loader_rate(ds: Dataset, pipe: RGBPipeline, workers: int, epochs: int = 2) -> float:
    dl = torch.utils.data.DataLoader(_Items(ds, pipe), batch_size=4, num_workers=workers,
                                     persistent_workers=workers > 0)
    next(iter(dl))
    t0 = time.perf_counter()
    n = 0
    for _ in range(epochs):
        for b in dl:
            n += len(b)
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--clips", type=int, default=24)
    ap.add_argument("--frames", type=int, default=64)
    ap.add_argument("--clip-len", type=int, default=16)
    ap.add_argument("--long-frames", type=int, default=1500)
    a = ap.parse_args()
    torch.set_num_threads(1)
    w, h = (int(v) for v in a.size.split("x"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs visible, load average {os.getloadavg()[0]:.1f}, "
          f"torch threads 1; clips {a.clips} x "
          f"{a.frames} frames at {w}x{h} (H.264 crf 23); {a.clip_len} frames sampled, output 224x224")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ds = make_dataset(Path(tmp) / "ds", n=a.clips, t=a.frames, size=(w, h))
        print(f"dataset written in {time.perf_counter() - t0:.1f} s")
        rng = np.random.default_rng(0)
        print(f"load average before timing: {os.getloadavg()[0]:.1f}")
        rows = []
        # crop none: the whole 640-pixel letterbox onto 224 is decoded downscaled (antialias) unless switched off
        for label, kw in (("train, crop skeleton", {}), ("train, crop none", {"crop": "none"}),
                          ("train, crop none, no antialias", {"crop": "none", "antialias": False})):
            p = RGBPipeline(RGBInputConfig(clip_len=a.clip_len, size=224, **kw), "openpose137")
            rows.append((label, rate(lambda c, p=p: p.train_sample(ds, c, rng), ds.clips)))
        p = RGBPipeline(RGBInputConfig(clip_len=a.clip_len, size=224, num_test_clips=2), "openpose137")
        rows.append(("test, 2 clips x flip = 4 views", rate(lambda c: p.test_sample(ds, c), ds.clips)))
        pt = RGBPipeline(RGBInputConfig(clip_len=a.clip_len, size=224), "openpose137")
        for label, (wall, cpu) in rows:
            print(f"  {label:36s} {wall:6.1f} clips/s wall, {cpu:6.1f} clips/s per CPU-second")
        share = decode_share(ds, a.clip_len)
        print(f"  share of a train sample's CPU time (skeleton crop) in read_frames: {share:.0%}")
        for workers in (0, 2):
            print(f"  {f'train, DataLoader {workers} workers':36s} {loader_rate(ds, pt, workers):6.1f} clips/s wall")

        long = Path(tmp) / "long.mp4"
        t0 = time.perf_counter()
        rng2 = np.random.default_rng(1)
        chunks = [textured_frames(100, w, h, rng2) for _ in range(a.long_frames // 100)]
        write_video(long, np.concatenate(chunks))
        del chunks
        print(f"long video: {a.long_frames} frames written in {time.perf_counter() - t0:.1f} s")
        start = a.long_frames - 200
        idx = start + np.linspace(0, a.frames - 1, a.clip_len).round().astype(int)
        t0 = time.process_time()
        fast = read_frames(long, idx)
        t_seek = time.process_time() - t0
        t0 = time.process_time()
        seq = read_video(long, start=start, num_frames=a.frames)[idx - start]
        t_seq = time.process_time() - t0
        assert np.array_equal(fast, seq)
        print(f"  {a.clip_len} frames of a clip at frame {start}: read_frames (seek) {t_seek * 1000:.0f} ms CPU, "
              f"sequential decode from frame 0 {t_seq * 1000:.0f} ms CPU (same frames)")


if __name__ == "__main__":
    main()
