"""Is the cue of the "quiet" classes in the skeletons? A linear probe on a few per-clip features.

The demo's branches put "bite/press lips", "move torso" and "deep breath" on "shake shoulders": none moves a hand.
This probe asks whether that is the data's fault or the models'. It reduces each clip to nine hand-made features
(in shoulder widths: the neck's displacement from the first to the last quarter, x and y; the shoulders' detrended
oscillation and mean speed, their range; the upper lip's thickness, face 51 to 62, median and minimum; the outer
mouth's height, face 51 to 57; the log clip length), fits a class-balanced logistic regression on the train clips of
the four classes and reports the test recall of each. Not a branch of microgesture: a sanity check of the benchmark.

    .venv/bin/python bench/probe_quiet_classes.py --dataset runs/study_seeds/data/dataset
"""

from __future__ import annotations

import argparse

import numpy as np

from microgesture.data.format import Dataset

QUIET = ("shake shoulders", "move torso", "bite/press lips", "deep breath")
FACE0 = 25  # OpenPose-137: BODY_25, then face-70


def clip_features(s: np.ndarray) -> list[float]:
    """Nine per-clip features of one (T, 137, 3) OpenPose skeleton in pixels; see the module docstring."""
    s = s.astype(np.float64)
    sh = np.linalg.norm(s[:, 2, :2] - s[:, 5, :2], axis=1)
    u = float(np.median(sh[sh > 0])) if (sh > 0).any() else 1.0
    neck = s[:, 1, :2] / u
    shoulders_y = (s[:, 2, 1] + s[:, 5, 1]) / 2 / u
    f = s[:, FACE0 : FACE0 + 70]
    lip = np.abs(f[:, 51, 1] - f[:, 62, 1]) / u
    mouth = np.abs(f[:, 51, 1] - f[:, 57, 1]) / u
    n = len(s)
    t = np.arange(n)
    detrended = shoulders_y - np.polyval(np.polyfit(t, shoulders_y, 1), t) if n > 2 else shoulders_y
    q = max(1, n // 4)
    return [neck[-q:, 1].mean() - neck[:q, 1].mean(), neck[-q:, 0].mean() - neck[:q, 0].mean(), detrended.std(),
            np.abs(np.diff(shoulders_y)).mean() if n > 1 else 0.0, shoulders_y.max() - shoulders_y.min(),
            np.median(lip), lip.min(), np.median(mouth), np.log(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", required=True, help="a microgesture dataset with the iMiGUE classes")
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression

    ds = Dataset.open(args.dataset)
    ids = [ds.classes.index(n) for n in QUIET]
    x, y = {}, {}
    for split in ("train", "test"):
        clips = [c for c in ds.split(split) if c.label in ids]
        x[split] = np.array([clip_features(ds.skeleton(c)) for c in clips])
        y[split] = np.array([ids.index(c.label) for c in clips])
    mu, sd = x["train"].mean(0), x["train"].std(0) + 1e-9
    clf = LogisticRegression(max_iter=2000, class_weight="balanced").fit((x["train"] - mu) / sd, y["train"])
    pred = clf.predict((x["test"] - mu) / sd)
    print(f"{args.dataset}: linear probe on {len(y['train'])} train clips of {len(QUIET)} classes; test accuracy "
          f"{(pred == y['test']).mean():.3f} on {len(pred)} clips")
    print("| class | test clips | test recall | train median upper-lip thickness (shoulder widths) |")
    print("|---|---:|---:|---:|")
    for k, name in enumerate(QUIET):
        m, mt = y["test"] == k, y["train"] == k
        print(f"| {name} | {m.sum()} | {(pred[m] == k).mean():.2f} | {np.median(x['train'][mt, 5]):.4f} |")


if __name__ == "__main__":
    main()
