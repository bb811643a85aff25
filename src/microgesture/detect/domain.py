"""Does the footage look like the model's training domain? A detector trained on seated, upper-body, front-facing
clips scores anything it is given; on footage without such a person its events mean nothing, and the user should
be told so once, in words.

Three signs, each measured on the skeleton and the window scores the detector already has:

* no person: fewer than half of the windows show one (the detector skips them);
* most joints missing: in frames with a person, fewer than half of the upper body's joints (nose, neck, shoulders,
  elbows, wrists, mid-hip, eyes, ears of OpenPose BODY-25) are detected on average: not a seated upper body facing
  the camera;
* low scores: the top decile of the windows' top-class probabilities is below the 10th percentile of the model's own
  top-class probabilities on its validation split (``preds_val.npz`` beside the checkpoint), i.e. the best windows
  are less confident than nine in ten validation clips. Without that file the level is not known and this sign is
  not used.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["UPPER_BODY", "score_level", "domain_warning"]

UPPER_BODY = (0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 17, 18)  # OpenPose BODY-25 indices of a seated upper body
MIN_PERSON = 0.5  # fraction of windows with a person
MIN_JOINTS = 0.5  # mean fraction of UPPER_BODY detected in frames with a person


def score_level(model: str | os.PathLike, *, quantile: float = 0.1) -> float | None:
    """The ``quantile`` of the max class probability over the validation clips of the run ``model`` belongs to
    (a run directory, or a checkpoint inside one); None without ``preds_val.npz``."""
    p = Path(model)
    run = p if p.is_dir() else p.parent
    for cand in (run / "preds_val.npz", run.parent / "preds_val.npz"):  # model.ckpt, or checkpoints/last.ckpt
        if cand.is_file():
            from microgesture.predictions import load_predictions

            probs = load_predictions(cand).probs()
            return float(np.quantile(probs.max(axis=1), quantile)) if len(probs) else None
    return None


def domain_warning(keypoints: np.ndarray, probs: np.ndarray, valid: np.ndarray | None, *,
                   level: float | None) -> str | None:
    """One sentence saying why the footage does not look like the training domain, or None when it does.

    Args:
        keypoints: (T, 137, 3) OpenPose-137 skeleton of the footage.
        probs: (N, K) window probabilities (all-zero rows for windows without a person).
        valid: (N,) which windows show a person (None: all).
        level: :func:`score_level` of the model, or None.
    """
    kp = np.asarray(keypoints)
    n = len(probs)
    valid = np.ones(n, bool) if valid is None else np.asarray(valid, bool)
    person = (kp[..., 2] > 0).any(axis=1)
    if n == 0 or valid.mean() < MIN_PERSON:
        return (f"no person in {100 * (1 - (valid.mean() if n else 0)):.0f}% of the windows: the footage does not "
                "look like the training domain (one seated person); events are unreliable")
    upper = (kp[person][:, UPPER_BODY, 2] > 0).mean() if person.any() else 0.0
    if upper < MIN_JOINTS:
        return (f"only {100 * upper:.0f}% of the upper-body joints are detected where a person is seen: the footage "
                "does not look like the training domain (a seated upper body facing the camera); events are "
                "unreliable")
    if level is not None:
        top = float(np.quantile(probs[valid].max(axis=1), 0.9))
        if top < level:
            return (f"window scores are low (top decile {top:.2f} < {level:.2f}, the 10th percentile on the model's "
                    "validation clips): the footage does not look like the training domain; events are unreliable")
    return None
