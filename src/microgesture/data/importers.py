"""Importers into dataset format v1: raw iMiGUE (MiGA'25 layout) and mmaction-style list files (RGB-only).

Raw iMiGUE files are found by name anywhere under the raw directory, so flat and nested (``<vid>/...``) layouts both
work. Per video ``<vid>``:

* ``<vid>_label.csv``: rows ``class,start,end`` (raw class 1-31, 99 = non-MG; frames 0-based inclusive; an optional
  header row; an empty class = unknown label -1). Clip ``<vid>_<k>`` is data row ``k`` (0-based, header not counted).
* skeletons, one of: ``<vid>_openpose.csv`` or ``<vid>_openpose.xlsx`` (no header, one row per frame, 411 values =
  137 keypoints x (x, y, conf) in pixels), or a folder ``<vid>/`` of per-frame OpenPose JSON files.
* ``<vid>.mp4`` (optional; but once any video has one, all need one).

Problems are collected per clip, each naming the file and row. By default nothing is written when there is any
problem (the message lists them); with ``skip_bad`` the good clips are written and ``import_report.json`` in the
dataset directory lists the skipped ones. Skeletons are validated for every clip before any video is cut.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import av

from microgesture.data.classes import IMIGUE_CLASSES, imigue_label
from microgesture.data.format import Clip, DatasetHeader, DatasetWriter
from microgesture.data.openpose import RawDataError, read_openpose_json_dir, read_skeleton_table
from microgesture.data.video import VideoError, VideoWriter, probe_video

__all__ = ["RawDataError", "Skipped", "ImportReport", "import_imigue", "import_list", "read_skeleton_table",
           "read_openpose_json_dir", "split_from_name", "REPORT_FILE"]

REPORT_FILE = "import_report.json"
_SPLIT_WORDS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}
_MAX_LISTED = 20  # problems spelled out in an error message; the rest are counted


@dataclass(frozen=True)
class Skipped:
    """One clip (or list entry) that could not be imported."""

    clip_id: str
    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}" + (f" (clip {self.clip_id})" if self.clip_id else "")


@dataclass
class ImportReport:
    """What an import did; written to ``import_report.json`` in the dataset directory."""

    dataset: str
    clips_per_split: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    multi_person_frames: dict[str, int] = field(default_factory=dict)  # video -> frames with > 1 person
    empty_frames: dict[str, int] = field(default_factory=dict)  # video -> JSON frames with no person

    def to_json(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        n = sum(self.clips_per_split.values())
        per = ", ".join(f"{k} {v}" for k, v in self.clips_per_split.items())
        lines = [f"imported {n} clips ({per}) into {self.dataset}"]
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)}:")
            lines += [f"  {s}" for s in self.skipped[:_MAX_LISTED]]
            if len(self.skipped) > _MAX_LISTED:
                lines.append(f"  ... and {len(self.skipped) - _MAX_LISTED} more, see {REPORT_FILE}")
        if sum(self.multi_person_frames.values()):
            lines.append(f"{sum(self.multi_person_frames.values())} frames had several people (largest box kept)")
        lines += [f"warning: {w}" for w in self.warnings[:_MAX_LISTED]]
        return "\n".join(lines)


def _fail(problems: Sequence[Skipped], what: str) -> RawDataError:
    lines = [f"{len(problems)} problem(s) in {what}; nothing written (--skip-bad writes the good clips):"]
    lines += [f"  {p}" for p in problems[:_MAX_LISTED]]
    if len(problems) > _MAX_LISTED:
        lines.append(f"  ... and {len(problems) - _MAX_LISTED} more")
    return RawDataError("\n".join(lines))


def split_from_name(path: str | os.PathLike) -> str | None:
    """The split named by a list file's name (``iMiGUE_train_clips_list.txt`` -> ``train``), or None."""
    words = {_SPLIT_WORDS[w] for w in re.split(r"[^a-z]+", Path(path).stem.lower()) if w in _SPLIT_WORDS}
    return words.pop() if len(words) == 1 else None


