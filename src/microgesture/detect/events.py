"""Events of a detection: event-level F1 against ground truth, the events CSV, the timeline PNG, and
:func:`detect_file`, the whole ``microgesture detect`` run from a skeleton or video to its files."""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from microgesture.atomic import atomic_path, write_json
from microgesture.detect.core import (
    EVENT_COLUMNS,
    DetectConfig,
    DetectError,
    Detection,
    Event,
    background_labels,
    detect,
)
from microgesture.detect.timeline import plot_timeline

log = logging.getLogger(__name__)


# -- evaluation -------------------------------------------------------------------------------------------------------
def temporal_iou(a: Event, b: Event) -> float:
    """IoU of two inclusive frame intervals."""
    inter = min(a.end, b.end) - max(a.start, b.start) + 1
    if inter <= 0:
        return 0.0
    return inter / (a.num_frames + b.num_frames - inter)


def event_f1(pred: Sequence[Event], gt: Sequence[Event], iou: float) -> dict:
    """Event-level precision, recall and F1 at a temporal IoU threshold (MiGA online-recognition protocol).

    Predictions are taken by decreasing score; each is matched to the unmatched ground-truth event of the same class
    with the highest IoU, if that IoU >= ``iou`` (one-to-one, greedy). Unmatched predictions are false positives,
    unmatched ground truth false negatives.
    """
    used = [False] * len(gt)
    tp = 0
    for p in sorted(pred, key=lambda e: -e.score):
        best, best_iou = -1, iou
        for j, g in enumerate(gt):
            if used[j] or g.label != p.label:
                continue
            v = temporal_iou(p, g)
            if v >= best_iou and (best < 0 or v > best_iou):
                best, best_iou = j, v
        if best >= 0:
            used[best] = True
            tp += 1
    fp, fn = len(pred) - tp, len(gt) - tp
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"iou": iou, "tp": tp, "fp": fp, "fn": fn, "precision": prec, "recall": rec, "f1": f1}


def event_report(pred: Sequence[Event], gt: Sequence[Event], *, ious: Sequence[float] = (0.1, 0.3, 0.5),
                 background: frozenset[int] = frozenset()) -> dict:
    """:func:`event_f1` at each IoU; ground-truth events of background classes are left out first."""
    gt = [g for g in gt if g.label not in background]
    pred = [p for p in pred if p.label not in background]
    return {f"{t:g}": event_f1(pred, gt, t) for t in ious}


