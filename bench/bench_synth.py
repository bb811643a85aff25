"""Generation time of the synthetic benchmark per preset, and a linear probe of how separable its classes are.

Times ``microgesture.data.synth.generate`` for each preset into a temporary directory (tiny and small with video, full
without by default) and prints clips, frames, size on disk and wall time, with the machine's CPU count and load
average (the 2-core container is shared with other jobs, so wall times vary with the load).

``--probe`` fits a multinomial logistic regression on simple per-clip skeleton features (joints centred on the neck and
scaled by the shoulder width, resampled to 16 frames, plus per-joint speed) of the small preset's train split and
reports top-1 and macro-F1 on its test split for several layouts. It is a sanity check of the benchmark's design
(learnable, not saturated, face points help), not a result of any microgesture branch.

    .venv/bin/python bench/bench_synth.py [--presets tiny,small,full] [--video tiny,small] [--workers 1] [--probe]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from microgesture.data.format import Dataset
from microgesture.data.synth import PRESETS, generate
from microgesture.layouts import get_layout

WATCH = ("bite/press lips", "cross fingers", "rub/hold hands", "shake shoulders")  # classes designed to need detail


def _size(root: Path) -> float:
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) / 2**20


def time_preset(name: str, root: Path, *, video: bool, workers: int, seed: int) -> Path:
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    c0 = time.process_time()
    generate(root, preset=name, seed=seed, video=video, workers=workers)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    ds = Dataset.open(root)
    frames = sum(c.num_frames for c in ds)
    splits = "/".join(str(len(ds.split(s))) for s in ("train", "val", "test"))
    print(f"{name:5s} video={'yes' if video else 'no ':3s} workers={workers}: {len(ds)} clips ({splits}), "
          f"{frames} clip frames, {_size(root):.0f} MiB, wall {wall:.1f} s (main-process CPU {cpu:.1f} s), "
          f"load average {load0:.1f} -> {os.getloadavg()[0]:.1f}")  # fmt: skip
    return root


def features(ds: Dataset, layout: str, clips) -> np.ndarray:
    """(N, F): neck-centred, shoulder-scaled joints at 16 uniform times (x, y, conf) and mean per-joint speed."""
    lay = get_layout(layout)
    out = []
    for c in clips:
        s = ds.skeleton(c, layout=layout)
        xy, conf = s[..., :2], s[..., 2]
        ok = conf > 0
        centre_j = lay.center[0]
        centre = np.where(ok[:, centre_j, None], xy[:, centre_j], np.nan)
        centre = np.where(np.isnan(centre), np.nanmean(centre, axis=0) if ok[:, centre_j].any() else 0.0, centre)
        r, lft = lay.shoulders
        both = ok[:, r] & ok[:, lft]
        scale = np.median(np.linalg.norm(xy[both, r] - xy[both, lft], axis=-1)) if both.any() else 1.0
        norm = np.where(ok[..., None], (xy - centre[:, None]) / max(scale, 1e-3), 0.0)
        idx = np.linspace(0, len(s) - 1, 16).round().astype(int)
        speed = np.abs(np.diff(norm, axis=0)).sum(-1).mean(0) if len(s) > 1 else np.zeros(lay.num_joints)
        out.append(np.concatenate([norm[idx].ravel(), conf[idx].ravel(), speed]))
    return np.asarray(out, np.float32)


def probe(root: Path, layouts: list[str]) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.preprocessing import StandardScaler

    ds = Dataset.open(root)
    train, test = ds.split("train"), ds.split("test")
    y_tr, y_te = np.array([c.label for c in train]), np.array([c.label for c in test])
    major = np.bincount(y_tr).argmax()
    print(f"probe on {root.name}: {len(train)} train / {len(test)} test clips; majority class gives top-1 "
          f"{(y_te == major).mean():.3f}")  # fmt: skip
    for layout in layouts:
        t0 = time.perf_counter()
        sc = StandardScaler().fit(features(ds, layout, train))
        clf = LogisticRegression(max_iter=500, C=0.05)
        clf.fit(sc.transform(features(ds, layout, train)), y_tr)
        pred = clf.predict(sc.transform(features(ds, layout, test)))
        recall = {n: (pred[y_te == ds.classes.index(n)] == ds.classes.index(n)).mean() for n in WATCH}
        print(f"  {layout:11s} top-1 {(pred == y_te).mean():.3f}  macro-F1 {f1_score(y_te, pred, average='macro'):.3f}"
              f"  recall: " + ", ".join(f"{n} {r:.2f}" for n, r in recall.items())
              + f"  ({time.perf_counter() - t0:.0f} s)")  # fmt: skip


def lip_cues(root: Path) -> None:
    """AUC of single mouth cues for "bite/press lips" against every other clip (all splits, no training).

    The press rolls the upper lip in: its thickness (face 51 to the inner lip, face 62: aim68 has both points, mmg36
    lacks 62) shrinks, while idle lip motion moves 51 and 62 together; the outer mouth height (51 to 57, in both
    layouts) also drops, but so it does in idle motion.
    """
    from sklearn.metrics import roc_auc_score

    from microgesture.layouts import FACE0

    ds = Dataset.open(root)
    target = ds.classes.index("bite/press lips")
    y, cues = [], {"upper lip 51-62 (aim68 only)": [], "mouth height 51-57 (aim68 and mmg36)": []}
    for c in ds:
        face = ds.skeleton(c)[:, FACE0 : FACE0 + 70]
        fw = np.linalg.norm(face[:, 16, :2] - face[:, 0, :2], axis=-1)
        ok = (face[:, [51, 57, 62], 2] > 0).all(-1) & (fw > 0)
        if ok.sum() < 2:
            continue
        fw = np.median(fw[ok])
        y.append(c.label == target)
        for name, k in zip(cues, (62, 57), strict=True):  # thinner in the 20th-percentile frame = higher score
            cues[name].append(-np.percentile((face[ok, k, 1] - face[ok, 51, 1]) / fw, 20))
    print(f"lip cues on {root.name} ({sum(y)} bite/press lips clips of {len(y)}):")
    for name, v in cues.items():
        print(f"  {name}: AUC {roc_auc_score(y, v):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default="tiny,small,full")
    ap.add_argument("--video", default="tiny,small", help="presets rendered with video")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--probe", action="store_true", help="linear probe on the small preset's skeletons")
    ap.add_argument("--layouts", default="aim68,mmg36,miga22")
    args = ap.parse_args()
    print(f"{platform.platform()}, {os.cpu_count()} CPUs, python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="microgesture-bench-synth-") as tmp:
        done = {}
        for name in [p for p in args.presets.split(",") if p]:
            if name not in PRESETS:
                raise SystemExit(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
            done[name] = time_preset(name, Path(tmp) / name, video=name in args.video.split(","),
                                     workers=args.workers, seed=args.seed)  # fmt: skip
        if args.probe:
            root = done.get("small") or time_preset("small", Path(tmp) / "small", video=False, workers=args.workers,
                                                    seed=args.seed)  # fmt: skip
            lip_cues(root)
            probe(root, args.layouts.split(","))


if __name__ == "__main__":
    main()
