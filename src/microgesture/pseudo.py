"""Cross-modal pseudo-labelling (CMPL, AIM): confident fused test predictions become extra training clips.

AIM keeps the test clips whose ensemble max probability exceeds 0.65 and retrains from scratch once on
train + val + pseudo-labelled test (docs/recipes.md; threshold 0.65 and one round are microgesture's defaults). This is
**transductive**: it uses the unlabelled test clips, and every output says so.

Design of the new dataset ``D2`` (written atomically with :class:`~microgesture.data.format.DatasetWriter`):

* every clip of ``D`` is kept with its id, split and label, so val and test are evaluated exactly as before;
* each selected clip gets a **copy** ``<clip_id>@pseudo`` in split ``train`` with the pseudo label, ``pseudo = 1``
  and extra columns ``pseudo_of`` (the original id) and ``pseudo_conf`` (fused max probability). Ids stay unique and
  retraining on ``D2`` is an ordinary training run on its train split;
* test subjects then appear in train only through pseudo rows. ``dataset.json`` carries ``extra.transductive = true``
  and ``extra.pseudo_labels`` (source, threshold, round, count): a checker should skip pseudo rows for
  subject-disjointness and report them instead of failing;
* skeletons are copied (pseudo rows duplicate their original's frames; the store stays an ordinary v1 store; an
  RGB-only dataset stays RGB-only);
* files referenced by ``video_path`` and any ``*_path`` column are hard-linked into ``D2`` at the same relative path
  (copied where linking is impossible), so ``D2`` is self-contained and movable; a pseudo row points to its
  original's file. Videos are never modified in place, so sharing inodes is safe;
* ``D2/pseudo_report.json``: counts per class, agreement with the true labels where the test labels are known
  (synthetic benchmark), threshold, source predictions, and the transductive warning.

Running it on a dataset that already has pseudo rows replaces them (round + 1) instead of stacking copies.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from microgesture.data.format import Clip, Dataset, DatasetError, DatasetHeader, DatasetWriter
from microgesture.predictions import Predictions, PredictionsError, load_predictions

__all__ = ["DEFAULT_THRESHOLD", "PSEUDO_SUFFIX", "TRANSDUCTIVE_WARNING", "TransductiveWarning", "pseudo_label",
           "select_pseudo", "summary_table", "load_report"]

DEFAULT_THRESHOLD = 0.65  # AIM CMPL: ensemble max probability > 0.65 (docs/recipes.md)
PSEUDO_SUFFIX = "@pseudo"
REPORT_FILE = "pseudo_report.json"
TRANSDUCTIVE_WARNING = (
    "TRANSDUCTIVE: this dataset adds pseudo-labelled clips taken from the unlabelled evaluation split(s) {splits} to "
    "training. Scores on those splits after retraining are transductive (as in AIM's CMPL) and not comparable to "
    "inductive results."
)


class TransductiveWarning(UserWarning):
    """Emitted whenever pseudo-labels are written from evaluation clips."""


def select_pseudo(predictions: Predictions, threshold: float, *, per_class: float = 0.0
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clips whose (fused) max probability is strictly above ``threshold``, and with ``per_class`` > 0 also the most
    confident ``per_class`` share of the clips predicted as each class.

    One global threshold keeps mostly the majority class: the fused probabilities of the frequent, easy classes are
    the high ones (on the demo, 162 of 214 selected test clips were the majority class). Class-balanced self-training
    (Zou et al., ECCV 2018) instead ranks clips within each predicted class, so every class the ensemble predicts
    contributes its best clips -- at a lower precision for the added ones.

    Returns:
        (mask (N,) bool, pseudo label (N,) int64, max probability (N,)).
    """
    if not 0.0 <= threshold < 1.0:
        raise ValueError(f"threshold must be in [0, 1), got {threshold}")
    if not 0.0 <= per_class <= 1.0:
        raise ValueError(f"per_class must be in [0, 1], got {per_class}")
    probs = predictions.probs()
    conf = probs.max(axis=1)
    label = probs.argmax(axis=1).astype(np.int64)
    mask = conf > threshold
    if per_class > 0:
        for c in np.unique(label):
            idx = np.flatnonzero(label == c)
            k = int(np.ceil(per_class * len(idx)))
            # the k most confident of this class; ties broken by position so the choice is deterministic
            mask[idx[np.argsort(-conf[idx], kind="stable")[:k]]] = True
    return mask, label, conf


def _path_columns(clip: Clip) -> list[str]:
    return ["video_path"] + sorted(k for k in clip.extra if k.endswith("_path"))


