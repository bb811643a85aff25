"""The MiGA'25 raw iMiGUE layout: files found by name anywhere under the raw directory (flat or ``<vid>/`` nested).

Per video ``<vid>``:

* ``<vid>_label.csv``: rows ``class,start,end`` (raw class 1-31, 99 = non-MG; frames 0-based inclusive; an optional
  header row; an empty class = unknown label -1). Clip ``<vid>_<k>`` is data row ``k`` (0-based, header not counted).
* skeletons, one of: ``<vid>_openpose.csv`` or ``<vid>_openpose.xlsx`` (no header, one row per frame, 411 values =
  137 keypoints x (x, y, conf) in pixels), or a folder ``<vid>/`` of per-frame OpenPose JSON files.
* ``<vid>.mp4`` (optional; but once any video has one, all need one).

Split lists (``*list*.txt`` naming train/val/test, lines ``<vid>_<k>.mp4 <label>``) and ``subjects.csv``
(``video_id,subject``) are found the same way.
"""

from __future__ import annotations

import csv
import os
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from microgesture.data.classes import imigue_label
from microgesture.data.openpose import RawDataError
from microgesture.data.raw_common import LabelRow, Skipped, VideoEntry, is_int

__all__ = ["MigaScan", "scan_miga", "read_labels", "read_pairs", "read_split_files", "split_from_name",
           "SPLIT_WORDS"]

SPLIT_WORDS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}


def split_from_name(path: str | os.PathLike) -> str | None:
    """The split named by a list file's name (``iMiGUE_train_clips_list.txt`` -> ``train``), or None."""
    words = {SPLIT_WORDS[w] for w in re.split(r"[^a-z]+", Path(path).stem.lower()) if w in SPLIT_WORDS}
    return words.pop() if len(words) == 1 else None


def read_labels(path: Path) -> tuple[list[LabelRow], list[Skipped]]:
    """Rows of a ``<vid>_label.csv`` and the problems of the rows that do not parse."""
    vid = path.name[: -len("_label.csv")]
    rows: list[LabelRow] = []
    bad: list[Skipped] = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        lines = [(i, [c.strip() for c in r]) for i, r in enumerate(csv.reader(fh), start=1)]
    lines = [(i, cells) for i, cells in lines if any(cells)]
    if lines and not all(is_int(c) for c in lines[0][1][1:3]):
        lines = lines[1:]  # header row such as "class,start,end"
    for k, (line, cells) in enumerate(lines):
        where, cid = f"{path}:line {line}", f"{vid}_{k}"
        if len(cells) < 3 or not all(is_int(c) for c in cells[1:3]) or not (cells[0] == "" or is_int(cells[0])):
            bad.append(Skipped(cid, where, f"expected class,start,end as integers, got {','.join(cells)!r}"))
            continue
        raw, start, end = (int(float(c)) if c else -1 for c in cells[:3])
        try:
            label = -1 if raw == -1 else imigue_label(raw)
        except ValueError:
            bad.append(Skipped(cid, where, f"class {raw} is not an iMiGUE class (1-31, or 99 = non-MG)"))
            continue
        if start < 0 or end < start:
            bad.append(Skipped(cid, where, f"frames {start}..{end} are not a valid 0-based inclusive range"))
            continue
        rows.append(LabelRow(k, where, label, start, end))
    return rows, bad


def read_pairs(path: Path, what: str) -> list[tuple[str, str, str]]:
    """Rows ``key,value`` of a small CSV (optional header) as (key, value, "file:line N")."""
    out = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for i, r in enumerate(csv.reader(fh), start=1):
            r = [c.strip() for c in r]
            if not any(r):
                continue
            if len(r) < 2 or not r[0] or not r[1]:
                raise RawDataError(f"{path}:line {i}: expected {what}, got {','.join(r)!r}")
            if i == 1 and r[0].lower() in ("video_id", "video", "id", "vid", "name", "clip_id"):
                continue
            out.append((r[0], r[1], f"{path}:line {i}"))
    return out