# -- small raw files --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _LabelRow:
    k: int
    where: str  # "file:line N"
    label: int
    start: int
    end: int


def _is_int(s: str) -> bool:
    """An integer, also as written by spreadsheets and pandas ("7.0")."""
    return bool(re.fullmatch(r"\s*-?\d+(\.0*)?\s*", s))


def _read_labels(path: Path) -> tuple[list[_LabelRow], list[Skipped]]:
    vid = path.name[: -len("_label.csv")]
    rows: list[_LabelRow] = []
    bad: list[Skipped] = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        lines = [(i, [c.strip() for c in r]) for i, r in enumerate(csv.reader(fh), start=1)]
    lines = [(i, cells) for i, cells in lines if any(cells)]
    if lines and not all(_is_int(c) for c in lines[0][1][1:3]):
        lines = lines[1:]  # header row such as "class,start,end"
    for k, (line, cells) in enumerate(lines):
        where, cid = f"{path}:line {line}", f"{vid}_{k}"
        if len(cells) < 3 or not all(_is_int(c) for c in cells[1:3]) or not (cells[0] == "" or _is_int(cells[0])):
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
        rows.append(_LabelRow(k, where, label, start, end))
    return rows, bad


def _read_pairs(path: Path, what: str) -> list[tuple[str, str, str]]:
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


def _read_split_files(paths: Sequence[Path]) -> tuple[dict[str, tuple[str, str, int | None]], dict[str, str]]:
    """Clip-level splits from list files and video-level splits from ``video_id,split`` CSVs."""
    clip_split: dict[str, tuple[str, str, int | None]] = {}  # clip -> (split, where, label in the list)
    video_split: dict[str, str] = {}
    for p in paths:
        if not p.is_file():
            raise RawDataError(f"{p}: split file not found")
        if p.suffix.lower() == ".csv":
            for vid, split, where in _read_pairs(p, "video_id,split"):
                if split.lower() not in _SPLIT_WORDS:
                    raise RawDataError(f"{where}: split {split!r} is not train/val/test")
                video_split[vid] = _SPLIT_WORDS[split.lower()]
            continue
        split = split_from_name(p)
        if split is None:
            raise RawDataError(f"{p}: cannot tell the split from the file name (it must contain train, val or test)")
        for i, line in enumerate(p.read_text(encoding="utf-8-sig").splitlines(), start=1):
            toks = line.split()
            if not toks:
                continue
            cid = Path(toks[0]).stem
            lab = int(float(toks[1])) if len(toks) > 1 and _is_int(toks[1]) else None
            if cid in clip_split and clip_split[cid][0] != split:
                raise RawDataError(f"{p}:line {i}: clip {cid} is also listed in {clip_split[cid][1]}")
            clip_split[cid] = (split, f"{p}:line {i}", lab)
    return clip_split, video_split


