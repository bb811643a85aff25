"""Tables of one study run over several training seeds, and what its gains mean.

``bench/study_seeds.py`` runs the same study (``microgesture run``) once per seed on one shared dataset; this module
turns the per-seed summaries into markdown: mean +- std per model and fusion, the per-seed test top-1, the mean test
F1 of each branch on the classes whose cue belongs to one modality, and the gains the papers claim (fusion over the
best branch, retraining on pseudo-labels) per seed. It reads summaries, and for :func:`headroom` the branches' test
predictions the summaries point to, so a table can be rebuilt at any time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from microgesture.runner import summary_rows

__all__ = ["CUE_GROUPS", "group_f1", "seed_table", "per_seed_table", "cue_table", "gains", "gains_table", "headroom",
           "headroom_table", "replace_block"]

COLUMNS = ("val top-1", "val macro-F1", "test top-1", "test macro-F1")

# Classes whose cue belongs to one modality in the synthetic benchmark (docs/synthetic.md, "What each modality and
# technique can win"): an object or the lips in the pixels, the face's keypoints, motion over time.
CUE_GROUPS: dict[str, tuple[str, ...]] = {
    "appearance (object, lips)": ("play with objects", "bite/press lips"),
    "face keypoints": ("bite/press lips", "bite nails", "rub eyes", "touch chin", "touch forehead",
                       "touch other facial parts", "touch ears", "cover face"),
    "motion only (torso)": ("shake shoulders", "turtle neck", "deep breath", "sit straight", "move torso"),
}


def _mean_std(xs: Sequence[float | None]) -> str:
    v = [x for x in xs if x is not None and not np.isnan(x)]
    if not v:
        return "-"
    return f"{np.mean(v):.1f} +- {np.std(v):.1f}" if len(v) > 1 else f"{v[0]:.1f}"


def _rows(summaries: Mapping[int, dict]) -> tuple[list[str], dict[str, dict[int, tuple]]]:
    """Row names in first-seen order and {name: {seed: (val top-1, val F1, test top-1, test F1)}}."""
    order: list[str] = []
    cells: dict[str, dict[int, tuple]] = {}
    for seed, summary in summaries.items():
        for _, name, *vals in summary_rows(summary):
            if name not in cells:
                order.append(name)
                cells[name] = {}
            cells[name][seed] = tuple(vals)
    return order, cells


def seed_table(summaries: Mapping[int, dict]) -> str:
    """Markdown: one row per model / fusion, mean +- std (population) over the seeds, in %."""
    order, cells = _rows(summaries)
    lines = ["| model / fusion | " + " | ".join(COLUMNS) + " |", "|---|" + "---:|" * len(COLUMNS)]
    for name in order:
        cols = [_mean_std([v[i] for v in cells[name].values()]) for i in range(len(COLUMNS))]
        lines.append(f"| {name} | " + " | ".join(cols) + " |")
    return "\n".join(lines)


def per_seed_table(summaries: Mapping[int, dict]) -> str:
    """Markdown: test top-1 / macro-F1 of every row on each seed, in %."""
    order, cells = _rows(summaries)
    seeds = list(summaries)
    lines = ["| model / fusion | " + " | ".join(f"seed {s}" for s in seeds) + " |", "|---|" + "---:|" * len(seeds)]

    def cell(v: tuple | None) -> str:
        return "-" if v is None or v[2] is None else f"{v[2]:.1f} / {v[3]:.1f}"

    for name in order:
        lines.append(f"| {name} | " + " | ".join(cell(cells[name].get(s)) for s in seeds) + " |")
    return "\n".join(lines)


def group_f1(split: dict, classes: Sequence[str]) -> float | None:
    """Mean F1 over ``classes`` present in one split's metrics (``per_class``), a fraction; None when none is."""
    per = split.get("per_class", {})
    f = [per[c]["f1"] for c in classes if c in per and per[c].get("support", 0) > 0]
    return float(np.mean(f)) if f else None


