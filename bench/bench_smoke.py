"""Benchmark: the smoke run of whole studies at full size (microgesture.smoke), one table for all their branches.

Every branch of configs/aim.yaml and configs/mm_gesture.yaml at its configured inputs, widths, frames and test views:
two optimisation steps (batch 2) and one prediction pass on a generated iMiGUE-shaped dataset, each branch in its own
process with a time limit (``--timeout``; a branch over it is listed as skipped). Branches whose model and input are
those of a branch already run (the Swin-B of Taylor, flow and depth read videos of the RGB clip's shape) are listed as
"as NAME" instead of being run again (``--no-dedupe`` runs them all).

Run: ``.venv/bin/python bench/bench_smoke.py [--out runs/bench-smoke] [--timeout 180] [--studies aim,mm_gesture]``.
Writes OUT/smoke.json and OUT/smoke.md and prints the markdown table.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

from microgesture.smoke import SmokeRow, format_markdown, make_smoke_dataset, run_smoke, smoke_specs


def _key(spec: dict) -> str:
    s = dict(spec)
    arch = s.pop("branch").split("-", 1)[-1]  # rgb-swin3d-b, taylor-swin3d-b, ... -> swin3d-b
    s.get("input", {}).pop("video_column", None)
    return json.dumps([arch, s.get("input"), s.get("model"), s.get("train", {}).get("batch_size")], sort_keys=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="runs/bench-smoke")
    ap.add_argument("--timeout", type=float, default=180.0)
    ap.add_argument("--studies", default="aim,mm_gesture")
    ap.add_argument("--no-dedupe", action="store_true")
    a = ap.parse_args()
    out = Path(a.out)
    data = make_smoke_dataset(out / "data", videos=True)
    rows: list[SmokeRow] = []
    done: dict[str, str] = {}
    for study in a.studies.split(","):
        specs = smoke_specs(study)
        for name, spec in specs.items():
            k = _key(spec)
            if k in done and not a.no_dedupe:
                rows.append(SmokeRow(study=study, name=name, branch=spec["branch"], status=f"as {done[k]}"))
                continue
            rows += run_smoke(study, out / study, names=[name], timeout_s=a.timeout, dataset=data)
            done[k] = f"{study}/{name}"
            (out / "smoke.json").write_text(json.dumps([r.__dict__ for r in rows], indent=1) + "\n")
    md = format_markdown(rows)
    (out / "smoke.md").write_text(md)
    print(f"machine: {platform.processor() or platform.machine()}, {platform.platform()}; timeout {a.timeout:.0f} s\n")
    print(md)


if __name__ == "__main__":
    main()