# -- files ------------------------------------------------------------------------------------------------------------
def write_events(path: str | os.PathLike, events: Sequence[Event]) -> Path:
    """CSV with EVENT_COLUMNS: times in seconds (end exclusive: end_frame + 1 over fps) and inclusive frames."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(EVENT_COLUMNS)
        for e in events:
            w.writerow([f"{e.start_s:.3f}", f"{e.end_s:.3f}", e.start, e.end, e.label, e.name, f"{e.score:.4f}"])
    return path


def read_events(path: str | os.PathLike, *, fps: float | None = None) -> list[Event]:
    """Read an events CSV (``microgesture detect`` output, or ground truth in the same columns; score may be empty)."""
    path = Path(path)
    if not path.is_file():
        raise DetectError(f"{path}: events file not found")
    out = []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for i, r in enumerate(rows, start=2):
        try:
            a, b = int(r["start_frame"]), int(r["end_frame"])
            rate = fps or (b + 1 - a) / (float(r["end_s"]) - float(r["start_s"]))
            out.append(Event(a, b, int(r["label"]), r.get("class", ""), float(r.get("score") or 1.0), rate))
        except (KeyError, ValueError, ZeroDivisionError, TypeError) as e:
            raise DetectError(f"{path}:line {i}: bad event row ({e}); columns: {', '.join(EVENT_COLUMNS)}") from None
    return out


def config_dict(cfg: DetectConfig) -> dict:
    """The settings as a JSON-ready dict (recorded next to the events)."""
    d = asdict(cfg)
    d["background"] = list(cfg.background) if cfg.background is not None else None
    return d


@dataclass
class DetectRun:
    """What :func:`detect_file` did: the detection, its ground-truth report (if any) and the files written."""

    detection: Detection
    record: dict
    csv: Path
    timeline: Path
    json: Path
    windows: Path
    overlay: Path | None = None


def parse_background(text: str | None) -> tuple[str, ...] | None:
    """``--background``: None = the default (non-MG), ``none`` = no background class, else comma-separated names."""
    if text is None:
        return None
    return () if text.lower() == "none" else tuple(b.strip() for b in text.split(",") if b.strip())


def detect_file(
    source: str | os.PathLike, model: str | os.PathLike, out: str | os.PathLike, *, config: DetectConfig | None = None,
    gt: str | os.PathLike | None = None, overlay: str | os.PathLike | None = None,
    video: str | os.PathLike | None = None, select: str = "largest", max_gap: int = 0,
) -> DetectRun:
    """Detect events in a skeleton ``.npz`` (from ``microgesture pose``) or a video (its pose is extracted first).

    Writes ``out`` (events CSV) and beside it ``<stem>_timeline.png``, ``<stem>_windows.npz`` (window starts, raw and
    smoothed scores, classes) and ``<stem>.json`` (settings, counts, event F1 against ``gt`` when given); with
    ``overlay``, the video with the skeleton and the current top-3 labels (``video`` is needed for a skeleton source).
    """
    from microgesture.pose import extract_pose, load_pose, write_pose_overlay

    cfg = config or DetectConfig()
    src = Path(source)
    if src.suffix.lower() == ".npz":
        pose = load_pose(src)
    else:
        log.info("extracting the pose of %s ...", src)
        pose = extract_pose(src, select=select, max_gap=max_gap)
        video = video or src
    if overlay and not video:
        raise DetectError("--overlay needs the video: pass --video for a skeleton SOURCE")
    det = detect(model, pose.keypoints, fps=pose.fps, config=cfg)
    gt_events = read_events(gt, fps=pose.fps) if gt else None
    csv_path = write_events(out, det.events)
    stem = csv_path.with_suffix("")
    png = plot_timeline(det, f"{stem}_timeline.png", gt=gt_events)
    record = {"source": str(src), "model": str(model), "fps": pose.fps, "frames": det.num_frames,
              "windows": len(det.starts), "window_frames": det.window, "stride_frames": det.stride,
              "config": config_dict(cfg), "events": len(det.events), "no_person": pose.no_person}
    from microgesture.detect.domain import domain_warning, score_level

    warn = domain_warning(pose.keypoints, det.probs, det.valid, level=score_level(model))
    if warn:  # said once; the extracted skeleton is kept so the footage's pose can be inspected without re-extraction
        log.warning("%s: %s", src, warn)
        record["domain_warning"] = warn
        if src.suffix.lower() != ".npz":
            record["pose"] = str(pose.save(f"{stem}_pose.npz"))
    windows = Path(f"{stem}_windows.npz")
    with atomic_path(windows) as tmp:
        np.savez_compressed(tmp, starts=det.starts, probs=det.probs.astype(np.float32),
                            smoothed=det.smoothed.astype(np.float32), classes=np.array(det.classes))
    if gt_events is not None:
        record["event_f1"] = event_report(det.events, gt_events,
                                          background=background_labels(det.classes, cfg.background))
    if overlay:
        def lines(t: int) -> list[str]:
            now = [e for e in det.events if e.start <= t <= e.end]
            head = [f"EVENT: {now[0].name}"] if now else ["(background)"]
            return head + [f"{name[:30]} {p:.2f}" for name, p in det.top_k(t)]

        write_pose_overlay(video, pose, overlay, labels=lines)
    js = write_json(f"{stem}.json", record)
    return DetectRun(det, record, csv_path, png, js, windows, Path(overlay) if overlay else None)
