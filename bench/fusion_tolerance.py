"""Temperature fusion of trained runs: the plain val maximum (tolerance 0) and the one-standard-error band with its
ties broken toward equal weights or by likelihood.

Each RUN is a `microgesture train` directory holding preds_val.npz and preds_test.npz (or a study's branch runs):

    .venv/bin/python bench/fusion_tolerance.py runs/joint runs/heatmap runs/rgb
"""

from __future__ import annotations

import argparse
from pathlib import Path

from microgesture.fusion import FusionConfig, fuse
from microgesture.metrics import classification_report
from microgesture.predictions import load_predictions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--step", type=float, default=0.05)
    args = ap.parse_args()
    val = [load_predictions(Path(r) / "preds_val.npz") for r in args.runs]
    test = [load_predictions(Path(r) / "preds_test.npz") for r in args.runs]
    names = [Path(r).name for r in args.runs]
    print("| model / fusion | weights | val top-1 | val macro-F1 | test top-1 | test macro-F1 |")
    print("|---|---|---:|---:|---:|---:|")
    for n, v, t in zip(names, val, test, strict=True):
        rv, rt = (classification_report(p.logits, p.labels, p.classes) for p in (v, t))
        print(f"| {n} | - | {100 * rv['top1']:.1f} | {100 * rv['macro_f1']:.1f} | {100 * rt['top1']:.1f} | "
              f"{100 * rt['macro_f1']:.1f} |")
    for tol, tie in ((0.0, "likelihood"), ("se", "equal"), ("se", "likelihood")):
        res = fuse(val, test, method="temperature", names=names,
                   config=FusionConfig(step=args.step, tolerance=tol, tie_break=tie))
        rv, rt = (classification_report(p.logits, p.labels, p.classes) for p in (res.val, res.test))
        w = ", ".join(f"{v:.2f}" for v in res.params["weights"].values())
        print(f"| temperature, tolerance {tol}, ties to {tie} | {w} | {100 * rv['top1']:.1f} | "
              f"{100 * rv['macro_f1']:.1f} | {100 * rt['top1']:.1f} | {100 * rt['macro_f1']:.1f} |")


if __name__ == "__main__":
    main()
