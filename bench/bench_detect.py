"""Untrimmed detection on the synthetic benchmark: event F1 at temporal IoU 0.1/0.3/0.5 and detection speed.

Steps (each skipped when its finished output exists in --work; ``--overwrite`` redoes every step, replacing what is
there, e.g. after changing --epochs, --preset, --minutes or --count; a training run left unfinished by a killed bench is
restarted):
  1. the synthetic dataset (--preset, default small; skeletons only);
  2. a short CPU training run of the joint-dstcnn branch (narrow widths, few epochs) unless --model is given;
  3. --count untrimmed recordings of --minutes minutes with new subjects (microgesture data synth-untrimmed);
  4. offline detection of every recording for each --windows length: pooled event F1 (background = the non-MG class,
     left out of the ground truth too) with the default settings, and with window / smoothing / min_score tuned on
     --tune-count separate validation recordings (seed + 1), without and with the --baseline contrast, each choice
     then applied once to the test recordings; frames/s of offline detection and of the streaming OnlineDetector
     (with the last tuned setting).

    .venv/bin/python bench/bench_detect.py --work runs/bench_detect [--epochs 8] [--threads 1] [--overwrite]

Speed is measured with ``torch.set_num_threads(--threads)``; the real-time target is 25 frames/s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np


def train(dataset: Path, out: Path, *, epochs: int, seed: int, overwrite: bool) -> None:
    from microgesture.train import fit, resolve_config

    over = {
        "input": {"layout": "aim68", "clip_len": 24, "num_test_clips": 1, "flip_test": True},
        "model": {"channels": [16, 16, 32, 32, 64, 64], "temporal_strides": [1, 1, 2, 1, 2, 1]},
        "optim": {"lr": 0.003},
        "train": {"epochs": epochs, "batch_size": 32, "num_workers": 1},
    }
    cfg = resolve_config(branch="joint-dstcnn", dataset=str(dataset), overrides=over, seed=seed)
    t0 = time.perf_counter()
    fit(cfg, out=out, progress=False, overwrite=overwrite)
    print(f"trained {out} in {time.perf_counter() - t0:.0f} s")


def pooled(reports: list[dict]) -> dict:
    out = {}
    for iou in reports[0]:
        tp, fp, fn = (sum(r[iou][k] for r in reports) for k in ("tp", "fp", "fn"))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        out[iou] = {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r,
                    "f1": 2 * p * r / (p + r) if p + r else 0.0}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default="runs/bench_detect")
    ap.add_argument("--model", default=None, help="a trained skeleton run (skips steps 1-2)")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--untrimmed-seed", type=int, default=100)
    ap.add_argument("--count", type=int, default=4, help="test recordings")
    ap.add_argument("--tune-count", type=int, default=4, help="validation recordings (seed + 1) for tuning")
    ap.add_argument("--baseline", type=float, default=30.0, help="baseline seconds of the contrast setting")
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--windows", default="1.0,1.5,2.0", help="window lengths (s) to evaluate")
    ap.add_argument("--stride", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--overwrite", action="store_true", help="redo every step in --work (dataset, training, "
                    "recordings) instead of reusing the finished ones")
    a = ap.parse_args()

    import torch

    from microgesture.data.synth import generate
    from microgesture.data.synth.untrimmed import generate_untrimmed
    from microgesture.detect import DetectConfig, WindowScorer, background_labels, detect, event_report, read_events
    from microgesture.online import OnlineDetector
    from microgesture.pose import load_pose

    torch.set_num_threads(a.threads)
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs visible, torch {torch.__version__}, "
          f"{a.threads} torch thread(s), no GPU used")
    model = Path(a.model) if a.model else work / "run-joint"
    if not a.model:
        ds = work / a.preset
        if a.overwrite or not ds.is_dir():
            t0 = time.perf_counter()
            generate(ds, preset=a.preset, seed=a.seed, video=False, overwrite=True)
            print(f"generated {ds} in {time.perf_counter() - t0:.0f} s")
        if a.overwrite or not (model / "model.ckpt").is_file():
            # the bench's own run folder: a finished run is replaced only with --overwrite, a started one always
            train(ds, model, epochs=a.epochs, seed=a.seed, overwrite=True)
        else:
            print(f"reusing the trained {model} (--overwrite retrains)")
    metrics = json.loads((model / "metrics.json").read_text())
    print("clip classification of the model: " + ", ".join(
        f"{s} top-1 {100 * metrics[s]['top1']:.1f}% macro-F1 {100 * metrics[s]['macro_f1']:.1f}%"
        for s in ("val", "test") if metrics.get(s, {}).get("n")))

    def recordings(seed: int, count: int):
        un = work / f"untrimmed-{seed}"
        if a.overwrite or not (un / "untrimmed.json").is_file():
            generate_untrimmed(un, seed=seed, minutes=a.minutes, count=count, preset=a.preset, overwrite=True)
        names = [r["name"] for r in json.loads((un / "untrimmed.json").read_text())["recordings"]]
        poses = [load_pose(un / f"{n}.npz") for n in names]
        return poses, [read_events(un / f"{n}_gt.csv", fps=p.fps) for n, p in zip(names, poses, strict=True)]

    scorer = WindowScorer(model)
    bg = background_labels(scorer.classes, None)
    sets = {"val": recordings(a.untrimmed_seed + 1, a.tune_count), "test": recordings(a.untrimmed_seed, a.count)}
    for split, (poses, gts) in sets.items():
        frames = sum(p.num_frames for p in poses)
        n_gt = sum(sum(g.label not in bg for g in gt) for gt in gts)
        print(f"untrimmed {split}: {len(poses)} recordings, {frames} frames ({frames / poses[0].fps / 60:.1f} min), "
              f"{n_gt} micro-gesture events (+ {sum(map(len, gts)) - n_gt} non-MG = background)")

    def score(dets, gts, cfg) -> dict:
        return pooled([event_report(d.resegment(cfg), g, background=bg) for d, g in zip(dets, gts, strict=True)])

    def line(name: str, cfg: DetectConfig, rep: dict, n: int) -> str:
        return (f"{name}: window {cfg.window:g} s, stride {cfg.stride:g} s, smooth {cfg.smooth}, min_score "
                f"{cfg.min_score:g}, baseline {cfg.baseline:g} s: {n} events; " + "; ".join(
                    f"IoU {k}: F1 {v['f1']:.3f} (P {v['precision']:.2f} R {v['recall']:.2f})" for k, v in rep.items()))

    windows = [float(x) for x in a.windows.split(",")]
    dets: dict[str, dict[float, list]] = {"val": {}, "test": {}}
    speed = []
    for split, (poses, _) in sets.items():
        for w in windows:
            t0 = time.perf_counter()
            dets[split][w] = [detect(scorer, p.keypoints, fps=p.fps, config=DetectConfig(window=w, stride=a.stride))
                              for p in poses]
            speed.append(sum(p.num_frames for p in poses) / (time.perf_counter() - t0))
    print(f"offline detection: {min(speed):.0f}-{max(speed):.0f} frames/s (scoring every window, {len(speed)} runs)")
    # what the classifier says on idle windows (under 30% of their frames inside a ground-truth event)
    w0 = windows[0]
    idle_top, idle_p = [], []
    for d, gt in zip(dets["test"][w0], sets["test"][1], strict=True):
        inside = np.zeros(d.num_frames, bool)
        for g in gt:
            inside[g.start:g.end + 1] = True
        for start, p, ok in zip(d.starts, d.probs, d.valid, strict=True):
            if ok and inside[start:start + d.window].mean() < 0.3:
                idle_top.append(int(p.argmax()))
                idle_p.append(float(p.max()))
    if idle_top:
        c = np.bincount(idle_top).argmax()
        print(f"idle test windows ({w0:g} s): top class '{scorer.classes[c]}' in {idle_top.count(c)}/{len(idle_top)}, "
              f"median top probability {np.median(idle_p):.2f}")
    default = DetectConfig(stride=a.stride)
    rep = score(dets["test"][default.window], sets["test"][1], default) if default.window in windows else None
    if rep:
        n = sum(len(d.resegment(default)) for d in dets["test"][default.window])
        print(line("test, defaults", default, rep, n))
    # tune window, smoothing and min_score on the validation recordings only (mean F1 over the IoUs), without and
    # with the baseline contrast, then apply each choice once to the test recordings
    best = default
    for base in (0.0, a.baseline):
        grid = [DetectConfig(window=w, stride=a.stride, smooth=k, min_score=m, baseline=base) for w in windows
                for k in (1, 3, 5) for m in (0.1, 0.15, 0.2, 0.3, 0.4, 0.5)]
        val = [(np.mean([v["f1"] for v in score(dets["val"][c.window], sets["val"][1], c).values()]), i)
               for i, c in enumerate(grid)]
        top = grid[max(val)[1]]
        rep = score(dets["test"][top.window], sets["test"][1], top)
        n = sum(len(d.resegment(top)) for d in dets["test"][top.window])
        print(f"baseline {base:g} s: best of {len(grid)} settings on val, mean F1 {max(val)[0]:.3f}")
        print(line(f"test, baseline {base:g} s, tuned on val", top, rep, n))
        best = top
    poses = sets["test"][0]
    cfg = best
    online = OnlineDetector(scorer, fps=poses[0].fps, config=cfg)
    kp = poses[0].keypoints
    t0 = time.perf_counter()
    for f in kp:
        online.push(f)
    online.flush()
    dt = time.perf_counter() - t0
    print(f"online (window {cfg.window} s, frame by frame): {len(kp) / dt:.0f} frames/s "
          f"({1000 * dt / max(1, online.windows):.1f} ms per window)")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
