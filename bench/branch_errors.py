"""Where a trained branch goes wrong: its test errors by true class, its commonest confusions, its recall on its own
training clips, and its test F1 on named classes.

A branch that also misses a class on the clips it trained on underfits it; one that only misses it on test does not
generalise to the unseen subjects. Reads the run directory's ``preds_test.npz`` (and ``preds_train.npz`` when the run
wrote it, ``train.predict_train``).

    .venv/bin/python bench/branch_errors.py runs/study_seeds/seed0/branches/joint
    .venv/bin/python bench/branch_errors.py RUN --classes "bite/press lips" "play with objects" --top 5
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from microgesture.metrics import classification_report
from microgesture.predictions import load_predictions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="a branch's run directory (preds_test.npz, optionally preds_train.npz)")
    ap.add_argument("--top", type=int, default=8, help="how many classes and confusions to list")
    ap.add_argument("--classes", nargs="*", default=[], help="classes whose test F1 and train recall to print")
    args = ap.parse_args()
    run = Path(args.run)
    test = load_predictions(run / "preds_test.npz")
    cls, y = test.classes, test.labels
    keep = y >= 0
    pred, y = test.logits.argmax(1)[keep], y[keep]
    wrong = pred != y
    print(f"{run}: {int(wrong.sum())} of {len(y)} test clips wrong (top-1 {100 * (1 - wrong.mean()):.1f} %)")
    print("- errors by true class: " + "; ".join(
        f"{cls[c]} {n} of {int((y == c).sum())}" for c, n in Counter(y[wrong].tolist()).most_common(args.top)))
    print("- confusions (true -> predicted): " + "; ".join(
        f"{cls[a]} -> {cls[b]} {n}" for (a, b), n in
        Counter(zip(y[wrong].tolist(), pred[wrong].tolist(), strict=True)).most_common(args.top)))
    train_file = run / "preds_train.npz"
    recall = {}
    if train_file.is_file():
        tr = load_predictions(train_file)
        ok = tr.labels >= 0
        ty, tp = tr.labels[ok], tr.logits.argmax(1)[ok]
        recall = {c: float((tp[ty == i] == i).mean()) for i, c in enumerate(cls) if (ty == i).any()}
    rep = classification_report(test.logits[keep], y, cls)["per_class"]
    for c in args.classes:
        if c not in cls:
            raise SystemExit(f"error: {c!r} is not a class of {run} (classes: {', '.join(cls)})")
        r = f", train recall {100 * recall[c]:.0f} %" if c in recall else ""
        print(f"- {c}: test F1 {rep[c]['f1']:.2f} (support {rep[c]['support']}){r}")
    if not args.classes and recall:
        low = sorted(recall, key=recall.get)[: args.top]
        print("- lowest train recall: " + "; ".join(f"{c} {100 * recall[c]:.0f} %" for c in low))


if __name__ == "__main__":
    main()
