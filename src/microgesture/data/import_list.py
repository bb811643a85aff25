"""Import mmaction-style list files (``<name>.mp4 <label>`` per line, e.g. MA-52, SMG) as an RGB-only dataset."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from microgesture.data.format import Clip, DatasetHeader, DatasetWriter
from microgesture.data.miga_raw import read_pairs
from microgesture.data.openpose import RawDataError
from microgesture.data.raw_common import Skipped, fail, is_int
from microgesture.data.report import REPORT_FILE, ImportReport
from microgesture.data.video import VideoError, probe_video

__all__ = ["import_list", "place"]


def place(src: Path, dst: Path) -> None:
    """Hard-link ``src`` to ``dst`` (same filesystem), else copy it."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def most_common(values: list, default):
    return Counter(values).most_common(1)[0][0] if values else default


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
    classes = _read_classes(classes_file)
    subject_of = {v: s for v, s, _ in read_pairs(Path(subjects), "video_id,subject")} if subjects else None
    by_name: dict[str, list[Path]] = {}  # file name -> paths under video_dir, filled on the first lookup
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
            if len(toks) < 2 or not is_int(toks[1]) or not -1 <= int(float(toks[1])) < len(classes):
                bad.append(Skipped(cid, where, f"expected '<name> <label>' with label in -1..{len(classes) - 1} "
                                               f"({classes_file} has {len(classes)} classes), got {line.strip()!r}"))
                continue
            if cid in seen:
                bad.append(Skipped(cid, where, f"clip id {cid} already listed at {seen[cid]}"))
                continue
            seen[cid] = where
            path = _locate(video_dir, toks[0], by_name)
            if isinstance(path, str):
                bad.append(Skipped(cid, where, path))
                continue
            if subject_of is not None and cid not in subject_of:
                bad.append(Skipped(cid, where, f"{subjects} has no row for {cid}"))
                continue
            subject = subject_of[cid] if subject_of is not None else cid.split("_", 1)[0]
            entry = _entry(cid, subject, split, int(float(toks[1])), path)
            if isinstance(entry, str):
                bad.append(Skipped(cid, where, entry))
                continue
            entries.append(entry)
    if bad and not skip_bad:
        raise fail(bad, ", ".join(str(p) for p, _ in lists))
    if not entries:
        raise RawDataError("no clip could be imported" + (f": {bad[0]}" if bad else ""))
    return _write(out, entries, bad, classes=classes, name=name, subjects_from_file=subject_of is not None,
                  overwrite=overwrite)


def _read_classes(classes_file: Path) -> tuple[str, ...]:
    """The class names of ``classes_file`` (one a line, index = label); an empty file is an error."""
    classes = tuple(s.strip() for s in classes_file.read_text(encoding="utf-8-sig").splitlines() if s.strip())
    if not classes:
        raise RawDataError(f"{classes_file}: no class names")
    return classes


def _locate(video_dir: Path, rel: str, by_name: dict[str, list[Path]]) -> Path | str:
    """The video of list entry ``rel``: ``video_dir/rel``, else the one file of that name under ``video_dir``;
    a str is the reason it cannot be used. ``by_name`` caches the file index (walked on the first miss)."""
    path = video_dir / rel
    if path.is_file():
        return path
    if not by_name:
        for dp, _, fs in os.walk(video_dir):
            for f in fs:
                by_name.setdefault(f, []).append(Path(dp) / f)
    found = by_name.get(Path(rel).name, [])
    if len(found) != 1:
        what = "not found" if not found else f"ambiguous ({', '.join(map(str, found))})"
        return f"video {rel} {what} under {video_dir}"
    return found[0]


def _entry(cid: str, subject: str, split: str, label: int, path: Path) -> tuple[Clip, Path, dict] | str:
    """The whole-video clip of ``path`` with its probe; a str is the reason the video cannot be used."""
    try:
        probe = probe_video(path)
    except VideoError as e:
        return str(e)
    n = probe["num_frames"]
    if n <= 0:
        return f"{path} has no frames"
    clip = Clip(clip_id=cid, video_id=cid, subject=subject, split=split, label=label,
                start_frame=0, end_frame=n - 1, num_frames=n, video_path=f"videos/{cid}{path.suffix}")
    return clip, path, probe


def _write(out: Path, entries: list[tuple[Clip, Path, dict]], bad: list[Skipped], *, classes: tuple[str, ...],
           name: str | None, subjects_from_file: bool, overwrite: bool) -> ImportReport:
    """Write the checked ``entries`` (clip, source video, probe) as the RGB-only dataset ``out``, with its report."""
    header = DatasetHeader(
        name=name or out.name, layout="openpose137", classes=classes,
        fps=float(most_common([round(p["fps"], 3) for _, _, p in entries], 25.0)),
        frame_size=most_common([(p["width"], p["height"]) for _, _, p in entries], (1280, 720)),
        description="RGB-only dataset imported from list files by microgesture data import-list",
        extra={"skeletons": False, "importer": "import-list",
               "subject_source": "file" if subjects_from_file else "name_prefix"},
    )
    report = ImportReport(dataset=str(out), skipped=bad)
    with DatasetWriter(out, header, overwrite=overwrite) as w:
        for clip, path, _ in entries:
            place(path, w.path_for(clip.video_path))
            w.add(clip)
        report.clips_per_split = dict(sorted(Counter(c.split for c in w.clips).items()))
        w.path_for(REPORT_FILE).write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return report
