"""What training costs on this machine: each branch's CPU-sized variant (``train --size cpu``, the demo's sizes) trained
in full (time, test accuracy), and its GPU-sized recipe estimated: a few training steps and test batches of the recipe
are timed, and microgesture.clock's estimate extrapolates them to the recipe's epochs, validations and predictions.

    python bench/bench_cost.py --dataset DIR [--branches joint-dstcnn,heatmap-posec3d-joint] [--out DIR [--overwrite]]

Prints a Markdown table (the one in docs/cost.md) and writes it with the raw figures to OUT/cost.json. The runs go
to OUT/<branch>-cpu; rerunning into the same OUT needs ``--overwrite`` (the earlier runs are replaced), so that a
measurement is never mixed with an older one.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import warnings
from pathlib import Path

DEFAULT_BRANCHES = "joint-dstcnn,heatmap-posec3d-joint,rgb-slowonly-r50"


def _fit(cfg, out: Path, *, overwrite: bool) -> tuple[dict, float]:
    from microgesture.train import fit

    t0 = time.perf_counter()
    metrics = fit(cfg, out=out, progress=False, logger="csv", overwrite=overwrite)
    return metrics, time.perf_counter() - t0


def _unit_costs(cfg, ds, *, steps: int, test_batches: int, batch: int) -> tuple[float, float]:
    """Seconds per training step of the recipe's batch (the mean of ``steps`` steps of ``batch`` clips, the first
    excluded, scaled linearly to the recipe's batch: a whole PoseC3D batch does not fit in 23 GB on a CPU) and per
    test clip (all views, one clip per batch), on the branch's own loaders and model with a plain optimiser loop."""
    from dataclasses import replace

    import numpy as np
    import torch

    from microgesture.train import BranchModule, make_loader

    full = cfg.train.batch_size
    timed = min(batch, full)
    cfg = replace(cfg, train=replace(cfg.train, batch_size=timed, num_workers=0))

    train = [c for c in ds.split("train") if c.label >= 0]
    counts = np.bincount([c.label for c in train], minlength=len(ds.classes)).tolist()
    module = BranchModule(cfg=cfg, classes=ds.classes, source_layout=ds.layout, class_counts=counts)
    opt = torch.optim.SGD(module.parameters(), lr=1e-3)
    times, t = [], time.perf_counter()
    module.train()
    for i, batch in enumerate(make_loader(ds, train, module.pipeline, train=True, cfg=cfg)):
        if i > steps:
            break
        loss = module.training_step(batch, i)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
    step_s = float(np.mean(times[1:] if len(times) > 1 else times)) * full / timed
    module.eval()
    n, t = 0, None
    with torch.no_grad():
        one = replace(cfg, train=replace(cfg.train, batch_size=2))  # test batches are half the train batch: 1 clip
        for i, batch in enumerate(make_loader(ds, ds.split("test"), module.pipeline, train=False, cfg=one)):
            if i > test_batches:
                break
            module.predict_views(batch)
            if i == 0:
                t = time.perf_counter()  # from the first batch's end: worker start-up is not per clip
            else:
                n += len(batch["label"])
    clip_s = (time.perf_counter() - t) / max(1, n)
    return step_s, clip_s


def measure(branch: str, dataset: str, out: Path, *, cut_steps: int, batch: int, overwrite: bool = False) -> dict:
    from microgesture.clock import Estimate
    from microgesture.data.format import Dataset
    from microgesture.sizes import size_layer
    from microgesture.train import resolve_config

    ds = Dataset.open(dataset)
    row: dict = {"branch": branch}
    cpu = resolve_config(branch=branch, dataset=dataset, file_cfg=size_layer(branch, "cpu"))
    m, s = _fit(cpu, out / f"{branch}-cpu", overwrite=overwrite)
    row["cpu"] = {"seconds": s, "epochs": cpu.train.epochs, "test_top1": m["test"]["top1"],
                  "test_macro_f1": m["test"]["macro_f1"], "val_top1": (m.get("val") or {}).get("top1")}

    recipe = resolve_config(branch=branch, dataset=dataset)
    n_train = sum(1 for c in ds.split("train") if c.label >= 0)
    steps = max(1, n_train // recipe.train.batch_size)  # drop_last, as the loader
    step_s, clip_s = _unit_costs(recipe, ds, steps=cut_steps, test_batches=3, batch=batch)
    tc = recipe.train
    passes = [sp for sp in ds.splits() if sp != "train" or tc.predict_train]
    e = Estimate(step_s=step_s, clip_s=clip_s, clip_measured=True, steps_left=steps * tc.epochs,
                 val_clips_left=(tc.epochs // max(1, tc.val_every)) * sum(1 for c in ds.split("val") if c.label >= 0),
                 predict_clips=sum(len(ds.split(sp)) for sp in passes))
    row["recipe"] = {"estimated_seconds": e.total_s, "epochs": tc.epochs, "steps_per_epoch": steps,
                     "step_s": step_s, "clip_s": clip_s}
    return row


def table(rows: list[dict], *, dataset: str) -> str:
    from microgesture.progress import format_seconds

    lines = ["| branch | `--size cpu`: epochs | time | test top-1 | test macro-F1 | recipe: epochs x steps | "
             "s/step | recipe time (estimated) | ratio |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c, g = r["cpu"], r["recipe"]
        lines.append(f"| {r['branch']} | {c['epochs']} | {format_seconds(c['seconds'])} | {100 * c['test_top1']:.1f} | "
                     f"{100 * c['test_macro_f1']:.1f} | {g['epochs']} x {g['steps_per_epoch']} | {g['step_s']:.2f} | "
                     f"{format_seconds(g['estimated_seconds'])} | x{g['estimated_seconds'] / c['seconds']:.0f} |")
    return "\n".join(lines) + f"\n\n(dataset {dataset}; {os.cpu_count()} CPUs visible)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", required=True, help="a microgesture dataset, e.g. `microgesture data synth DIR "
                                                     "--preset tiny`")
    ap.add_argument("--branches", default=DEFAULT_BRANCHES)
    ap.add_argument("--cut-steps", type=int, default=3, help="recipe steps timed (after the first)")
    ap.add_argument("--batch", type=int, default=8, help="clips per timed recipe step (scaled to the recipe's batch)")
    ap.add_argument("--out", default="", help="where the runs go (default: a temporary folder)")
    ap.add_argument("--overwrite", action="store_true", help="replace the runs an earlier bench left in --out")
    a = ap.parse_args()
    if a.out and not a.overwrite:
        there = [b for b in a.branches.split(",") if (Path(a.out) / f"{b}-cpu").exists()]
        if there:
            ap.error(f"{a.out}: holds runs of an earlier bench ({', '.join(there)}); pass --overwrite to replace them "
                     "or choose another --out")
    from microgesture.cli.common import setup_logging
    from microgesture.progress import set_mode, silence_third_party

    set_mode(quiet_=True)
    silence_third_party()
    warnings.filterwarnings("ignore", message=".*self.trainer.* reference is not registered")  # the timing loop
    setup_logging()
    with tempfile.TemporaryDirectory(prefix="bench-cost-") as tmp:
        out = Path(a.out or tmp)
        rows = []
        for b in a.branches.split(","):
            rows.append(measure(b, a.dataset, out, cut_steps=a.cut_steps, batch=a.batch, overwrite=a.overwrite))
            if a.out:  # row by row: a long bench that dies keeps what it measured
                (out / "cost.json").write_text(json.dumps(rows, indent=2, default=str) + "\n")
        print(table(rows, dataset=a.dataset))


if __name__ == "__main__":
    main()
