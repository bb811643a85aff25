"""Reproducible subject-disjoint splits with class distributions as close as possible across splits.

``subject:0.7,0.05,0.25`` assigns whole subjects (so every clip of a video, overlapping ones included, lands in one
split, and no person is in two) to train/val/test. Subjects are placed one at a time, largest first (ties broken by
the seed), each where it brings the split sizes closest to the target fractions and the splits' class distributions
closest to the whole set's; a few seeded orders are tried and the one with the smallest largest per-class share
difference, at sizes within tolerance of the targets, is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["SplitSpec", "parse_split", "subject_split", "class_share_difference"]

SPLIT_NAMES = ("train", "val", "test")
_TRIES = 16  # seeded subject orders tried; the best is kept (cheap: subjects, not clips, are placed)


@dataclass(frozen=True)
class SplitSpec:
    """``subject:TRAIN,VAL,TEST`` fractions (summing to 1) and the seed."""

    fractions: tuple[float, float, float]
    seed: int = 0

    def __post_init__(self) -> None:
        if len(self.fractions) != 3 or any(f < 0 for f in self.fractions) or abs(sum(self.fractions) - 1) > 1e-6:
            raise ValueError(f"split fractions must be three numbers >= 0 summing to 1, got {self.fractions}")


def parse_split(text: str, seed: int = 0) -> SplitSpec:
    """Parse ``subject:0.7,0.05,0.25`` (the only method: splits are by subject)."""
    method, sep, rest = text.partition(":")
    if method.strip() != "subject" or not sep:
        raise ValueError(f"--split {text!r}: expected subject:TRAIN,VAL,TEST, e.g. subject:0.7,0.05,0.25")
    try:
        fr = tuple(float(x) for x in rest.split(","))
    except ValueError:
        raise ValueError(f"--split {text!r}: fractions must be numbers, e.g. subject:0.7,0.05,0.25") from None
    if len(fr) != 3:
        raise ValueError(f"--split {text!r}: give three fractions (train, val, test)")
    return SplitSpec(fractions=fr, seed=seed)  # type: ignore[arg-type]


@dataclass
class SplitResult:
    """Subject -> split, and what the split achieved (recorded in the dataset header)."""

    of_subject: dict[str, str]
    clips: dict[str, int] = field(default_factory=dict)
    subjects: dict[str, int] = field(default_factory=dict)
    max_class_share_diff: float = 0.0
    worst_class: int = -1

    def to_json(self, spec: SplitSpec) -> dict:
        return {"method": "subject", "fractions": list(spec.fractions), "seed": spec.seed, "clips": self.clips,
                "subjects": self.subjects, "max_class_share_diff": round(self.max_class_share_diff, 4),
                "worst_class": self.worst_class}


def class_share_difference(counts: np.ndarray) -> tuple[float, int]:
    """Largest difference, over classes, between two non-empty splits' shares of that class, and the class.

    ``counts`` is (splits, K); a split's share of class k is its clips of class k over its clips.
    """
    sizes = counts.sum(1)
    shares = counts[sizes > 0] / sizes[sizes > 0, None]
    if len(shares) < 2:
        return 0.0, -1
    spread = shares.max(0) - shares.min(0)
    k = int(np.argmax(spread))
    return float(spread[k]), k


def subject_split(labels_of: Mapping[str, Sequence[int]], num_classes: int, spec: SplitSpec) -> SplitResult:
    """Assign each subject (-> its clips' labels; -1 = unknown, counted for size only) to train/val/test."""
    subjects = sorted(labels_of)
    if not subjects:
        raise ValueError("no subjects to split")
    hist = np.zeros((len(subjects), num_classes + 1))
    for i, s in enumerate(subjects):
        for lab in labels_of[s]:
            hist[i, lab if 0 <= lab < num_classes else num_classes] += 1
    target = np.asarray(spec.fractions)
    total = hist.sum(0)
    want = target[:, None] * total[None, :]  # expected clips of each class in each split
    best: tuple[float, np.ndarray] | None = None
    for attempt in range(_TRIES):
        rng = np.random.default_rng([spec.seed, attempt])
        order = np.lexsort((rng.random(len(subjects)), -hist.sum(1)))  # largest first, seeded ties
        if attempt:  # later tries perturb the order a little so the greedy can escape a poor first choice
            order = order[np.argsort(np.arange(len(order)) + rng.normal(0, 2.0, len(order)))]
        cur = np.zeros((3, num_classes + 1))
        where = np.empty(len(subjects), np.int64)
        for i in order:
            costs = []
            for s in range(3):
                if target[s] == 0:
                    costs.append(np.inf)
                    continue
                trial = cur.copy()
                trial[s] += hist[i]
                size_dev = np.abs(trial.sum(1) - target * (cur.sum() + hist[i].sum())).sum()
                class_dev = (np.abs(trial[:, :num_classes] - want[:, :num_classes] * (cur.sum() + hist[i].sum())
                                    / total.sum())).sum()
                costs.append(2.0 * size_dev + class_dev)
            s = int(np.argmin(costs))
            cur[s] += hist[i]
            where[i] = s
        diff, _ = class_share_difference(cur[:, :num_classes])
        size_err = np.abs(cur.sum(1) / cur.sum() - target).max()
        score = diff + 4.0 * size_err
        if best is None or score < best[0]:
            best = (score, where.copy())
    assert best is not None
    where = best[1]
    counts = np.zeros((3, num_classes))
    res = SplitResult(of_subject={s: SPLIT_NAMES[where[i]] for i, s in enumerate(subjects)})
    for i in range(len(subjects)):
        counts[where[i]] += hist[i, :num_classes]
    for s, name in enumerate(SPLIT_NAMES):
        res.clips[name] = int(hist[where == s].sum())
        res.subjects[name] = int((where == s).sum())
    res.max_class_share_diff, res.worst_class = class_share_difference(counts)
    return res