def _get(clip: Clip, col: str) -> str:
    return clip.video_path if col == "video_path" else clip.extra.get(col, "")


def _set(clip: Clip, col: str, value: str) -> Clip:
    if col == "video_path":
        return replace(clip, video_path=value)
    return replace(clip, extra={**clip.extra, col: value})


class _FilePlacer:
    """Places the files a clip references into the new dataset; returns the value to store in the column."""

    def __init__(self, src_root: Path, writer: DatasetWriter, out: Path):
        self.src_root, self.writer, self.out = src_root.resolve(), writer, out.resolve()
        self.done: dict[str, str] = {}
        self.linked = self.copied = 0

    def __call__(self, clip: Clip, col: str, rel: str) -> str:
        if not rel or os.path.isabs(rel):
            return rel
        if rel in self.done:
            return self.done[rel]
        src = (self.src_root / rel).resolve()
        if not src.is_file():
            raise DatasetError(f"{self.src_root / rel}: referenced by clip {clip.clip_id} ({col}) but missing")
        if src.is_relative_to(self.src_root):
            dst = self.writer.path_for(rel)
            try:
                os.link(src, dst)
                self.linked += 1
            except OSError:  # another filesystem, or links not allowed: copy
                shutil.copy2(src, dst)
                self.copied += 1
            new = rel
        else:  # a file outside D: point at it from D2's final location
            new = os.path.relpath(src, self.out)
        self.done[rel] = new
        return new


def _check_predictions(ds: Dataset, preds: Predictions, base: list[Clip], splits: tuple[str, ...]) -> None:
    name = preds.source or "predictions"
    if preds.classes != ds.classes:
        raise PredictionsError(f"{name}: class list differs from the dataset's ({ds.root})")
    by_id = {c.clip_id: c for c in base}
    for cid in preds.clip_ids.tolist():
        c = by_id.get(cid)
        if c is None:
            raise PredictionsError(f"{name}: clip {cid!r} is not in {ds.root}")
        if c.split not in splits:
            raise PredictionsError(f"{name}: clip {cid!r} is in split {c.split!r}, not in {', '.join(splits)}")
    have = set(preds.clip_ids.tolist())
    missing = [c.clip_id for c in base if c.split in splits and c.clip_id not in have]
    if missing:
        raise PredictionsError(f"{name}: lacks clip {missing[0]!r} of {ds.root} ({len(missing)} missing)")


def _pseudo_header(ds: Dataset, preds: Predictions, *, splits: tuple[str, ...], threshold: float, rnd: int,
                   count: int, note: str, per_class: float = 0.0) -> tuple[DatasetHeader, dict, str]:
    """The output dataset's header: the input's, marked transductive, with the pseudo-label round's provenance.

    Returns:
        (header, the ``pseudo_labels`` info dict it carries, the transductive warning message).
    """
    source = preds.source or str(preds.meta.get("branch", "predictions"))
    message = TRANSDUCTIVE_WARNING.format(splits="/".join(splits))
    info = {"source": source, "source_dataset": str(ds.root), "threshold": threshold, "per_class_share": per_class,
            "splits": list(splits),
            "round": rnd, "count": count, "suffix": PSEUDO_SUFFIX, "note": note}
    extra = {k: v for k, v in ds.header.extra.items() if k not in ("transductive", "pseudo_labels")}
    header = replace(ds.header, extra={**extra, "transductive": True, "transductive_warning": message,
                                       "pseudo_labels": info})
    return header, info, message


