"""The experiment runner: one YAML describes a whole study (:mod:`microgesture.experiment`), ``microgesture run``
executes it.

Stages: data (a dataset path, or the synthetic benchmark generated into the study: :mod:`microgesture.stage_cache`)
-> train every branch -> fuse -> pseudo-label the test split and retrain (only when asked: it is transductive) -> fuse
again -> report (:mod:`microgesture.stages`). Each is logged with its number and how many are left
(``[3/8, 5 left] branches/heatmap``).

Every stage writes a ``stage.json`` holding a key = hash of its config and of its inputs' contents. On a rerun a stage
whose key is unchanged is skipped, so a killed study resumes where it stopped (a branch killed mid-training resumes
from its last Lightning checkpoint), and editing one branch's settings retrains that branch and what depends on it.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import yaml

from microgesture.atomic import write_text
from microgesture.experiment import (
    CONFIG_DIR,
    ExperimentConfig,
    branch_cfg,
    is_fused,
    load_experiment,
    preflight,
    retrain_names,
    retrain_specs,
)
from microgesture.progress import begin_stages
from microgesture.stage_cache import stage_data
from microgesture.stages import stage_fuse, stage_pseudo, stage_train

__all__ = ["ExperimentConfig", "load_experiment", "run_experiment", "summary_rows", "summary_table", "CONFIG_DIR"]

log = logging.getLogger(__name__)
# the names these had before the split into experiment / stage_cache / stages (bench/study_seeds.py uses _stage_data)
_branch_cfg, _stage_data = branch_cfg, stage_data


def run_experiment(exp: ExperimentConfig, *, out: str | Path, logger: str | None = None) -> dict:
    """Run (or resume) a study; returns a summary dict (also written to ``out/summary.json``). ``logger``: every
    branch's logger besides ``logs/metrics.csv`` (:mod:`microgesture.loggers`; default TensorBoard when installed)."""
    from microgesture.loggers import check_logger

    out = Path(out)
    logger = check_logger(logger)  # a missing package fails at once, not after the data stage
    preflight(exp, out)  # a missing dataset or a typo fails before anything is written, not hours later
    out.mkdir(parents=True, exist_ok=True)
    pl = (exp.pseudo_label or {}).get("enabled")  # stages: data (synth), branches, fusion, [pseudo, retrain, fusion]
    n = ("synth" in exp.dataset) + len(exp.branches) + 1 + (2 + len(retrain_names(exp)) if pl else 0)
    log.info("study %s: %d stages (%d branch(es)%s%s) into %s", exp.name, n, len(exp.branches),
             ", pseudo-labelling and retraining" if pl else "", f", size {exp.size}" if exp.size else "", out)
    begin_stages(n)
    try:
        return _run_stages(exp, out, logger=logger)
    finally:
        begin_stages(0)  # the stage numbers belong to this study: a later one, or a lone command, starts afresh


def _run_stages(exp: ExperimentConfig, out: Path, *, logger: str) -> dict:
    """data -> branches -> fusion [-> pseudo-labels -> retrain -> fusion] -> report; the summary dict."""
    write_text(out / "experiment.yaml", yaml.safe_dump(exp.__dict__, sort_keys=False))
    t0 = time.time()
    dataset = stage_data(exp, out)
    runs = stage_train(exp, out, dataset, tag="branches", logger=logger)
    fusion_dir, fusion_metrics = stage_fuse(exp, out, {k: v for k, v in runs.items() if is_fused(exp, k)},
                                             tag="fusion")
    summary: dict = {"name": exp.name, "dataset": str(dataset), "runs": {k: str(v) for k, v in runs.items()},
                     "fusion": str(fusion_dir), "metrics": fusion_metrics, "transductive": False}
    p = exp.pseudo_label or {}
    if p.get("enabled"):
        from microgesture.pseudo import load_report

        d2 = stage_pseudo(exp, out, dataset, fusion_dir)
        summary["pseudo_selected"] = int(load_report(d2)["selected"])
    if p.get("enabled") and not summary["pseudo_selected"]:
        # retraining on the unchanged dataset would report "+pl" rows that used no pseudo-label at all
        log.warning("pseudo-label: no test clip has a fused probability above %s: nothing to retrain on; the "
                    "results are the inductive ones (no +pl rows)", p.get("threshold", 0.65))
    elif p.get("enabled"):
        sub = ExperimentConfig(**{**exp.__dict__, "branches": retrain_specs(exp)})
        runs2 = stage_train(sub, out, d2, tag="retrain", upstream=runs, logger=logger)
        final_runs = {**{k: v for k, v in runs.items() if k not in runs2}, **{f"{k}+pl": v for k, v in runs2.items()}}
        fdir2, fm2 = stage_fuse(exp, out, {k: v for k, v in final_runs.items() if is_fused(exp, k)},
                                 tag="fusion_final")
        summary.update(pseudo_dataset=str(d2), retrain={k: str(v) for k, v in runs2.items()}, fusion_final=str(fdir2),
                       metrics_final=fm2, transductive=True)
    summary["seconds"] = time.time() - t0
    if exp.report:
        from microgesture.study_report import write_study_report

        summary["report"] = [str(x) for x in write_study_report(exp, out, summary)]
    write_text(out / "summary.json", json.dumps(summary, indent=1, default=str) + "\n")
    return summary


def summary_rows(summary: dict) -> list[tuple[str, str, float | None, float | None, float | None, float | None]]:
    """(group, name, val top-1, val macro-F1, test top-1, test macro-F1) rows of a summary, in %."""
    rows = []
    for tag in ("metrics", "metrics_final"):
        m = summary.get(tag)
        if not m:
            continue
        for group in ("models", "fusions"):
            for name, r in m[group].items():
                if tag == "metrics_final" and group == "models" and not name.endswith("+pl"):
                    continue
                label = name if group == "models" else f"fusion:{name}" + (" (+pl)" if tag == "metrics_final" else "")

                def g(split: str, key: str, r=r) -> float | None:
                    return 100 * r[split][key] if split in r else None

                rows.append((group, label, g("val", "top1"), g("val", "macro_f1"), g("test", "top1"),
                             g("test", "macro_f1")))
    return rows


def _fmt(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.2f}"


def summary_table(summary: dict):
    """A rich Table of :func:`summary_rows` (the CLI prints it)."""
    from rich.table import Table

    t = Table(title=f"{summary['name']}: top-1 / macro-F1 (%)")
    for c in ("model / fusion", "val top-1", "val macro-F1", "test top-1", "test macro-F1"):
        t.add_column(c, justify="left" if c.startswith("model") else "right", no_wrap=c.startswith("model"))
    for _, name, *vals in summary_rows(summary):
        t.add_row(name, *(_fmt(v) for v in vals))
    return t
