"""Skeleton-branch ablation on a dataset (default: the synthetic `small` preset): the synthetic counterpart of AIM's
Table 2 rows (ST-GCN baseline; Decoupled ST-CNN on mmg36 vs aim68; + square-root-smoothed focal loss; + orthogonal
semantic loss). Each row is trained with several seeds; the table gives mean +- std of top-1 and macro-F1 (%).

    .venv/bin/python bench/ablation_skeleton.py --dataset runs/synth_small --seeds 0 1 2 --out runs/ablation_skeleton

The dataset is generated first if missing (`microgesture data synth DIR --preset small --seed 0 --no-video`).

``--drop-joints NAME ...`` trains every row without the named joints its layout has (a derived layout: the joints,
their edges and flip pairs removed), e.g. the mouth, to ask which cue a class is learnt from:

    .venv/bin/python bench/ablation_skeleton.py --rows 4 5 --drop-joints mouth_48 mouth_51 mouth_54 mouth_57 \
        face_48 face_51 face_54 face_57 face_62
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from microgesture.config import merge
from microgesture.layouts import get_layout, without_joints
from microgesture.multiseed import CUE_GROUPS, group_f1
from microgesture.train import fit, resolve_config

# Shared CPU-sized settings (the papers train for 100 epochs on GPUs; this is what 2 CPU cores afford).
# The DST-CNN size was the demo's until 2026-12-05 (configs/demo.yaml): early temporal and joint strides keep a run
# at a few minutes. The demo's joint now also sets input.rotate_deg=0, input.joint_dropout=0 and
# model.channels=[32,64,128,128], and feeds bones and motion only (--features bone motion): pass them to compare at
# its settings (docs/benchmarks.md, "The joint branch without rotation").
COMMON = {
    "input": {"clip_len": 32, "num_test_clips": 2},
    "train": {"epochs": 12, "batch_size": 32, "num_workers": 0},
}
DST = {"model": {"channels": [16, 32, 64, 64], "temporal_strides": [2, 2, 2, 1], "spatial_strides": [2, 2, 1, 1]},
       "optim": {"lr": 0.003}}
CE = {"loss": {"name": "ce", "class_weights": "none", "semantic_weight": 0.0}}
FOCAL = {"loss": {"name": "focal", "gamma": 2.0, "class_weights": "sqrt", "semantic_weight": 0.0}}
FOCAL_SEM = {"loss": {"name": "focal", "gamma": 2.0, "class_weights": "sqrt", "semantic_weight": 1.0}}

# Classes whose cue sits on the face (the synthetic generator's design): where a hand goes on the face, and
# "bite/press lips", whose cue the generator puts in the inner lip (aim68 has it, mmg36 lacks it). --drop-joints shows
# what a network learns them from: the hand's place, and for the lips mostly elimination (docs/benchmarks.md)
FACE_CUE = CUE_GROUPS["face keypoints"]

ROWS = [
    ("ST-GCN, mmg36, CE", "joint-stgcn",
     merge({"input": {"layout": "mmg36"}, "model": {"channels": [16, 32, 64, 64],
                                                    "temporal_strides": [2, 2, 2, 1]},
            "optim": {"name": "adamw", "lr": 0.003, "weight_decay": 1e-4}}, CE)),
    ("DST-CNN, mmg36, CE", "joint-dstcnn", merge(merge(DST, {"input": {"layout": "mmg36"}}), CE)),
    ("DST-CNN, aim68, CE", "joint-dstcnn", merge(merge(DST, {"input": {"layout": "aim68"}}), CE)),
    ("DST-CNN, aim68, sqrt focal", "joint-dstcnn", merge(merge(DST, {"input": {"layout": "aim68"}}), FOCAL)),
    ("DST-CNN, aim68, sqrt focal + semantic", "joint-dstcnn",
     merge(merge(DST, {"input": {"layout": "aim68"}}), FOCAL_SEM)),
    # the last row on 36 keypoints: the 68 vs 36 comparison under the loss that makes the face-cue classes learnable
    ("DST-CNN, mmg36, sqrt focal + semantic", "joint-dstcnn",
     merge(merge(DST, {"input": {"layout": "mmg36"}}), FOCAL_SEM)),
]


LIPS = "bite/press lips"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="runs/synth_small_nv")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--rows", type=int, nargs="*", default=None, help="indices of ROWS to run (default all)")
    ap.add_argument("--features", nargs="+", default=None,
                    help="skeleton input features for every row, e.g. joint bone motion (default: joint)")
    ap.add_argument("--set", dest="overrides", action="append", default=[],
                    help="KEY=VALUE over every row, as `microgesture train --set` (e.g. model.dropout=0)")
    ap.add_argument("--drop-joints", nargs="+", default=None,
                    help="joint names to remove from each row's layout (those it has), e.g. its mouth points")
    ap.add_argument("--out", default="runs/ablation_skeleton")
    args = ap.parse_args()
    from microgesture.config import parse_overrides

    extra = parse_overrides(args.overrides)
    ds = Path(args.dataset)
    if not ds.exists():
        from microgesture.data.synth import generate

        generate(ds, preset=args.preset, seed=0, video=False)
    out = Path(args.out)
    results: dict = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {}
    for i, (label, branch, over) in enumerate(ROWS):
        if args.rows is not None and i not in args.rows:
            continue
        if args.features:
            label = f"{label}, {'+'.join(args.features)}"
            over = merge(over, {"input": {"features": list(args.features)}})
        if extra:
            label = f"{label}, {' '.join(args.overrides)}"
            over = merge(over, extra)
        if args.drop_joints:
            try:
                lay = without_joints(over["input"]["layout"], args.drop_joints)
            except ValueError as e:
                raise SystemExit(f"--drop-joints: {e}") from None
            gone = [j for j in get_layout(over["input"]["layout"]).joints if j not in lay.joints]
            label = f"{label}, without {', '.join(gone)}"
            over = merge(over, {"input": {"layout": lay.name}})
        for seed in args.seeds:
            key = f"{label} | seed {seed}"
            if key in results:
                continue
            o = merge(COMMON, over)
            if args.epochs:
                o = merge(o, {"train": {"epochs": args.epochs}})
            cfg = resolve_config(branch=branch, dataset=str(ds), overrides=o, seed=seed)
            t0 = time.time()
            tag = f"_{'_'.join(args.features)}" if args.features else ""
            tag += "_" + hashlib.sha1(" ".join(args.overrides).encode()).hexdigest()[:8] if extra else ""
            tag += f"_{over['input']['layout']}" if args.drop_joints else ""
            m = fit(cfg, out=out / f"row{i}{tag}_seed{seed}", progress=False)
            results[key] = {s: {"top1": m[s]["top1"], "macro_f1": m[s]["macro_f1"],
                                "face_cue_f1": group_f1(m[s], FACE_CUE), "lips_f1": group_f1(m[s], (LIPS,))}
                            for s in ("val", "test") if s in m and m[s].get("n")}
            results[key]["seconds"] = time.time() - t0
            out.mkdir(parents=True, exist_ok=True)
            (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
            print(key, results[key], flush=True)
    print_table(results, args.seeds)


def print_table(results: dict, seeds: list[int]) -> None:
    print("\n| row | val top-1 | val macro-F1 | test top-1 | test macro-F1 | test F1, face-cue classes | test F1, lips "
          "| s/run |")
    print("|---|---|---|---|---|---|---|---|")
    labels = list(dict.fromkeys(k.rsplit(" | seed ", 1)[0] for k in results))  # every row run, in first-run order
    for label in labels:
        rs = [results[f"{label} | seed {s}"] for s in seeds if f"{label} | seed {s}" in results]
        if not rs:
            continue

        def ms(split: str, key: str, rs=rs) -> str:
            v = 100 * np.array([r[split][key] for r in rs if split in r and r[split].get(key) is not None])
            return f"{v.mean():.2f} +- {v.std():.2f}" if len(v) else "-"

        secs = np.mean([r["seconds"] for r in rs])
        print(f"| {label} (n={len(rs)}) | {ms('val', 'top1')} | {ms('val', 'macro_f1')} | {ms('test', 'top1')} | "
              f"{ms('test', 'macro_f1')} | {ms('test', 'face_cue_f1')} | {ms('test', 'lips_f1')} | {secs:.0f} |")


if __name__ == "__main__":
    main()