def pseudo_label(
    dataset: Dataset | str | os.PathLike,
    predictions: Predictions | str | os.PathLike,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    per_class: float = 0.0,
    out: str | os.PathLike,
    splits: tuple[str, ...] = ("test",),
    note: str = "",
    overwrite: bool = False,
) -> Path:
    """Write ``out`` = ``dataset`` + pseudo-labelled copies of its ``splits`` clips chosen by :func:`select_pseudo`.

    ``predictions`` must cover exactly the clips of ``splits`` (joined by id; class lists must match). See the module
    docstring for the layout of the result. Emits a :class:`TransductiveWarning`. Returns ``out``.
    """
    ds = dataset if isinstance(dataset, Dataset) else Dataset.open(dataset)
    preds = predictions if isinstance(predictions, Predictions) else load_predictions(predictions)
    splits = tuple(splits)
    out = Path(out)
    if out.resolve() == ds.root.resolve():
        raise DatasetError(f"{out}: the output must differ from the input dataset")
    base = [c for c in ds.clips if not (c.pseudo and c.clip_id.endswith(PSEUDO_SUFFIX))]
    dropped = len(ds.clips) - len(base)
    prev = ds.header.extra.get("pseudo_labels", {}) if dropped else {}
    rnd = int(prev.get("round", 0)) + 1
    _check_predictions(ds, preds, base, splits)
    mask, plabel, conf = select_pseudo(preds, threshold, per_class=per_class)
    by_id = {c.clip_id: c for c in base}
    chosen = [(by_id[cid], int(plabel[i]), float(conf[i]))
              for i, cid in enumerate(preds.clip_ids.tolist()) if mask[i]]

    header, info, message = _pseudo_header(ds, preds, splits=splits, threshold=threshold, rnd=rnd,
                                           count=len(chosen), note=note, per_class=per_class)
    warnings.warn(message, TransductiveWarning, stacklevel=2)

    with DatasetWriter(out, header, overwrite=overwrite) as w:
        place = _FilePlacer(ds.root, w, out)

        def relocated(c: Clip) -> Clip:
            for col in _path_columns(c):
                v = _get(c, col)
                nv = place(c, col, v)
                if nv != v:
                    c = _set(c, col, nv)
            return c

        def skeleton(c: Clip) -> np.ndarray | None:  # None for an RGB-only dataset ('skeletons': false)
            return ds.skeleton(c) if ds.has_skeletons else None

        for c in base:
            w.add(relocated(c), skeleton(c))
        for c, lab, p in chosen:
            row = replace(relocated(c), clip_id=c.clip_id + PSEUDO_SUFFIX, split="train", label=lab, pseudo=1)
            row = replace(row, extra={**row.extra, "pseudo_of": c.clip_id, "pseudo_conf": f"{p:.6f}"})
            w.add(row, skeleton(c))
        report = _report(ds, preds, chosen, conf, info, message, dropped)
        report["files"] = {"linked": place.linked, "copied": place.copied}
        w.path_for(REPORT_FILE).write_text(json.dumps(report, indent=1) + "\n")
    return out


def _report(ds: Dataset, preds: Predictions, chosen: list[tuple[Clip, int, float]], conf: np.ndarray, info: dict,
            message: str, dropped: int) -> dict:
    k = len(ds.classes)
    sel = np.zeros(k, dtype=np.int64)
    known = np.zeros(k, dtype=np.int64)
    correct = np.zeros(k, dtype=np.int64)
    for c, lab, _ in chosen:
        sel[lab] += 1
        if c.label >= 0:
            known[lab] += 1
            correct[lab] += int(c.label == lab)
    n_known = int(known.sum())
    return {
        "transductive": True,
        "warning": message,
        **info,
        "candidates": len(preds),
        "selected": len(chosen),
        "coverage": len(chosen) / max(len(preds), 1),
        "mean_confidence": float(np.mean([p for _, _, p in chosen])) if chosen else None,
        "candidates_mean_confidence": float(conf.mean()) if len(conf) else None,
        # agreement = precision of the pseudo labels, measurable only where the true labels are known
        "agreement": float(correct.sum() / n_known) if n_known else None,
        "agreement_known": n_known,
        "previous_pseudo_rows_replaced": dropped,
        "per_class": {
            name: {"selected": int(sel[i]), "known": int(known[i]), "correct": int(correct[i]),
                   "agreement": float(correct[i] / known[i]) if known[i] else None}
            for i, name in enumerate(ds.classes)
        },
    }


def load_report(dataset: str | os.PathLike) -> dict:
    """The pseudo-labelling report (:data:`REPORT_FILE`) of a dataset written by :func:`pseudo_label`."""
    return json.loads((Path(dataset) / REPORT_FILE).read_text())


def summary_table(report: dict):
    """A rich Table of the per-class pseudo-label counts (and agreement where labels are known)."""
    from rich.table import Table

    t = Table(title=f"pseudo-labels: {report['selected']}/{report['candidates']} clips with max prob > "
                    f"{report['threshold']} (round {report['round']})")
    t.add_column("class")
    t.add_column("selected", justify="right")
    t.add_column("agreement", justify="right")
    for name, r in report["per_class"].items():
        if r["selected"]:
            t.add_row(name, str(r["selected"]), "-" if r["agreement"] is None else f"{100 * r['agreement']:.1f}%")
    overall = report.get("agreement")
    t.add_row("[bold]all[/]", str(report["selected"]), "-" if overall is None else f"{100 * overall:.1f}%")
    return t
