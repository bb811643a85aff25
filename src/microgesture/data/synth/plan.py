"""Presets and the plan of a synthetic benchmark: subjects, splits, and the labels of each recording."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from microgesture.data.classes import IMIGUE_CLASSES, IMIGUE_TRAIN_COUNTS
from microgesture.data.synth.body import Difficulty, Subject, sample_subject

__all__ = ["Preset", "PRESETS", "VideoPlan", "Plan", "make_plan", "rendered_at", "train_counts", "SPLIT_NAMES"]

SPLIT_NAMES = ("train", "val", "test")


@dataclass(frozen=True, kw_only=True)
class Preset:
    """Size of a generated benchmark.

    Attributes:
        clips: clips per split (train, val, test); train follows the iMiGUE training counts scaled to this size,
            val and test are drawn from the same prior.
        subjects: subjects per split (disjoint).
        frame_size: (width, height) of the videos and of the skeleton's pixel coordinates.
        clip_median, clip_sigma, clip_range: log-normal clip length in frames (times the class's real duration
            factor), clipped; clip_tail: the log-normal's spread above the median (None: clip_sigma).
        clips_per_video: median clips chained in one recording; video_sigma: log-normal spread of that number.
        gap: bounds of the idle frames between clips; gap_median, gap_sigma: their log-normal (None: uniform in gap).
        overlap: probability that a gesture starts during the previous one when both can be made at once.
        min_train: least training clips of a class (never more than iMiGUE has).
    """

    name: str
    clips: tuple[int, int, int]
    subjects: tuple[int, int, int]
    frame_size: tuple[int, int]
    fps: float = 25.0
    clip_median: float = 32.0
    clip_sigma: float = 0.55
    clip_range: tuple[int, int] = (8, 125)
    clip_tail: float | None = None
    clips_per_video: int = 20
    video_sigma: float = 0.0
    gap: tuple[int, int] = (10, 50)
    gap_median: float | None = None
    gap_sigma: float = 1.0
    overlap: float = 0.0
    min_train: int = 2


# Timing calibrated on the iMiGUE labels file (timing.py): clips per video (median 39), idle gaps (median 25 frames,
# 95th percentile 452), overlapping clips (24%). ``small`` keeps its mean clip length within 10% of the uncalibrated
# preset (the demo trains on it): its lengths are those of real clips up to the median, with a shorter tail.
PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(name="tiny", clips=(220, 40, 80), subjects=(6, 2, 2), frame_size=(160, 90), clip_median=16,
               clip_range=(6, 40), clips_per_video=8, gap=(2, 60), gap_median=10, gap_sigma=1.0, overlap=0.55),
        Preset(name="small", clips=(1800, 160, 540), subjects=(16, 3, 5), frame_size=(320, 180), clip_median=32,
               clip_sigma=0.3, clip_tail=0.5, clip_range=(10, 130), clips_per_video=44, video_sigma=0.3,
               gap=(1, 900), gap_median=25, gap_sigma=1.9, overlap=0.55),
        # iMiGUE-sized: 12,893 / 777 / 4,562 clips and 72 subjects (docs/recipes.md)
        Preset(name="full", clips=(12893, 777, 4562), subjects=(50, 4, 18), frame_size=(1280, 720),
               clip_median=36, clip_sigma=0.45, clip_tail=0.85, clip_range=(8, 500), clips_per_video=39,
               video_sigma=0.6, gap=(1, 1500), gap_median=25, gap_sigma=1.9, overlap=0.55, min_train=1),
    )
}  # fmt: skip


def rendered_at(preset: str | Preset, frame_size: object) -> Preset:
    """``preset`` with its frames ``frame_size`` = (width, height) pixels: the same recordings drawn larger or smaller.

    The camera is placed in units of the frame, so the skeletons scale with it (each coordinate times the width
    ratio, the same confidences) and only the pixels gain or lose detail: a cue of one pixel at 320 x 180 spans
    four at 1280 x 720 (bench/cue_pixels.py). The aspect ratio must stay the preset's (its framing statistics are
    those of real interviews), and both sides even (H.264 4:2:0).
    """
    p = PRESETS.get(preset) if isinstance(preset, str) else preset
    if p is None:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    ok = (isinstance(frame_size, (list, tuple)) and len(frame_size) == 2
          and all(isinstance(v, int) and not isinstance(v, bool) for v in frame_size))
    if not ok:
        raise ValueError(f"frame_size must be [width, height] in pixels, got {frame_size!r}")
    w, h = frame_size
    pw, ph = p.frame_size
    if w < 64 or h < 36 or w % 2 or h % 2:
        raise ValueError(f"frame_size {w}x{h}: both sides must be even, at least 64x36")
    if w * ph != h * pw:
        g = math.gcd(pw, ph)
        raise ValueError(f"frame_size {w}x{h}: keep the {p.name!r} preset's aspect ratio {pw // g}:{ph // g} (e.g. "
                         f"{2 * pw}x{2 * ph}); its framing is calibrated on real interviews")
    return replace(p, frame_size=(w, h))


def train_counts(total: int, min_count: int) -> np.ndarray:
    """iMiGUE training counts scaled to ``total`` clips; every class keeps min(its count, ``min_count``).

    Below 2 x ``min_count`` clips per class the minimum is dropped (largest-remainder rounding of the prior).
    """
    ref = np.array(IMIGUE_TRAIN_COUNTS)
    q = ref * total / ref.sum()
    if total < 2 * min_count * len(ref):
        c = np.floor(q).astype(np.int64)
        c[np.argsort(-(q - c), kind="stable")[: total - c.sum()]] += 1
        return c
    c = np.maximum(np.round(q).astype(np.int64), np.minimum(ref, min_count))
    c[np.argmax(ref)] += total - c.sum()  # the head class absorbs rounding
    return c


@dataclass
class VideoPlan:
    video_id: str
    subject: int
    split: str
    labels: list[int]
    index: int  # seeds the recording


@dataclass
class Plan:
    """Who is in which split, and which clips each recording chains."""

    preset: Preset
    seed: int
    subjects: list[Subject]
    subject_split: list[str]
    videos: list[VideoPlan] = field(default_factory=list)

    def counts(self, split: str) -> np.ndarray:
        c = np.zeros(len(IMIGUE_CLASSES), np.int64)
        for v in self.videos:
            if v.split == split:
                np.add.at(c, v.labels, 1)
        return c


def make_plan(preset: Preset, seed: int, knobs: Difficulty | None = None) -> Plan:
    """Subjects (disjoint per split), class counts per split and their assignment to subjects and recordings.

    Subjects differ in how often they make each gesture (a log-normal affinity per subject and class), so the label
    mix shifts between subjects as well as the motion. "touch hat" clips go to subjects who wear a cap; the first
    subject of every split wears one.
    """
    knobs = knobs or Difficulty()
    rng = np.random.default_rng([seed, 0])
    k = len(IMIGUE_CLASSES)
    prior = np.array(IMIGUE_TRAIN_COUNTS, float) / sum(IMIGUE_TRAIN_COUNTS)
    counts = {"train": train_counts(preset.clips[0], preset.min_train)}
    for split, n in zip(SPLIT_NAMES[1:], preset.clips[1:], strict=True):
        counts[split] = rng.multinomial(n, prior)
    n_subj = sum(preset.subjects)
    names = rng.permutation(n_subj) + 1
    subjects, subject_split = [], []
    for split, ns in zip(SPLIT_NAMES, preset.subjects, strict=True):
        for j in range(ns):
            i = len(subjects)
            srng = np.random.default_rng([seed, 1, i])
            subjects.append(sample_subject(srng, f"S{names[i]:02d}", knobs, hat=True if j == 0 else None))
            subject_split.append(split)
    affinity = np.exp(0.7 * knobs.subject_var * rng.standard_normal((n_subj, k)))
    activity = rng.uniform(0.6, 1.4, n_subj)
    hat = IMIGUE_CLASSES.index("touch hat")
    plan = Plan(preset=preset, seed=seed, subjects=subjects, subject_split=subject_split)
    per_subject: dict[int, list[int]] = {i: [] for i in range(n_subj)}
    for split in SPLIT_NAMES:
        members = np.array([i for i in range(n_subj) if subject_split[i] == split])
        for c in range(k):
            w = affinity[members, c] * activity[members]
            if c == hat:
                w = w * np.array([subjects[i].hat for i in members])
            for s in rng.choice(members, size=int(counts[split][c]), p=w / w.sum()):
                per_subject[int(s)].append(c)
    videos = []
    for i in range(n_subj):
        labels = list(rng.permutation(per_subject[i]))
        while labels:
            spread = rng.lognormal(0.0, preset.video_sigma) if preset.video_sigma else rng.uniform(0.5, 1.5)
            m = max(1, int(round(preset.clips_per_video * spread)))
            videos.append((i, [int(x) for x in labels[:m]]))
            labels = labels[m:]
    ids = rng.permutation(len(videos)) + 1
    for (i, labels), vid in sorted(zip(videos, ids, strict=True), key=lambda x: x[1]):
        plan.videos.append(VideoPlan(f"{vid:04d}", i, subject_split[i], labels, int(vid)))
    return plan
