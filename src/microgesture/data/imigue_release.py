"""The original iMiGUE release layout, as its authors distribute it (found anywhere under the raw directory)::

    Label/labels_<date>.csv            video_id,label_id,start_time,start_frame,end_time,end_frame,class,subject_id,
                                       subject_gender,subject_nationality,win_or_lose (frames at 25 fps)
    Label/raw/<vid>.txt                start_seconds<TAB>end_seconds<TAB>class, no header
    Data/skeleton/raw/<vid>/<vid>_<12-digit frame>_keypoints.json    OpenPose 1.3, one file per frame
    <vid>.mp4                          optional (licensed), anywhere

Either label source is enough. Clip ``<vid>_<k>``: ``k = label_id - 1`` from the labels CSV, else the 0-based line of
the ``.txt``. Seconds become frames at the video's fps (25 when there is no video); from the CSV the frame columns
are used when the fps is 25. When both sources hold a video they must agree (same rows, frames within
:data:`AGREE_FRAMES`), else the video is reported. Subject id, gender, nationality and win/lose become clip columns.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from microgesture.data.classes import imigue_label
from microgesture.data.miga_raw import split_from_name
from microgesture.data.openpose import RawDataError
from microgesture.data.raw_common import LabelRow, Skipped, VideoEntry, is_int

__all__ = ["ReleaseScan", "scan_release", "AGREE_FRAMES", "META_COLUMNS"]

AGREE_FRAMES = 2
META_COLUMNS = ("subject_gender", "subject_nationality", "win_or_lose")
_NEEDED = ("video_id", "label_id", "start_frame", "end_frame", "class", "subject_id")


@dataclass
class ReleaseScan:
    """What was found of the original release layout."""

    labels_csv: list[Path] = field(default_factory=list)
    label_txt: dict[str, Path] = field(default_factory=dict)
    skeleton_dirs: dict[str, Path] = field(default_factory=dict)
    videos: dict[str, list[Path]] = field(default_factory=lambda: defaultdict(list))
    lists: list[Path] = field(default_factory=list)

    def describe(self) -> str:
        csvs = ", ".join(p.name for p in self.labels_csv) or "none"
        return (f"original iMiGUE release (labels CSV: {csvs}; Label/raw: {len(self.label_txt)} files; skeleton "
                f"folders: {len(self.skeleton_dirs)}; videos: {len(self.videos)})")

    def entries(self, fps_of: Callable[[str], float]) -> tuple[list[VideoEntry], list[Skipped], list[str]]:
        """One entry per labelled video, the problems (rows, conflicts, disagreements) and notes."""
        bad: list[Skipped] = []
        notes: list[str] = []
        csv_rows: dict[str, list[tuple[LabelRow, str, dict]]] = {}
        if self.labels_csv:
            if len(self.labels_csv) > 1:
                notes.append(f"several label CSVs; using the last by name, {self.labels_csv[-1]}")
            csv_rows = _read_csv(self.labels_csv[-1], fps_of, bad)
        txt_rows = {vid: _read_txt(p, vid, fps_of(vid), bad) for vid, p in sorted(self.label_txt.items())}
        out = []
        for vid in sorted(set(csv_rows) | set(txt_rows)):
            rows = [r for r, _, _ in csv_rows[vid]] if vid in csv_rows else txt_rows[vid]
            if vid in csv_rows and vid in txt_rows:
                msg = _disagreement(rows, txt_rows[vid], self.label_txt[vid])
                if msg:
                    bad.append(Skipped(f"{vid}_*", msg[0], msg[1]))
                    continue
            subject, meta = None, {}
            if vid in csv_rows and csv_rows[vid]:
                _, subject, meta = csv_rows[vid][0]
            videos = self.videos.get(vid, [])
            where = str(self.labels_csv[-1]) if vid in csv_rows else str(self.label_txt[vid])
            out.append(VideoEntry(vid=vid, rows=rows, skeleton=self.skeleton_dirs.get(vid),
                                  video=videos[0] if videos else None, subject=subject, meta=meta, where=where))
        return out, bad, notes


def _frames(t: str, fps: float) -> int:
    return int(round(float(t) * fps))


def _label_or_skip(raw: str, cid: str, where: str, bad: list[Skipped]) -> int | None:
    """The class index of an iMiGUE label, or None after recording why the row is skipped."""
    try:
        return imigue_label(raw)
    except ValueError:
        bad.append(Skipped(cid, where, f"class {raw} is not an iMiGUE class (1-31, or 99 = non-MG)"))
        return None


def _read_csv(path: Path, fps_of: Callable[[str], float], bad: list[Skipped]) -> dict[str, list]:
    """{vid: [(row, subject, meta)]}; a video whose rows name two subjects is reported whole and left out."""
    out: dict[str, list] = defaultdict(list)
    first: dict[str, tuple[str, str]] = {}  # vid -> (subject, where)
    conflicted: set[str] = set()
    seen: dict[tuple[str, int], str] = {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in _NEEDED if c not in (reader.fieldnames or [])]
        if missing:
            raise RawDataError(f"{path}: missing columns {', '.join(missing)} (expected the iMiGUE labels header)")
        for line, row in enumerate(reader, start=2):
            where = f"{path}:line {line}"
            cells = {k: (v or "").strip() for k, v in row.items() if k is not None}
            vid = cells["video_id"]
            ints = ("label_id", "start_frame", "end_frame", "class")
            if not vid or not all(is_int(cells[c]) for c in ints) or not cells["subject_id"]:
                bad.append(Skipped(f"{vid}_?", where, "expected video_id, integer label_id, start_frame, end_frame, "
                                   f"class and a subject_id, got {','.join(cells.values())!r}"))
                continue
            lid, start, end, raw = (int(float(cells[c])) for c in ints)
            cid = f"{vid}_{lid - 1}"
            fps = fps_of(vid)
            if fps != 25.0 and cells.get("start_time") and cells.get("end_time"):
                try:
                    start, end = _frames(cells["start_time"], fps), _frames(cells["end_time"], fps)
                except ValueError:
                    bad.append(Skipped(cid, where, "start_time/end_time are not numbers"))
                    continue
            label = _label_or_skip(raw, cid, where, bad)
            if label is None:
                continue
            if lid < 1 or (vid, lid) in seen:
                what = f"is also at {seen[(vid, lid)]}" if (vid, lid) in seen else "must be >= 1"
                bad.append(Skipped(cid, where, f"label_id {lid} of video {vid} {what}"))
                continue
            seen[(vid, lid)] = where
            if start < 0 or end < start:
                bad.append(Skipped(cid, where, f"frames {start}..{end} are not a valid 0-based inclusive range"))
                continue
            subject = cells["subject_id"]
            if vid not in first:
                first[vid] = (subject, where)
            elif subject != first[vid][0] and vid not in conflicted:
                conflicted.add(vid)
                bad.append(Skipped(f"{vid}_*", where, f"subject_id {subject} for video {vid} conflicts with "
                                   f"subject_id {first[vid][0]} at {first[vid][1]}"))
            meta = {c: cells[c] for c in META_COLUMNS if cells.get(c)}
            out[vid].append((LabelRow(lid - 1, where, label, start, end), subject, meta))
    return {v: rows for v, rows in out.items() if v not in conflicted}


def _read_txt(path: Path, vid: str, fps: float, bad: list[Skipped]) -> list[LabelRow]:
    rows = []
    k = 0
    for line, text in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        toks = text.split()
        if not toks:
            continue
        where, cid = f"{path}:line {line}", f"{vid}_{k}"
        k += 1
        try:
            start, end = _frames(toks[0], fps), _frames(toks[1], fps)
            raw = int(toks[2]) if len(toks) == 3 and is_int(toks[2]) else None
        except (ValueError, IndexError):
            raw = None
        if raw is None:
            bad.append(Skipped(cid, where, f"expected start_seconds<TAB>end_seconds<TAB>class, got {text.strip()!r}"))
            continue
        label = _label_or_skip(raw, cid, where, bad)
        if label is None:
            continue
        if start < 0 or end < start:
            bad.append(Skipped(cid, where, f"{toks[0]}..{toks[1]} s is not a valid time range"))
            continue
        rows.append(LabelRow(k - 1, where, label, start, end))
    return rows


def _disagreement(a: list[LabelRow], b: list[LabelRow], txt: Path) -> tuple[str, str] | None:
    """(where, message) when the CSV rows ``a`` and the .txt rows ``b`` of one video disagree, else None."""
    if len(a) != len(b):
        return str(txt), f"{len(b)} clips, but the labels CSV has {len(a)} for this video"
    for x, y in zip(sorted(a, key=lambda r: (r.start, r.end)), sorted(b, key=lambda r: (r.start, r.end)), strict=True):
        if abs(x.start - y.start) > AGREE_FRAMES or abs(x.end - y.end) > AGREE_FRAMES or x.label != y.label:
            return y.where, (f"frames {y.start}..{y.end} (class index {y.label}) disagree with {x.where}: frames "
                             f"{x.start}..{x.end} (class index {x.label}), more than {AGREE_FRAMES} frames apart "
                             "or another class")
    return None


def scan_release(raw: Path, skip: Path) -> ReleaseScan | None:
    """The release files under ``raw`` (hidden folders and ``skip``, the output, excluded), or None if none.

    Skeleton folders are recorded without listing their (many) frame files.
    """
    found = ReleaseScan()
    skip = skip.resolve()
    for dirpath, dirnames, filenames in os.walk(raw):
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if not n.startswith(".") and (d / n).resolve() != skip)
        if d.name == "raw" and d.parent.name == "skeleton":
            for n in dirnames:
                if n in found.skeleton_dirs:
                    raise RawDataError(f"{d / n}: skeleton folder of video {n} also at {found.skeleton_dirs[n]}")
                found.skeleton_dirs[n] = d / n
            dirnames[:] = []
            continue
        for f in sorted(filenames):
            low = f.lower()
            if d.name == "raw" and d.parent.name == "Label" and low.endswith(".txt"):
                found.label_txt[f[:-4]] = d / f
            elif d.name == "Label" and low.startswith("labels") and low.endswith(".csv"):
                found.labels_csv.append(d / f)
            elif low.endswith(".mp4"):
                found.videos[f[:-4]].append(d / f)
            elif low.endswith(".txt") and "list" in low and split_from_name(f):
                found.lists.append(d / f)
    if not (found.labels_csv or found.label_txt or found.skeleton_dirs):
        return None
    found.labels_csv.sort(key=lambda p: p.name)
    for vid, paths in found.videos.items():
        if len(paths) > 1:
            raise RawDataError(f"{raw}: {vid}.mp4 found more than once: {', '.join(map(str, paths))}")
    return found
