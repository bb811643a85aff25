"""Benchmark: exported models (TorchScript, ONNX Runtime) against eager PyTorch on the CPU, clips per second.

A clip is all its test views: AIM's DST-CNN (aim68, 64 frames, 5 clips x flip = 10 views) and PoseC3D-68
(48 frames, 64 x 64 test canvas, 10 clips x flip = 20 views; heatmaps drawn inside the graph for the exported
models, by render_heatmaps for eager). Weights are random (a checkpoint written here): speed does not depend on them.
Also reports the parity (max |logit difference| against eager on the same views).

Run: ``.venv/bin/python bench/bench_export.py [--clips 4] [--threads 2] [--branches joint,heatmap]``. Prints a
markdown table.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from microgesture.export import example_views, export, load_exported
from microgesture.smoke import smoke_specs
from microgesture.train import BranchModule, resolve_config

CLASSES = tuple(f"class{k}" for k in range(32))


def _checkpoint(name: str, spec: dict, out: Path) -> BranchModule:
    spec = dict(spec)
    branch = spec.pop("branch")
    cfg = resolve_config(branch=branch, overrides=spec)
    torch.manual_seed(0)
    m = BranchModule(cfg=cfg, classes=CLASSES, source_layout="openpose137", class_counts=[1] * len(CLASSES)).eval()
    torch.save({"microgesture": m.inference_meta(), "state_dict": m.state_dict()}, out / f"{name}.ckpt")
    return m


def _rate(fn, views: np.ndarray, clips: int) -> float:
    fn(views[:1])  # warm-up
    t0 = time.perf_counter()
    for _ in range(clips):
        fn(views)
    return clips / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--branches", default="joint,heatmap", help="branches of configs/aim.yaml")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    specs = smoke_specs("aim")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in a.branches.split(","):
            module = _checkpoint(name, specs[name], tmp)
            views = example_views(module)
            key = module.pipeline.key
            with torch.no_grad():
                def eager(v, module=module, key=key):
                    x = module.pipeline.to_model_input({key: torch.from_numpy(v)}, train=False)
                    return module.model(x).numpy()

                ref = eager(views)
                row = {"branch": f"aim/{name} ({module.cfg.branch})", "views": len(views),
                       "eager": _rate(eager, views, a.clips)}
                for fmt, suffix in (("torchscript", "pt"), ("onnx", "onnx")):
                    try:
                        m = load_exported(export(tmp / f"{name}.ckpt", fmt=fmt, out=tmp / f"{name}.{suffix}"),
                                          threads=a.threads)
                    except Exception as e:  # onnx not installed: reported, not fatal
                        row[fmt], row[f"{fmt}_diff"] = float("nan"), str(e).splitlines()[0][:40]
                        continue
                    row[f"{fmt}_diff"] = f"{np.abs(m.logits(views) - ref).max():.1e}"
                    row[fmt] = _rate(m.logits, views, a.clips)
            rows.append(row)
    print(f"CPU: {platform.processor() or platform.machine()}, {a.threads} threads, torch {torch.__version__}, "
          f"python {sys.version.split()[0]}; {a.clips} clips per measurement\n")
    print("| branch | views/clip | eager clips/s | TorchScript clips/s (max diff) | ONNX Runtime clips/s (max diff) |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['branch']} | {r['views']} | {r['eager']:.2f} | {r['torchscript']:.2f} ({r['torchscript_diff']}) "
              f"| {r['onnx']:.2f} ({r['onnx_diff']}) |")


if __name__ == "__main__":
    main()