def _place(src: Path, dst: Path) -> None:
    """Hard-link ``src`` to ``dst`` (same filesystem), else copy it."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _most_common(values: list, default):
    return Counter(values).most_common(1)[0][0] if values else default


# -- raw iMiGUE -------------------------------------------------------------------------------------------------------
@dataclass
class _Raw:
    """What was found under the raw directory, plus the problems and notes gathered while importing."""

    labels: dict[str, list[Path]] = field(default_factory=lambda: defaultdict(list))
    tables: dict[str, list[Path]] = field(default_factory=lambda: defaultdict(list))
    json_dirs: dict[str, list[Path]] = field(default_factory=lambda: defaultdict(list))
    videos: dict[str, list[Path]] = field(default_factory=lambda: defaultdict(list))
    lists: list[Path] = field(default_factory=list)
    subjects: list[Path] = field(default_factory=list)
    clip_split: dict[str, tuple[str, str, int | None]] = field(default_factory=dict)
    video_split: dict[str, str] = field(default_factory=dict)
    subject_of: dict[str, str] | None = None  # None: subject = video id
    probes: dict[str, dict] = field(default_factory=dict)
    bad: list[Skipped] = field(default_factory=list)


def _scan(raw: Path, skip: Path) -> _Raw:
    """Find the raw files by name anywhere under ``raw`` (hidden folders and ``skip``, the output, excluded)."""
    idx = _Raw()
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


def import_imigue(raw_dir: str | os.PathLike, out_dir: str | os.PathLike, *, splits: Sequence[str | os.PathLike] = (),
                  subjects: str | os.PathLike | None = None, skip_bad: bool = False, overwrite: bool = False,
                  cut_clips: bool = True, fps: float = 25.0, frame_size: tuple[int, int] = (1280, 720),
                  name: str = "imigue", log: Callable[[str], None] | None = None) -> ImportReport:
    """Import raw iMiGUE (MiGA'25 layout, see the module docstring) into an openpose137 dataset at ``out_dir``.

    Args:
        splits: clip list files (``<vid>_<k>.mp4 <label>`` lines; the split is named in the file name) and/or
            ``video_id,split`` CSVs. Default: every ``*list*.txt`` under ``raw_dir`` whose name names a split.
        subjects: ``video_id,subject`` CSV. Default: ``subjects.csv`` under ``raw_dir`` if there is one, else
            subject = video id (recorded in the header as ``extra.subject_source = "video_id"``).
        cut_clips: cut each clip to ``videos/<clip_id>.mp4`` (re-encoded at the source fps). If False, the long
            videos are placed (hard link, else copy) in ``videos/<vid>.mp4`` and clips reference them with
            ``video_start`` = start frame.
        fps, frame_size: header values when there are no videos (else taken from the videos).
    """
    raw, out = Path(raw_dir), Path(out_dir)
    log = log or (lambda _msg: None)
    if not raw.is_dir():
        raise RawDataError(f"{raw}: not a directory")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
    idx = _scan(raw, out)
    if not idx.labels:
        raise RawDataError(f"{raw}: no <vid>_label.csv files found")
    split_paths = [Path(p) for p in splits] or idx.lists
    if not split_paths:
        raise RawDataError(f"{raw}: no split lists found (*list*.txt naming train/val/test); pass --splits")
    idx.clip_split, idx.video_split = _read_split_files(split_paths)
    subj_path = Path(subjects) if subjects else (idx.subjects[0] if len(idx.subjects) == 1 else None)
    if subj_path:
        idx.subject_of = {v: s for v, s, _ in _read_pairs(subj_path, "video_id,subject")}
    vids = sorted(idx.labels)
    report = ImportReport(dataset=str(out))
    for v in (v for v in vids if idx.videos.get(v)):
        try:
            idx.probes[v] = probe_video(idx.videos[v][0])
        except VideoError as e:
            idx.bad.append(Skipped("", str(idx.videos[v][0]), str(e)))
    if idx.probes:
        fps = _most_common([round(p["fps"], 3) for p in idx.probes.values()], fps)
        frame_size = _most_common([(p["width"], p["height"]) for p in idx.probes.values()], frame_size)
        if len({round(p["fps"], 3) for p in idx.probes.values()}) > 1:
            report.warnings.append(f"videos have different fps; header says {fps}, clips are cut at their own fps")
    any_video = any(idx.videos.get(v) for v in vids)
    header = DatasetHeader(
        name=name, layout="openpose137", classes=IMIGUE_CLASSES, fps=float(fps), frame_size=tuple(frame_size),
        description="iMiGUE imported from the MiGA'25 raw layout by microgesture data import-imigue",
        extra={"importer": "import-imigue", "subject_source": "file" if subj_path else "video_id",
               "videos": "none" if not any_video else ("clips" if cut_clips else "long")},
    )
    listed = set(idx.clip_split)
    with DatasetWriter(out, header, overwrite=overwrite) as w:
        todo: dict[str, list[Clip]] = defaultdict(list)
        for vid in vids:
            log(f"{vid}: reading labels and skeletons")
            rows, row_bad = _read_labels(idx.labels[vid][0])
            idx.bad += row_bad
            listed -= {f"{vid}_{k}" for k in range(len(rows) + len(row_bad))}
            ok = _assign(vid, rows, idx, any_video, report)
            if ok:
                for clip, skel in _slice_clips(vid, ok, idx, cut_clips, report):
                    if not idx.bad or skip_bad:  # once the import is doomed, only keep validating
                        todo[vid].append(w.add(clip, skel))
        idx.bad += [Skipped(c, idx.clip_split[c][1], f"clip {c} is listed but no label row defines it")
                    for c in sorted(listed)]
        if idx.bad and not skip_bad:
            raise _fail(idx.bad, str(raw))
        for vid, clips in todo.items():
            if vid not in idx.probes:
                continue
            log(f"{vid}: {'cutting' if cut_clips else 'placing'} video")
            src = idx.videos[vid][0]
            if not cut_clips:
                _place(src, w.path_for(f"videos/{vid}.mp4"))
                continue
            for cid, msg in _cut_clips(src, clips, w, idx.probes[vid]["fps"] or fps).items():
                if not skip_bad:
                    raise RawDataError(msg)
                w.discard(cid)
                idx.bad.append(Skipped(cid, str(src), msg))
        if not w.clips:
            raise _fail(idx.bad, str(raw)) if idx.bad else RawDataError(f"{raw}: no clips to import")
        report.skipped = idx.bad
        report.clips_per_split = dict(sorted(Counter(c.split for c in w.clips).items()))
        w.path_for(REPORT_FILE).write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return report


def _assign(vid: str, rows: list[_LabelRow], idx: _Raw, any_video: bool,
            report: ImportReport) -> list[tuple[_LabelRow, str, str]]:
    """(row, split, subject) for each label row of ``vid`` that has a split, a subject and its video."""
    ok = []
    for r in rows:
        cid = f"{vid}_{r.k}"
        entry = idx.clip_split.get(cid)
        split = entry[0] if entry else idx.video_split.get(vid)
        probe = idx.probes.get(vid)
        if split is None:
            idx.bad.append(Skipped(cid, r.where, f"clip {cid} is in no split list"))
        elif idx.subject_of is not None and vid not in idx.subject_of:
            idx.bad.append(Skipped(cid, r.where, f"the subjects file has no row for video {vid}"))
        elif any_video and probe is None:
            what = "cannot be read" if idx.videos.get(vid) else "is missing (other videos have one)"
            idx.bad.append(Skipped(cid, r.where, f"video {vid}.mp4 {what}"))
        elif probe is not None and r.end >= probe["num_frames"]:
            idx.bad.append(Skipped(cid, r.where, f"ends at frame {r.end} but {idx.videos[vid][0]} has "
                                                 f"{probe['num_frames']} frames"))
        else:
            if entry and entry[2] is not None and r.label >= 0 and entry[2] != r.label:
                report.warnings.append(f"{entry[1]}: list label {entry[2]} differs from {r.where} (label "
                                       f"{r.label}); the label file wins")
            ok.append((r, split, (idx.subject_of or {}).get(vid, vid)))
    return ok


def _slice_clips(vid: str, ok: list[tuple[_LabelRow, str, str]], idx: _Raw, cut_clips: bool, report: ImportReport):
    """Yield (Clip, (T, 137, 3) skeleton) for the rows whose frames exist and are all valid."""
    sources = sorted(idx.tables.get(vid, []), key=lambda p: p.suffix.lower() != ".csv") + idx.json_dirs.get(vid, [])
    if not sources:
        msg = f"no skeleton for video {vid} ({vid}_openpose.csv/.xlsx or a {vid}/ folder of JSON frames)"
        idx.bad += [Skipped(f"{vid}_{r.k}", r.where, msg) for r, _, _ in ok]
        return
    if len(sources) > 1:
        report.warnings.append(f"video {vid}: several skeleton sources, using {sources[0]}")
    src = sources[0]
    try:
        if src.is_dir():
            skel, frame_bad, counts = read_openpose_json_dir(src)
            report.multi_person_frames[vid] = counts["multi_person"]
            report.empty_frames[vid] = counts["empty"] + counts["missing"]
        else:
            skel, frame_bad = read_skeleton_table(src)
    except RawDataError as e:
        idx.bad += [Skipped(f"{vid}_{r.k}", r.where, str(e)) for r, _, _ in ok]
        return
    probe = idx.probes.get(vid)
    if probe is not None and probe["num_frames"] != len(skel):
        report.warnings.append(f"{src}: {len(skel)} skeleton frames but the video has {probe['num_frames']}")
    used: set[int] = set()
    for r, split, subject in ok:
        cid = f"{vid}_{r.k}"
        if r.end >= len(skel):
            idx.bad.append(Skipped(cid, r.where, f"frames {r.start}..{r.end} exceed the {len(skel)} frames of {src}"))
            continue
        used.update(range(r.start, r.end + 1))
        first_bad = next((t for t in range(r.start, r.end + 1) if t in frame_bad), None)
        if first_bad is not None:
            idx.bad.append(Skipped(cid, r.where, f"uses a bad skeleton frame: {frame_bad[first_bad]}"))
            continue
        vpath = "" if probe is None else (f"videos/{cid}.mp4" if cut_clips else f"videos/{vid}.mp4")
        yield Clip(clip_id=cid, video_id=vid, subject=subject, split=split, label=r.label, start_frame=r.start,
                   end_frame=r.end, num_frames=0, video_path=vpath,
                   video_start=0 if cut_clips else r.start), skel[r.start : r.end + 1]
    unused = sorted(set(frame_bad) - used)
    if unused:
        report.warnings.append(f"{len(unused)} bad skeleton frames outside every clip, e.g. {frame_bad[unused[0]]}")


def _cut_clips(src: Path, clips: list[Clip], w: DatasetWriter, fps: float) -> dict[str, str]:
    """Decode ``src`` once, up to the last clip's end, streaming every frame into the writers of the clips that hold
    it (overlapping clips share frames); returns {clip_id: message} for the clips the video ended inside, whose
    half-written files are removed. Memory stays at one frame per open clip, whatever the clip length."""
    last = max(c.end_frame for c in clips)
    writers: dict[str, VideoWriter] = {}
    done: set[str] = set()
    i, err = -1, ""
    try:
        with av.open(str(src)) as cont:
            stream = cont.streams.video[0]
            stream.thread_type = "AUTO"
            for i, frame in enumerate(cont.decode(stream)):
                if i > last:
                    break
                active = [c for c in clips if c.start_frame <= i <= c.end_frame]
                if not active:
                    continue
                rgb = frame.to_ndarray(format="rgb24")
                for c in active:
                    if c.clip_id not in writers:
                        writers[c.clip_id] = VideoWriter(w.path_for(c.video_path), fps=fps)
                    writers[c.clip_id].write(rgb)
                    if i == c.end_frame:
                        writers.pop(c.clip_id).close()
                        done.add(c.clip_id)
    except (av.error.FFmpegError, IndexError) as e:
        err = f" ({e})"
    finally:
        for unfinished in writers.values():
            unfinished.abort()
    return {c.clip_id: f"{src}: decoding stopped at frame {i + 1}{err} before frame {c.end_frame} of clip {c.clip_id}"
            for c in clips if c.clip_id not in done}


# -- list files (RGB-only) ----------------------------------------------------------------------------------------
def import_list(lists: Sequence[tuple[str | os.PathLike, str]], video_dir: str | os.PathLike,
                out_dir: str | os.PathLike, *, classes_file: str | os.PathLike,
                subjects: str | os.PathLike | None = None, skip_bad: bool = False, overwrite: bool = False,
                name: str | None = None) -> ImportReport:
    """Import mmaction-style list files (``<name>.mp4 <label>`` per line, e.g. MA-52, SMG) as an RGB-only dataset.

    Args:
        lists: (list file, split) pairs. Video names are looked up as ``video_dir/<name>``, else by file name
            anywhere under ``video_dir``; videos are placed (hard link, else copy) in ``videos/``.
        classes_file: one class name per line, index = label.
        subjects: ``video_id,subject`` CSV (video id = file name without extension). Default: the name's prefix
            before the first ``_`` (MA-52 names are ``<subject>_<...>``).
    """
    video_dir, out, classes_file = Path(video_dir), Path(out_dir), Path(classes_file)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
    if not video_dir.is_dir():
        raise RawDataError(f"{video_dir}: not a directory")
    classes = tuple(s.strip() for s in classes_file.read_text(encoding="utf-8-sig").splitlines() if s.strip())
    if not classes:
        raise RawDataError(f"{classes_file}: no class names")
    subject_of = {v: s for v, s, _ in _read_pairs(Path(subjects), "video_id,subject")} if subjects else None
    by_name: dict[str, list[Path]] | None = None
    bad: list[Skipped] = []
    seen: dict[str, str] = {}
    entries: list[tuple[Clip, Path, dict]] = []
    for list_file, split in lists:
        list_file = Path(list_file)
        if split not in ("train", "val", "test"):
            raise RawDataError(f"{list_file}: split {split!r} is not train/val/test")
        for i, line in enumerate(list_file.read_text(encoding="utf-8-sig").splitlines(), start=1):
            toks, where = line.split(), f"{list_file}:line {i}"
            if not toks:
                continue
            cid = Path(toks[0]).stem
            if len(toks) < 2 or not _is_int(toks[1]) or not -1 <= int(float(toks[1])) < len(classes):
                bad.append(Skipped(cid, where, f"expected '<name> <label>' with label in -1..{len(classes) - 1} "
                                               f"({classes_file} has {len(classes)} classes), got {line.strip()!r}"))
                continue
            if cid in seen:
                bad.append(Skipped(cid, where, f"clip id {cid} already listed at {seen[cid]}"))
                continue
            seen[cid] = where
            path = video_dir / toks[0]
            if not path.is_file():
                if by_name is None:
                    by_name = defaultdict(list)
                    for dp, _, fs in os.walk(video_dir):
                        for f in fs:
                            by_name[f].append(Path(dp) / f)
                found = by_name.get(Path(toks[0]).name, [])
                if len(found) != 1:
                    what = "not found" if not found else f"ambiguous ({', '.join(map(str, found))})"
                    bad.append(Skipped(cid, where, f"video {toks[0]} {what} under {video_dir}"))
                    continue
                path = found[0]
            if subject_of is not None and cid not in subject_of:
                bad.append(Skipped(cid, where, f"{subjects} has no row for {cid}"))
                continue
            try:
                probe = probe_video(path)
            except VideoError as e:
                bad.append(Skipped(cid, where, str(e)))
                continue
            if probe["num_frames"] <= 0:
                bad.append(Skipped(cid, where, f"{path} has no frames"))
                continue
            n = probe["num_frames"]
            subject = subject_of[cid] if subject_of is not None else cid.split("_", 1)[0]
            clip = Clip(clip_id=cid, video_id=cid, subject=subject, split=split, label=int(float(toks[1])),
                        start_frame=0, end_frame=n - 1, num_frames=n, video_path=f"videos/{cid}{path.suffix}")
            entries.append((clip, path, probe))
    if bad and not skip_bad:
        raise _fail(bad, ", ".join(str(p) for p, _ in lists))
    if not entries:
        raise RawDataError("no clip could be imported" + (f": {bad[0]}" if bad else ""))
    header = DatasetHeader(
        name=name or out.name, layout="openpose137", classes=classes,
        fps=float(_most_common([round(p["fps"], 3) for _, _, p in entries], 25.0)),
        frame_size=_most_common([(p["width"], p["height"]) for _, _, p in entries], (1280, 720)),
        description="RGB-only dataset imported from list files by microgesture data import-list",
        extra={"skeletons": False, "importer": "import-list",
               "subject_source": "file" if subject_of is not None else "name_prefix"},
    )
    report = ImportReport(dataset=str(out), skipped=bad)
    with DatasetWriter(out, header, overwrite=overwrite) as w:
        for clip, path, _ in entries:
            _place(path, w.path_for(clip.video_path))
            w.add(clip)
        report.clips_per_split = dict(sorted(Counter(c.split for c in w.clips).items()))
        w.path_for(REPORT_FILE).write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return report
