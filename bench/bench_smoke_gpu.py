"""Benchmark: both studies' branches at full size on one GPU, in bf16, in one process and under one deadline.

For each distinct branch (identical model and input counted once, as in bench_smoke.py): two optimisation steps at
batch 2 (seconds per step, prediction seconds per test clip, peak memory), then two at ``--probe-batch`` (peak
memory again). Memory grows linearly with the batch past the weights and optimiser state, so the two peaks give the
per-sample cost and the largest batch whose estimated peak fits in ``--fill`` of the device's memory; the table says
it is an estimate, and whether the recipe's own batch fits by the same estimate. Then the time to render one batch of
``--render-clips`` PoseC3D joint (and limb) heatmap volumes with ``microgesture.inputs.heatmaps.render_heatmaps`` on
the device, against the CPU.

Run: ``python bench/bench_smoke_gpu.py --data DATASET --out OUT [--deadline 300]`` (DATASET from
``microgesture.smoke.make_smoke_dataset(root, clips=(16, 1, 2))``: the probe batch needs that many training clips).
Rows are written to OUT/smoke_gpu.json after every branch; a branch that does not start before the deadline is
listed as skipped.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_smoke import _key  # noqa: E402

from microgesture.smoke import SmokeRow, format_markdown, smoke_branch, smoke_specs  # noqa: E402


def _free_gpu() -> None:
    import torch

    gc.collect()
    torch.cuda.empty_cache()


def _render_times(clips: int, reps: int = 5) -> list[dict]:
    """Seconds to render ``clips`` clips of AIM's joint volumes (48 x 68 joints -> 56 x 56) and MM-Gesture's limb
    volumes (48 x mmg36 edges -> 56 x 56), on the GPU (median of ``reps`` after a warm-up) and on the CPU (one clip,
    scaled: the data loader renders one clip per sample)."""
    import torch

    from microgesture.inputs.heatmaps import render_heatmaps
    from microgesture.layouts import get_layout

    out = []
    g = torch.Generator().manual_seed(0)
    for name, v, size, edges in (("joint aim68 56x56", 68, 56, None),
                                 ("limb mmg36 56x56", 36, 56, get_layout("mmg36").edges)):
        kp = torch.rand(clips, 48, v, 2, generator=g) * size
        sc = torch.rand(clips, 48, v, generator=g)
        t0 = time.perf_counter()
        render_heatmaps(kp[:1], sc[:1], size=size, sigma=0.6, edges=edges)
        cpu_one = time.perf_counter() - t0
        kg, sg = kp.cuda(), sc.cuda()
        render_heatmaps(kg, sg, size=size, sigma=0.6, edges=edges)
        torch.cuda.synchronize()
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            vol = render_heatmaps(kg, sg, size=size, sigma=0.6, edges=edges)
            torch.cuda.synchronize()
            ts.append(time.perf_counter() - t0)
        out.append({"what": name, "clips": clips, "volume": list(vol.shape), "gpu_s": round(sorted(ts)[reps // 2], 4),
                    "cpu_s_one_clip": round(cpu_one, 4), "cpu_threads": torch.get_num_threads()})
        del vol, kg, sg
        _free_gpu()
    return out


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--deadline", type=float, default=300.0, help="seconds; no branch starts after it")
    ap.add_argument("--probe-batch", type=int, default=8)
    ap.add_argument("--fill", type=float, default=0.9, help="share of the device memory a batch may use")
    ap.add_argument("--render-clips", type=int, default=64)
    ap.add_argument("--studies", default="aim,mm_gesture")
    ap.add_argument("--only", default="", help="comma-separated study/name to run (default: all)")
    a = ap.parse_args()
    t_start = time.perf_counter()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    total_mb = torch.cuda.get_device_properties(0).total_memory / 2**20
    result: dict = {"device": torch.cuda.get_device_name(0), "total_mb": round(total_mb), "torch": torch.__version__,
                    "rows": [], "batches": [], "render": []}

    def save() -> None:
        (out / "smoke_gpu.json").write_text(json.dumps(result, indent=1) + "\n")

    result["render"] = _render_times(a.render_clips)
    save()
    done: dict[str, str] = {}
    for study in a.studies.split(","):
        for name, spec in smoke_specs(study).items():
            k = _key(spec)
            if a.only and f"{study}/{name}" not in a.only.split(","):
                continue
            if k in done:
                result["rows"].append(asdict(SmokeRow(study=study, name=name, branch=spec["branch"],
                                                      status=f"as {done[k]}")))
                continue
            if time.perf_counter() - t_start > a.deadline:
                result["rows"].append(asdict(SmokeRow(study=study, name=name, branch=spec["branch"],
                                                      status="skipped: deadline")))
                continue
            done[k] = f"{study}/{name}"
            try:
                row = smoke_branch(spec, a.data, study=study, name=name, batch=2)
                _free_gpu()
                probe = smoke_branch(spec, a.data, study=study, name=name, batch=a.probe_batch)
            except Exception as e:  # noqa: BLE001 -- a branch's failure is its row; the others still run
                result["rows"].append(asdict(SmokeRow(study=study, name=name, branch=spec["branch"],
                                                      status=f"error: {type(e).__name__}: {str(e)[:160]}")))
                _free_gpu()
                save()
                continue
            _free_gpu()
            result["rows"].append(asdict(row))
            per = (probe.peak_mem_mb - row.peak_mem_mb) / (a.probe_batch - 2)
            fixed = row.peak_mem_mb - 2 * per
            largest = math.floor((a.fill * total_mb - fixed) / per) if per > 0 else None
            recipe = int((spec.get("train") or {}).get("batch_size") or 0)
            result["batches"].append({"name": f"{study}/{name}", "peak_mb_2": row.peak_mem_mb,
                                      f"peak_mb_{a.probe_batch}": probe.peak_mem_mb, "mb_per_sample": round(per, 1),
                                      f"step_s_{a.probe_batch}": probe.step_s[-1] if probe.step_s else None,
                                      "largest_batch_est": largest, "recipe_batch": recipe,
                                      "recipe_fits_est": (largest is not None and recipe <= largest)})
            save()
    rows = [SmokeRow(**r) for r in result["rows"]]
    md = format_markdown(rows)
    md += ("\n| branch | MB/sample | peak MB at batch 2 / probe | s/step at probe | largest batch (est.) "
           "| recipe batch |\n")
    md += "|---|---|---|---|---|---|\n"
    for b in result["batches"]:
        md += (f"| {b['name']} | {b['mb_per_sample']} | {b['peak_mb_2']:.0f} / {b[f'peak_mb_{a.probe_batch}']:.0f} | "
               f"{b[f'step_s_{a.probe_batch}']} | {b['largest_batch_est']} | {b['recipe_batch']} |\n")
    md += "\n| render | clips | volume | GPU s | CPU s per clip |\n|---|---|---|---|---|\n"
    for r in result["render"]:
        md += f"| {r['what']} | {r['clips']} | {r['volume']} | {r['gpu_s']} | {r['cpu_s_one_clip']} |\n"
    wall = time.perf_counter() - t_start
    md += f"\n{result['device']}, torch {result['torch']}, {platform.platform()}; {wall:.0f} s\n"
    (out / "smoke_gpu.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