def _entries(summary: dict) -> dict[str, dict]:
    """Every model and the primary-rule fusions, before and after pseudo-labelling, by the table's row names."""
    out: dict[str, dict] = {}
    for tag, suffix in (("metrics", ""), ("metrics_final", " (+pl)")):
        m = summary.get(tag) or {}
        for name, r in m.get("models", {}).items():
            if tag == "metrics" or name.endswith("+pl"):
                out[name] = r
        for name, r in m.get("fusions", {}).items():
            out[f"fusion:{name}{suffix}"] = r
    return out


def cue_table(summaries: Mapping[int, dict], groups: Mapping[str, Sequence[str]] = CUE_GROUPS) -> str:
    """Markdown: mean +- std over seeds of each model's mean test F1 on each group of cue classes, in %."""
    names: list[str] = []
    vals: dict[str, list[list[float | None]]] = {}
    for summary in summaries.values():
        for name, r in _entries(summary).items():
            if name not in vals:
                names.append(name)
                vals[name] = [[] for _ in groups]
            for i, classes in enumerate(groups.values()):
                f1 = group_f1(r.get("test", {}), classes)
                vals[name][i].append(None if f1 is None else 100 * f1)
    lines = ["| model / fusion | " + " | ".join(groups) + " |", "|---|" + "---:|" * len(groups)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(_mean_std(v) for v in vals[name]) + " |")
    return "\n".join(lines)


def gains(summaries: Mapping[int, dict], *, fusion: str = "temperature") -> dict:
    """The papers' claims, per seed (test split, %): each branch's top-1 spread, ``fusion`` over the best single
    branch of that seed, each retrained branch over its first version, the final fusion over the first."""
    seeds = list(summaries)
    out: dict = {"seeds": seeds, "branches": {}, "fusion": fusion}
    first = {s: summaries[s]["metrics"] for s in seeds}
    names = [n for n in first[seeds[0]]["models"] if not n.endswith("+pl")]
    for n in names:
        t1 = [100 * first[s]["models"][n]["test"]["top1"] for s in seeds]
        f1 = [100 * first[s]["models"][n]["test"]["macro_f1"] for s in seeds]
        out["branches"][n] = {"top1": t1, "macro_f1": f1, "std": float(np.std(t1))}
    best_t1 = [max(out["branches"][n]["top1"][i] for n in names) for i in range(len(seeds))]
    best_f1 = [max(out["branches"][n]["macro_f1"][i] for n in names) for i in range(len(seeds))]
    if all(fusion in first[s]["fusions"] for s in seeds):
        fu = [first[s]["fusions"][fusion]["test"] for s in seeds]
        out["fusion_over_best"] = {"top1": [100 * f["top1"] - b for f, b in zip(fu, best_t1, strict=True)],
                                   "macro_f1": [100 * f["macro_f1"] - b for f, b in zip(fu, best_f1, strict=True)]}
    finals = [summaries[s].get("metrics_final") for s in seeds]
    if all(finals):
        retrained = [n[:-3] for n in finals[0]["models"] if n.endswith("+pl")]
        out["retrain"] = {n: [100 * (finals[i]["models"][n + "+pl"]["test"]["top1"]
                                     - first[s]["models"][n]["test"]["top1"]) for i, s in enumerate(seeds)]
                          for n in retrained}
        if all(fusion in f["fusions"] for f in finals):
            out["final_fusion_over_first"] = [100 * (finals[i]["fusions"][fusion]["test"]["top1"]
                                                     - first[s]["fusions"][fusion]["test"]["top1"])
                                              for i, s in enumerate(seeds)]
    return out