def read_split_files(paths: Sequence[Path]) -> tuple[dict[str, tuple[str, str, int | None]], dict[str, str]]:
    """Clip-level splits from list files and video-level splits from ``video_id,split`` CSVs."""
    clip_split: dict[str, tuple[str, str, int | None]] = {}  # clip -> (split, where, label in the list)
    video_split: dict[str, str] = {}
    for p in paths:
        if not p.is_file():
            raise RawDataError(f"{p}: split file not found")
        if p.suffix.lower() == ".csv":
            for vid, split, where in read_pairs(p, "video_id,split"):
                if split.lower() not in SPLIT_WORDS:
                    raise RawDataError(f"{where}: split {split!r} is not train/val/test")
                video_split[vid] = SPLIT_WORDS[split.lower()]
            continue
        split = split_from_name(p)
        if split is None:
            raise RawDataError(f"{p}: cannot tell the split from the file name (it must contain train, val or test)")
        for i, line in enumerate(p.read_text(encoding="utf-8-sig").splitlines(), start=1):
            toks = line.split()
            if not toks:
                continue
            cid = Path(toks[0]).stem
            lab = int(float(toks[1])) if len(toks) > 1 and is_int(toks[1]) else None
            if cid in clip_split and clip_split[cid][0] != split:
                raise RawDataError(f"{p}:line {i}: clip {cid} is also listed in {clip_split[cid][1]}")
            clip_split[cid] = (split, f"{p}:line {i}", lab)
    return clip_split, video_split


@dataclass
class MigaScan:
    """What was found under the raw directory in the MiGA'25 layout."""

    labels: dict[str, list[Path]] = field(default_factory=lambda: defaultdict(list))
    tables: dict[str, list[Path]] = field(default_factory=lambda: defaultdict(list))
    json_dirs: dict[str, list[Path]] = field(default_factory=lambda: defaultdict(list))
    videos: dict[str, list[Path]] = field(default_factory=lambda: defaultdict(list))
    lists: list[Path] = field(default_factory=list)
    subjects: list[Path] = field(default_factory=list)

    def entries(self, subject_of: dict[str, str] | None) -> tuple[list[VideoEntry], list[Skipped], list[str]]:
        """One entry per labelled video, the label rows that do not parse, and notes (several skeleton sources)."""
        out, bad, notes = [], [], []
        for vid in sorted(self.labels):
            rows, row_bad = read_labels(self.labels[vid][0])
            bad += row_bad
            sources = sorted(self.tables.get(vid, []), key=lambda p: p.suffix.lower() != ".csv")
            sources += self.json_dirs.get(vid, [])
            if len(sources) > 1:
                notes.append(f"video {vid}: several skeleton sources, using {sources[0]}")
            videos = self.videos.get(vid, [])
            out.append(VideoEntry(vid=vid, rows=rows, skeleton=sources[0] if sources else None,
                                  video=videos[0] if videos else None,
                                  subject=None if subject_of is None else subject_of.get(vid),
                                  where=str(self.labels[vid][0])))
        return out, bad, notes


def scan_miga(raw: Path, skip: Path) -> MigaScan:
    """Find the raw files by name anywhere under ``raw`` (hidden folders and ``skip``, the output, excluded)."""
    idx = MigaScan()
    skip = skip.resolve()
    for dirpath, dirnames, filenames in os.walk(raw):
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if not n.startswith(".") and (d / n).resolve() != skip)
        has_json = False
        for f in sorted(filenames):
            low = f.lower()
            if low.endswith("_label.csv"):
                idx.labels[f[: -len("_label.csv")]].append(d / f)
            elif low.endswith(("_openpose.csv", "_openpose.xlsx")):
                idx.tables[f[: low.rindex("_openpose")]].append(d / f)
            elif low.endswith(".mp4"):
                idx.videos[f[:-4]].append(d / f)
            elif low.endswith(".json"):
                has_json = True
            elif low.endswith(".txt") and "list" in low and split_from_name(f):
                idx.lists.append(d / f)
            elif low == "subjects.csv":
                idx.subjects.append(d / f)
        if has_json and d != raw:
            idx.json_dirs[d.name].append(d)
    for vid in idx.labels:
        found = idx.labels[vid] + idx.videos.get(vid, []) + idx.tables.get(vid, [])
        dup = [p for p in found if [q.name for q in found].count(p.name) > 1]
        if dup:
            raise RawDataError(f"{raw}: {dup[0].name} found more than once: {', '.join(map(str, dup))}")
    return idx
