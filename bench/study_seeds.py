"""A shipped study over several seeds: every branch alone, every fusion, and the pseudo-label rows, as mean +- std.

The synthetic counterpart of AIM's and MM-Gesture's Table 2. The dataset is generated once (the study's own synth
settings, seed 0) and shared; only the training seed changes between runs, so the spread is the training noise.
Each seed is an ordinary `microgesture run` study directory (out/seedN), cached and resumable like any other.

    .venv/bin/python bench/study_seeds.py                       # configs/demo.yaml, seeds 0 1 2, small preset
    .venv/bin/python bench/study_seeds.py --config demo --seeds 0 1 2 --out runs/study_seeds
    .venv/bin/python bench/study_seeds.py --docs docs/benchmarks.md  # and write the tables into the docs

With ``--docs FILE`` the tables (mean +- std, per seed, per cue class, the gains) replace the block between
``<!-- study_seeds:begin -->`` and ``<!-- study_seeds:end -->`` in FILE, with the command, date and machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

from microgesture.multiseed import (
    cue_table,
    gains,
    gains_table,
    headroom,
    headroom_table,
    per_seed_table,
    replace_block,
    seed_table,
)
from microgesture.runner import load_experiment, run_experiment, summary_rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="demo", help="an experiment YAML or a shipped config name")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", default="runs/study_seeds")
    ap.add_argument("--set", dest="overrides", action="append", default=[], help="as `microgesture run --set`")
    ap.add_argument("--docs", help="a markdown file whose study_seeds block gets the tables")
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
    summaries: dict[int, dict] = {}
    t_start = time.time()
    info: dict = {"config": args.config, "dataset": str(dataset), "seeds": {}}
    for seed in args.seeds:
        exp = dataclasses.replace(base, seed=seed, dataset={"path": str(dataset)})
        t0 = time.time()
        summary = run_experiment(exp, out=out / f"seed{seed}")
        summaries[seed] = summary
        per_seed[seed] = summary_rows(summary)
        info["seeds"][seed] = {"seconds_this_call": time.time() - t0, "study_seconds": summary["seconds"],
                               "transductive": summary["transductive"]}
    md = seed_table(summaries)
    g = gains(summaries)
    h = headroom(summaries)
    (out / "table.md").write_text(md + "\n")
    (out / "results.json").write_text(json.dumps({**info, "rows": per_seed, "gains": g, "headroom": h}, indent=1)
                                      + "\n")
    transductive = any(v["transductive"] for v in info["seeds"].values())
    print(f"{base.name}: {len(args.seeds)} seeds ({', '.join(map(str, args.seeds))}), mean +- std, %")
    print(md)
    print(gains_table(g))
    print(headroom_table(h))
    if transductive:
        print("rows with +pl trained on pseudo-labelled test clips: transductive")
    if args.docs:
        docs = Path(args.docs)
        body = _docs_block(base.name, summaries, g, h, time.time() - t_start, transductive)
        docs.write_text(replace_block(docs.read_text(), "study_seeds", body))
        print(f"wrote the tables into {docs}")


def _docs_block(name: str, summaries: dict, g: dict, h: dict, seconds: float, transductive: bool) -> str:
    cmd = " ".join(shlex.quote(a) for a in [".venv/bin/python", "bench/study_seeds.py", *sys.argv[1:]])
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}, " \
        f"Python {platform.python_version()}"
    seeds = ", ".join(map(str, summaries))
    parts = [
        f"Written by `{cmd}` on {time.strftime('%Y-%m-%d')} ({machine}; {seconds:.0f} s for this call, cached stages"
        f" not rerun). Config `{name}`, training seeds {seeds} on one shared dataset; test and val metrics in %.",
        "",
        "Mean +- std over seeds:",
        "",
        seed_table(summaries),
        "",
        "Test top-1 / macro-F1 per seed:",
        "",
        per_seed_table(summaries),
        "",
        "Mean test F1 on the classes whose cue belongs to one modality (docs/synthetic.md), mean +- std over seeds:",
        "",
        cue_table(summaries),
        "",
        "What the gains come to (test split, percentage points):",
        "",
        gains_table(g),
        "",
        "How far apart the branches' errors are (test top-1, percentage points; what a fusion that followed the right"
        " branch on every clip would gain):",
        "",
        headroom_table(h),
    ]
    if transductive:
        parts += ["", "Rows with +pl were trained on pseudo-labelled test clips: transductive."]
    return "\n".join(parts)


if __name__ == "__main__":
    main()
