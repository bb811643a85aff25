"""Untrimmed mode of the synthetic benchmark: long recordings chaining gestures and idle stretches, with ground truth.

Each recording is one new subject (drawn from its own seed, so never one of a generated dataset's subjects) who makes
gestures drawn from the iMiGUE class prior (the training counts, so "illustrative gestures (non-MG)" and "shake
shoulders" dominate, as in the interviews), separated by idle stretches of ``idle`` seconds. The skeleton is the
simulated detector output of :func:`microgesture.data.synth.synth_recording`, in the preset's frame.

Files (``generate_untrimmed``), per recording ``<name>``:

    <name>.npz       the skeleton as ``microgesture pose`` writes it (microgesture.pose.PoseResult; backend "synth")
    <name>_gt.csv    ground-truth events, the columns of ``microgesture detect``'s events CSV (score 1)
    <name>.mp4       the rendered video, with ``video=True``
    untrimmed.json   preset, seed, settings and the list of recordings
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from microgesture.data.classes import IMIGUE_CLASSES, IMIGUE_TRAIN_COUNTS
from microgesture.data.synth.body import Difficulty, sample_subject
from microgesture.data.synth.generate import PRESETS, Preset, Recording, synth_recording
from microgesture.data.synth.timing import clip_lengths

__all__ = ["Untrimmed", "synth_untrimmed", "generate_untrimmed"]


@dataclass
class Untrimmed:
    """One untrimmed recording: skeleton (T, 137, 3), segments (label, start, end) with inclusive frames."""

    name: str
    skeleton: np.ndarray
    segments: list[tuple[int, int, int]]
    fps: float
    frame_size: tuple[int, int]
    subject: str
    recording: Recording


def synth_untrimmed(*, seed: int, seconds: float, index: int = 0, preset: str | Preset = "small",
                    idle: tuple[float, float] = (1.0, 4.0), knobs: Difficulty | None = None) -> Untrimmed:
    """A recording of about ``seconds`` seconds (it ends after the idle stretch that follows the last gesture)."""
    p = PRESETS[preset] if isinstance(preset, str) else preset
    knobs = knobs or Difficulty()
    rng = np.random.default_rng([seed, 31, index])
    prior = np.array(IMIGUE_TRAIN_COUNTS, float)
    prior /= prior.sum()
    subject = sample_subject(np.random.default_rng([seed, 32, index]), f"U{seed}-{index:02d}", knobs)
    lo, hi = (int(round(s * p.fps)) for s in idle)
    total = int(seconds * p.fps)
    labels: list[int] = []
    gaps = [int(rng.integers(lo, hi + 1))]
    used = gaps[0]
    lengths: list[int] = []
    while used < total or not labels:
        label = int(rng.choice(len(prior), p=prior))
        n = int(clip_lengths(rng, [label], p)[0])
        g = int(rng.integers(lo, hi + 1))
        labels.append(label)
        lengths.append(n)
        gaps.append(g)
        used += n + g
    rec = synth_recording(subject, labels, seed=(seed, 33, index), preset=p, knobs=knobs, lengths=lengths, gaps=gaps)
    name = f"u{seed}_{index:02d}"
    return Untrimmed(name=name, skeleton=rec.skeleton, segments=list(rec.segments), fps=p.fps,
                     frame_size=tuple(p.frame_size), subject=subject.id, recording=rec)


def generate_untrimmed(out_dir: str | os.PathLike, *, seed: int = 0, minutes: float = 1.0, count: int = 1,
                       preset: str | Preset = "small", idle: tuple[float, float] = (1.0, 4.0), video: bool = False,
                       overwrite: bool = False) -> Path:
    """Write ``count`` recordings of about ``minutes`` minutes each (see the module docstring); returns the folder."""
    from microgesture.detect import Event, write_events
    from microgesture.pose import PoseResult, missing_report

    p = PRESETS.get(preset) if isinstance(preset, str) else preset
    if p is None:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    out = Path(out_dir)
    if out.exists():
        if not overwrite:
            raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    items = []
    for i in range(count):
        u = synth_untrimmed(seed=seed, seconds=60 * minutes, index=i, preset=p, idle=idle)
        PoseResult(keypoints=u.skeleton, fps=u.fps, frame_size=u.frame_size, backend="synth",
                   source=f"microgesture.data.synth.untrimmed seed={seed} index={i}",
                   selection={"rule": "single subject"},
                   missing=missing_report(u.skeleton)).save(out / f"{u.name}.npz")
        events = [Event(a, b, c, IMIGUE_CLASSES[c], 1.0, u.fps) for c, a, b in u.segments]
        write_events(out / f"{u.name}_gt.csv", events)
        if video:
            _write_video(u, out / f"{u.name}.mp4")
        items.append({"name": u.name, "subject": u.subject, "frames": len(u.skeleton),
                      "seconds": round(len(u.skeleton) / u.fps, 2), "events": len(events)})
    meta = {"generator": "microgesture.data.synth.untrimmed", "preset": p.name, "seed": seed, "minutes": minutes,
            "idle_seconds": list(idle), "fps": p.fps, "frame_size": list(p.frame_size), "recordings": items}
    (out / "untrimmed.json").write_text(json.dumps(meta, indent=1) + "\n")
    return out


def _write_video(u: Untrimmed, path: Path, chunk: int = 64) -> None:
    from microgesture.data.synth.generate import scene_for
    from microgesture.data.synth.render import render
    from microgesture.data.video import VideoWriter

    rec = u.recording
    scene = scene_for(rec)
    with VideoWriter(path, fps=u.fps) as w:
        for a in range(0, len(rec.skeleton), chunk):
            for frame in render(rec.body, rec.subject, scene, range(a, min(len(rec.skeleton), a + chunk))):
                w.write(frame)
