"""The report of a whole study (``microgesture run``): tables in the layout of the papers' ablations, figures,
submission.

Reads only what the runner wrote (dataset, run directories, fusion metrics, pseudo-label report), so it can be
regenerated at any time from a study directory.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from microgesture.data.format import Dataset
from microgesture.predictions import load_predictions
from microgesture.report import (
    Report,
    ablation_table,
    plot_class_distribution,
    plot_confusion,
    plot_per_class_f1,
    plot_pseudo_counts,
    plot_reliability,
    write_submission,
)

__all__ = ["write_study_report"]


def _primary_fused(fusion_dir: Path, split: str):
    rec = json.loads((fusion_dir / "fusion.json").read_text())
    f = fusion_dir / f"fused_{rec['primary']}_{split}.npz"
    return (load_predictions(f), rec) if f.exists() else (None, rec)


def write_study_report(exp, out: Path, summary: dict) -> tuple[Path, Path]:
    """Write ``out/report/report.md``, ``report.html``, figures and ``submission.csv``; returns (md, html)."""
    rdir = out / "report"
    fig = rdir / "figures"
    ds = Dataset.open(summary["dataset"])
    k = len(ds.classes)
    counts = {s: np.bincount([c.label for c in ds.split(s) if c.label >= 0], minlength=k) for s in ds.splits()}
    train_counts = counts.get("train", np.zeros(k, np.int64))

    rep = Report(f"microgesture study: {exp.name}")
    intro = [exp.description.strip()] if exp.description else []
    intro.append(f"Dataset `{ds.root}` ({ds.header.name}, layout {ds.layout}, {len(ds)} clips, {k} classes). "
                 f"Wall time {summary.get('seconds', 0):.0f} s.")
    if summary.get("transductive"):
        intro.append("**Transductive:** rows marked `+pl` were retrained with pseudo-labelled *test* clips (AIM's "
                     "cross-modal pseudo-labelling); their test scores are not comparable to inductive results.")
    rep.add_text("\n\n".join(intro))

    rep.section("Data")
    rep.add_figure(plot_class_distribution({s: c for s, c in counts.items()}, ds.classes, fig / "classes.png"),
                   "clips per class and split (log scale)")

    rep.section("Branches and fusion (top-1 = micro-F1, and macro-F1, in %)")
    rep.add_table(ablation_table(summary["metrics"], caption="single branches, then each fusion method"))
    if summary.get("metrics_final"):
        rep.add_table(ablation_table(summary["metrics_final"],
                                     caption="after pseudo-labelling: retrained branches (+pl) and the final fusion"))
    fusion_dir = Path(summary.get("fusion_final") or summary["fusion"])
    rec = json.loads((fusion_dir / "fusion.json").read_text())
    prim = rec["methods"][rec["primary"]]
    weights = prim.get("weights")
    if weights:
        taus = prim.get("taus", {})
        rows = ", ".join(f"{n}: w={w:.2f}" + (f", tau={taus[n]:.2f}" if n in taus else "") for n, w in weights.items())
        rep.add_text(f"Primary fusion `{rec['primary']}` chosen on val: {rows}.")

    _primary_section(rep, fusion_dir, rec["primary"], summary, ds.classes, train_counts, fig)
    _calibration_section(rep, summary, fig)
    _pseudo_section(rep, summary, fig)
    test_fused, _ = _primary_fused(fusion_dir, "test")
    if test_fused is not None:
        csv_path, zip_path = write_submission(test_fused, rdir / "submission.csv")
        rep.section("Submission")
        rep.add_text(f"`{csv_path.name}` (`Id,Target`, 0-based) and `{zip_path.name}` from the primary fusion.")
    return rep.save(rdir)


def _primary_section(rep: Report, fusion_dir: Path, primary: str, summary: dict, classes, train_counts,
                     fig: Path) -> None:
    """Confusion matrix and per-class F1 of the primary fusion, on test when it has labels, else val."""
    split = "test" if any("test" in r for r in summary["metrics"]["fusions"].values()) else "val"
    fused, _ = _primary_fused(fusion_dir, split)
    if fused is not None and (fused.labels >= 0).any():
        from microgesture.metrics import classification_report

        r = classification_report(fused.logits, fused.labels, fused.classes)
        rep.section(f"Primary fusion on {split}")
        rep.add_figure(plot_confusion(np.asarray(r["confusion"]), classes, fig / "confusion.png",
                                      title=f"fused ({primary}), {split}"), "row-normalised confusion matrix")
        rep.add_figure(plot_per_class_f1(r["per_class"], train_counts, fig / "per_class_f1.png"),
                       "per-class F1, head vs tail classes (ordered by training frequency)")


def _calibration_section(rep: Report, summary: dict, fig: Path) -> None:
    # calibration of the first branch on val, before/after its fitted temperature
    fmeta = json.loads((Path(summary["fusion"]) / "fusion.json").read_text())
    first = next(iter(summary["runs"]))
    vp = Path(summary["runs"][first]) / "preds_val.npz"
    if vp.exists():
        pv = load_predictions(vp)
        if (pv.labels >= 0).any():
            taus = fmeta["methods"].get("temperature", {}).get("taus", {})
            tau = float(taus.get(first, 2.5))
            rep.section("Calibration")
            rep.add_figure(plot_reliability(pv.logits, pv.labels, fig / "reliability.png", tau=tau),
                           f"branch {first} on val, before and after temperature {tau:.2f}")


def _pseudo_section(rep: Report, summary: dict, fig: Path) -> None:
    if summary.get("pseudo_dataset"):
        pr = Path(summary["pseudo_dataset"]) / "pseudo_report.json"
        if pr.exists():
            prj = json.loads(pr.read_text())
            rep.section("Pseudo-labels (transductive)")
            rep.add_figure(plot_pseudo_counts(prj, fig / "pseudo_counts.png"), "selected test clips per class")
            agree = prj.get("agreement")
            if agree is not None:
                rep.add_text(f"{prj['selected']} test clips selected; agreement with the true labels "
                             f"{100 * agree:.1f}% (known only because the benchmark is synthetic).")
