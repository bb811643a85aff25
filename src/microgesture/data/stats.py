"""Dataset statistics: class distribution per split, imbalance, subjects, clip lengths; a PNG bar chart."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from microgesture.data.format import Dataset

__all__ = ["dataset_stats", "format_stats", "plot_stats"]

PERCENTILES = (0, 5, 25, 50, 75, 95, 100)


def dataset_stats(ds: Dataset | str | os.PathLike) -> dict:
    """Statistics as a JSON-ready dict.

    Keys: ``name``, ``classes``, ``splits`` (per split: ``clips``, ``subjects``, ``videos``, ``unlabelled``,
    ``pseudo``, ``counts`` (K,), ``imbalance`` = largest / smallest non-zero class count, ``empty_classes``,
    ``length`` = clip length percentiles in frames and ``mean``), and ``classes_without_val`` (indices of classes
    with training clips but no validation clip).
    """
    if not isinstance(ds, Dataset):
        ds = Dataset.open(ds)
    k = len(ds.classes)
    out: dict = {"name": ds.header.name, "classes": list(ds.classes), "splits": {}}
    for split in ds.splits():
        clips = ds.split(split)
        labels = np.array([c.label for c in clips], dtype=np.int64)
        counts = np.bincount(labels[labels >= 0], minlength=k)[:k]
        nz = counts[counts > 0]
        lengths = np.array([c.num_frames for c in clips], dtype=np.float64)
        out["splits"][split] = {
            "clips": len(clips),
            "subjects": len({c.subject for c in clips}),
            "videos": len({c.video_id for c in clips}),
            "unlabelled": int((labels < 0).sum()),
            "pseudo": sum(c.pseudo for c in clips),
            "counts": counts.tolist(),
            "imbalance": float(nz.max() / nz.min()) if len(nz) else None,
            "empty_classes": np.flatnonzero(counts == 0).tolist() if len(nz) else [],
            "length": {**{f"p{p}": float(np.percentile(lengths, p)) for p in PERCENTILES},
                       "mean": float(lengths.mean())} if len(lengths) else {},
        }
    sp = out["splits"]
    if "train" in sp and "val" in sp:
        out["classes_without_val"] = [i for i in range(k) if sp["train"]["counts"][i] and not sp["val"]["counts"][i]]
    return out


def format_stats(stats: dict) -> str:
    """A plain-text report: one summary line per split, then clips per class and split."""
    splits = stats["splits"]
    lines = [f"dataset {stats['name']}: {sum(s['clips'] for s in splits.values())} clips, "
             f"{len(stats['classes'])} classes"]
    for name, s in splits.items():
        ln = s["length"]
        imb = f"{s['imbalance']:.0f}:1" if s["imbalance"] else "-"
        lines.append(
            f"  {name:<6} {s['clips']:>6} clips {s['subjects']:>4} subjects {s['videos']:>5} videos"
            f"  unlabelled {s['unlabelled']}  imbalance {imb}  empty classes {len(s['empty_classes'])}"
            + (f"  pseudo {s['pseudo']}" if s["pseudo"] else "")
            + (f"  length p5/p50/p95 {ln['p5']:.0f}/{ln['p50']:.0f}/{ln['p95']:.0f} (min {ln['p0']:.0f}, "
               f"max {ln['p100']:.0f}) frames" if ln else "")
        )
    if "classes_without_val" in stats:
        missing = stats["classes_without_val"]
        lines.append(f"  {len(missing)} classes with training clips have no val clip"
                     + (f": {', '.join(map(str, missing))}" if missing else ""))
    width = min(max(len(c) for c in stats["classes"]), 34)
    lines.append("")
    lines.append(f"  {'#':>3} {'class':<{width}} " + " ".join(f"{n:>7}" for n in splits))
    for i, c in enumerate(stats["classes"]):
        lines.append(f"  {i:>3} {c[:width]:<{width}} " + " ".join(f"{s['counts'][i]:>7}" for s in splits.values()))
    return "\n".join(lines)


def plot_stats(stats: dict, path: str | os.PathLike) -> Path:
    """Write the class distribution per split as a PNG bar chart (log scale; matplotlib Figure API, Agg renderer)."""
    from microgesture.report import plot_class_distribution

    counts = {name: s["counts"] for name, s in stats["splits"].items()}
    return plot_class_distribution(counts, stats["classes"], path)