def headroom(summaries: Mapping[int, dict]) -> dict:
    """Per seed (test split, %): the share of clips that at least one branch gets right (top-1), against the best
    branch alone; for all branches and for the best branch with each other one.

    It measures how complementary the branches' errors are: a fusion that followed the right branch on every clip
    would reach it, so fusion's gain over the best branch is bounded by it (up to the rare clip that no branch ranks
    first and the fused scores do). ``tuned_on_test`` is the tighter bound of the temperature fusion itself: its
    temperatures and weights fitted on the test labels (plain maximum, no tolerance), minus the best branch; no
    weighting of these branches does better on test, so a fusion tuned on val cannot either. Reads each seed's
    first-stage ``preds_test.npz`` (``summary["runs"]``)."""
    from microgesture.fusion import FusionConfig, fuse
    from microgesture.predictions import align, load_predictions

    out: dict = {"seeds": list(summaries), "best": [], "all": [], "pairs": {}, "tuned_on_test": []}
    for seed, summary in summaries.items():
        names = list(summary["runs"])
        preds = align([load_predictions(Path(summary["runs"][n]) / "preds_test.npz") for n in names])
        y = preds[0].labels
        keep = y >= 0  # unlabelled clips (label -1) cannot be scored
        right = {n: (p.logits.argmax(1) == y)[keep] for n, p in zip(names, preds, strict=True)}
        best = max(names, key=lambda n: right[n].mean())
        out["best"].append(best)
        labelled = [p.subset(p.clip_ids[keep]) for p in preds]
        tuned = fuse(labelled, labelled, method="temperature", config=FusionConfig(tau="fit", tolerance=0.0)).test
        assert tuned is not None
        out["tuned_on_test"].append(100 * ((tuned.logits.argmax(1) == tuned.labels).mean() - right[best].mean()))
        out["all"].append(100 * (np.logical_or.reduce(list(right.values())).mean() - right[best].mean()))
        for n in names:
            if n != best:
                gain = 100 * ((right[best] | right[n]).mean() - right[best].mean())
                out["pairs"].setdefault(n, {})[seed] = gain
    return out


def headroom_table(h: dict) -> str:
    """Markdown list of :func:`headroom`."""
    best = ", ".join(f"`{b}`" for b in h["best"])
    lines = [f"- clips at least one branch gets right, minus the best branch of each seed ({best}): all branches "
             f"{_pm(h['all'])}"]
    for n, by_seed in h["pairs"].items():
        if len(by_seed) == len(h["seeds"]):  # a branch that was the best on some seed has no pair there
            lines.append(f"- the best branch or `{n}`: {_pm(list(by_seed.values()))}")
    if h.get("tuned_on_test"):
        lines.append(f"- the temperature fusion with its temperatures and weights fitted on the test labels (a bound, "
                     f"not a result), minus the best branch: {_pm(h['tuned_on_test'])}")
    return "\n".join(lines)


def _pm(xs: Sequence[float]) -> str:
    return f"{np.mean(xs):+.1f} (seeds: {', '.join(f'{x:+.1f}' for x in xs)})"


def gains_table(g: dict) -> str:
    """Markdown list of :func:`gains`: what each gain the papers claim comes to here, per seed."""
    lines = []
    for n, b in g["branches"].items():
        lines.append(f"- `{n}`: test top-1 {np.mean(b['top1']):.1f} +- {b['std']:.1f}, macro-F1 "
                     f"{np.mean(b['macro_f1']):.1f}")
    if "fusion_over_best" in g:
        fo = g["fusion_over_best"]
        lines.append(f"- fusion:{g['fusion']} minus the best single branch of each seed: top-1 {_pm(fo['top1'])}; "
                     f"macro-F1 {_pm(fo['macro_f1'])}")
    for n, d in g.get("retrain", {}).items():
        lines.append(f"- `{n}+pl` minus `{n}` (retrained on pseudo-labelled test clips, transductive): top-1 {_pm(d)}")
    if "final_fusion_over_first" in g:
        lines.append(f"- fusion:{g['fusion']} after pseudo-labelling minus before: top-1 "
                     f"{_pm(g['final_fusion_over_first'])}")
    return "\n".join(lines)


def replace_block(text: str, name: str, body: str) -> str:
    """Replace what lies between ``<!-- name:begin -->`` and ``<!-- name:end -->`` in ``text`` with ``body``.

    Raises ValueError when the markers are missing or out of order, so a table is never appended somewhere a reader
    does not expect it."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    pat = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if len(pat.findall(text)) != 1:
        raise ValueError(f"expected exactly one {begin} ... {end} block")
    return pat.sub(lambda _: f"{begin}\n{body.strip()}\n{end}", text)
