"""A shipped study over several seeds: every branch alone, every fusion, and the pseudo-label rows, as mean +- std.

The synthetic counterpart of AIM's and MM-Gesture's Table 2. The dataset is generated once (the study's own synth
settings, seed 0) and shared; only the training seed changes between runs, so the spread is the training noise.
Each seed is an ordinary `microgesture run` study directory (out/seedN), cached and resumable like any other.

    .venv/bin/python bench/study_seeds.py                       # configs/demo.yaml, seeds 0 1 2, small preset
    .venv/bin/python bench/study_seeds.py --config demo --seeds 0 1 2 --out runs/study_seeds
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from microgesture.runner import load_experiment, run_experiment, summary_rows

COLUMNS = ("val top-1", "val macro-F1", "test top-1", "test macro-F1")


def _cell(xs: list[float | None]) -> str:
    v = [x for x in xs if x is not None and not np.isnan(x)]
    if not v:
        return "-"
    return f"{np.mean(v):.1f} +- {np.std(v):.1f}" if len(v) > 1 else f"{v[0]:.1f}"


def table(per_seed: dict[int, list]) -> str:
    """Markdown table: one row per model / fusion, mean +- std (population) over the seeds, in %."""
    order: list[str] = []
    cells: dict[str, list[list[float | None]]] = {}
    for rows in per_seed.values():
        for _, name, *vals in rows:
            if name not in cells:
                order.append(name)
                cells[name] = [[] for _ in COLUMNS]
            for i, v in enumerate(vals):
                cells[name][i].append(v)
    lines = ["| model / fusion | " + " | ".join(COLUMNS) + " |", "|---|" + "---:|" * len(COLUMNS)]
    for name in order:
        lines.append(f"| {name} | " + " | ".join(_cell(c) for c in cells[name]) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="demo", help="an experiment YAML or a shipped config name")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", default="runs/study_seeds")
    ap.add_argument("--set", dest="overrides", action="append", default=[], help="as `microgesture run --set`")
    args = ap.parse_args()
    from microgesture.config import parse_overrides

    out = Path(args.out)
    base = load_experiment(args.config, parse_overrides(args.overrides))
    if "synth" in base.dataset and "path" not in base.dataset:  # generate once, into out/data, share it
        first = dataclasses.replace(base, branches={}, pseudo_label={"enabled": False}, report=False)
        from microgesture.runner import _stage_data

        dataset = _stage_data(first, out)
    else:
        dataset = Path(base.dataset["path"])
    per_seed: dict[int, list] = {}
    info: dict = {"config": args.config, "dataset": str(dataset), "seeds": {}}
    for seed in args.seeds:
        exp = dataclasses.replace(base, seed=seed, dataset={"path": str(dataset)})
        t0 = time.time()
        summary = run_experiment(exp, out=out / f"seed{seed}")
        per_seed[seed] = summary_rows(summary)
        info["seeds"][seed] = {"seconds_this_call": time.time() - t0, "study_seconds": summary["seconds"],
                               "transductive": summary["transductive"]}
    md = table(per_seed)
    (out / "table.md").write_text(md + "\n")
    (out / "results.json").write_text(json.dumps({**info, "rows": per_seed}, indent=1) + "\n")
    print(f"{base.name}: {len(args.seeds)} seeds ({', '.join(map(str, args.seeds))}), mean +- std, %")
    print(md)
    if any(v["transductive"] for v in info["seeds"].values()):
        print("rows with +pl trained on pseudo-labelled test clips: transductive")


if __name__ == "__main__":
    main()
