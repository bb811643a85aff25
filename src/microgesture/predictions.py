"""The predictions contract: what every branch writes and what fusion and pseudo-labelling read.

An ``.npz`` file (no pickle) with:
    clip_ids  (N,) unicode    the dataset's clip ids, unique
    logits    (N, K) float32  per-clip class scores; softmax(logits) are the branch's probabilities
    labels    (N,) int64      ground truth, -1 where unknown
    classes   (K,) unicode    class names, in label order
    meta      () unicode      JSON: branch, checkpoint, dataset, split, anything else worth keeping

Joining is always by clip id: :func:`align` refuses files whose ids or class lists do not line up, naming the file and
the first offending id (2s-AGCN users lost 90 points fusing score files in different orders).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from microgesture.atomic import atomic_path

__all__ = ["Predictions", "save_predictions", "load_predictions", "align", "PredictionsError"]


class PredictionsError(ValueError):
    """Predictions that cannot be read or joined; the message names the file and the first offending id."""


@dataclass
class Predictions:
    clip_ids: np.ndarray
    logits: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    meta: dict = field(default_factory=dict)
    source: str = ""  # where it was loaded from, for messages

    def __post_init__(self) -> None:
        self.clip_ids = np.asarray(self.clip_ids).astype(str)
        self.logits = np.asarray(self.logits, dtype=np.float32)
        self.labels = np.asarray(self.labels, dtype=np.int64)
        self.classes = tuple(str(c) for c in self.classes)
        name = self.source or "predictions"
        n = len(self.clip_ids)
        if self.logits.ndim != 2 or self.logits.shape != (n, len(self.classes)):
            raise PredictionsError(
                f"{name}: logits shape {self.logits.shape} does not match {n} clips x {len(self.classes)} classes"
            )
        if self.labels.shape != (n,):
            raise PredictionsError(f"{name}: {self.labels.shape[0]} labels for {n} clips")
        if len(set(self.clip_ids.tolist())) != n:
            _, idx, counts = np.unique(self.clip_ids, return_index=True, return_counts=True)
            raise PredictionsError(f"{name}: duplicate clip id {self.clip_ids[idx[counts > 1][0]]!r}")
        if not np.isfinite(self.logits).all():
            bad = self.clip_ids[~np.isfinite(self.logits).all(axis=1)][0]
            raise PredictionsError(f"{name}: non-finite logits for clip {bad!r}")
        bad = (self.labels < -1) | (self.labels >= len(self.classes))
        if bad.any():
            lab, cid = self.labels[bad][0], self.clip_ids[bad][0]
            raise PredictionsError(f"{name}: label {lab} of clip {cid!r} out of range")

    def __len__(self) -> int:
        return len(self.clip_ids)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def probs(self, temperature: float = 1.0) -> np.ndarray:
        z = self.logits.astype(np.float64) / temperature
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def subset(self, clip_ids) -> Predictions:
        """Rows for ``clip_ids`` in that order; raises naming the first id that is missing."""
        pos = {c: i for i, c in enumerate(self.clip_ids.tolist())}
        idx = []
        for c in clip_ids:
            if c not in pos:
                raise PredictionsError(f"{self.source or 'predictions'}: no prediction for clip {c!r}")
            idx.append(pos[c])
        idx = np.asarray(idx, dtype=np.int64)
        return Predictions(self.clip_ids[idx], self.logits[idx], self.labels[idx], self.classes, dict(self.meta),
                           self.source)


def save_predictions(path: str | os.PathLike, p: Predictions) -> Path:
    """Write ``p`` to ``path`` (.npz) atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        np.savez_compressed(
            tmp,
            clip_ids=np.asarray(p.clip_ids, dtype=str),
            logits=p.logits,
            labels=p.labels,
            classes=np.asarray(p.classes, dtype=str),
            meta=np.asarray(json.dumps(p.meta, default=str)),
        )
    return path


def load_predictions(path: str | os.PathLike) -> Predictions:
    path = Path(path)
    if not path.is_file():
        raise PredictionsError(f"{path}: not found")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("clip_ids", "logits", "labels", "classes") if k not in z.files]
            if missing:
                raise PredictionsError(f"{path}: missing arrays {', '.join(missing)}")
            meta = json.loads(str(z["meta"])) if "meta" in z.files else {}
            return Predictions(z["clip_ids"], z["logits"], z["labels"], tuple(z["classes"].tolist()), meta, str(path))
    except (OSError, ValueError) as e:
        if isinstance(e, PredictionsError):
            raise
        raise PredictionsError(f"{path}: unreadable predictions file ({e})") from None


def align(preds: list[Predictions], *, reference_ids=None) -> list[Predictions]:
    """Reorder every file to the first file's clip order (or ``reference_ids``).

    Refuses files whose class lists differ, whose id sets differ, or whose labels disagree, naming the file and the
    first clip id that is missing or extra.
    """
    if not preds:
        raise PredictionsError("no predictions to align")
    ref = preds[0]
    ids = list(reference_ids) if reference_ids is not None else ref.clip_ids.tolist()
    want = set(ids)
    out = []
    for p in preds:
        name = p.source or "predictions"
        if p.classes != ref.classes:
            raise PredictionsError(f"{name}: class list differs from {ref.source or 'the first file'}")
        have = set(p.clip_ids.tolist())
        if have != want:
            missing = [c for c in ids if c not in have]
            extra = [c for c in p.clip_ids.tolist() if c not in want]
            what = f"lacks clip {missing[0]!r}" if missing else f"has extra clip {extra[0]!r}"
            raise PredictionsError(f"{name}: {what} ({len(missing)} missing, {len(extra)} extra)")
        q = p.subset(ids)
        if out and not np.array_equal(q.labels, out[0].labels):
            k = int(np.flatnonzero(q.labels != out[0].labels)[0])
            raise PredictionsError(f"{name}: label of clip {ids[k]!r} disagrees with {out[0].source or 'first file'}")
        out.append(q)
    return out
