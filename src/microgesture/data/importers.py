"""Import raw iMiGUE into dataset format v1, whichever layout the user holds (detected, and logged):

* the original release (:mod:`microgesture.data.imigue_release`): ``Label/labels_*.csv`` and/or ``Label/raw/<vid>.txt``,
  ``Data/skeleton/raw/<vid>/*.json``, optional ``<vid>.mp4``;
* the MiGA'25 layout (:mod:`microgesture.data.miga_raw`): ``<vid>_label.csv``, ``<vid>_openpose.csv/.xlsx`` or
  ``<vid>/`` JSON frames, optional ``<vid>.mp4``.

Every skeleton goes through the sanitise policy (:mod:`microgesture.data.sanitise`); what it changed is counted in
``import_report.json`` and the dataset header. Splits come from MiGA split lists, else from ``split`` (a
subject-disjoint split, :mod:`microgesture.data.splits`). Labelled videos with neither skeleton nor video are
skipped and counted. Problems are collected per clip (or per video), each naming the file and row: by default
nothing is written when there is any; with ``skip_bad`` the good clips are written and the report lists the rest.
"""

from __future__ import annotations

import logging
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from microgesture.data.classes import IMIGUE_CLASSES
from microgesture.data.cutter import cut_clips as _cut_clips
from microgesture.data.format import Clip, DatasetHeader, DatasetWriter
from microgesture.data.imigue_release import scan_release
from microgesture.data.import_list import import_list, most_common, place
from microgesture.data.miga_raw import read_pairs, read_split_files, scan_miga, split_from_name
from microgesture.data.openpose import RawDataError, read_openpose_json_dir, read_skeleton_table
from microgesture.data.raw_common import Skipped, VideoEntry, fail
from microgesture.data.report import REPORT_FILE, ImportReport
from microgesture.data.sanitise import PERSON_RULE, SanitiseCounts, SanitisePolicy, sanitise
from microgesture.data.splits import SplitSpec, parse_split, subject_split
from microgesture.data.video import VideoError, probe_video
from microgesture.progress import track

__all__ = ["RawDataError", "Skipped", "ImportReport", "import_imigue", "import_list", "read_skeleton_table",
           "read_openpose_json_dir", "split_from_name", "REPORT_FILE", "SanitisePolicy"]

logger = logging.getLogger(__name__)


def import_imigue(raw_dir: str | os.PathLike, out_dir: str | os.PathLike, *, splits: Sequence[str | os.PathLike] = (),
                  split: SplitSpec | str | None = None, seed: int = 0, subjects: str | os.PathLike | None = None,
                  skip_bad: bool = False, overwrite: bool = False, cut_clips: bool = True, fps: float = 25.0,
                  frame_size: tuple[int, int] = (1280, 720), name: str = "imigue",
                  policy: SanitisePolicy | None = None, log: Callable[[str], None] | None = None) -> ImportReport:
    """Import raw iMiGUE (any layout of the module docstring) into an openpose137 dataset at ``out_dir``.

    Args:
        splits: clip list files (``<vid>_<k>.mp4 <label>`` lines; the split is named in the file name) and/or
            ``video_id,split`` CSVs. Default: every ``*list*.txt`` under ``raw_dir`` whose name names a split.
        split: without lists, a subject-disjoint split such as ``"subject:0.7,0.05,0.25"`` (with ``seed``).
        subjects: ``video_id,subject`` CSV. Default: the release's labels CSV, else ``subjects.csv`` under
            ``raw_dir``, else subject = video id (header ``extra.subject_source = "video_id"``).
        cut_clips: cut each clip to ``videos/<clip_id>.mp4`` (re-encoded at the source fps). If False, the long
            videos are placed (hard link, else copy) in ``videos/<vid>.mp4`` and clips reference them with
            ``video_start`` = start frame.
        fps, frame_size: header values when there are no videos (else taken from the videos).
        policy: the sanitise policy (default :class:`SanitisePolicy`).
    """
    raw, out = Path(raw_dir), Path(out_dir)
    policy = policy or SanitisePolicy()

    def note(msg: str) -> None:
        logger.info(msg)
        if log is not None:
            log(msg)

    if not raw.is_dir():
        raise RawDataError(f"{raw}: not a directory")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
    report = ImportReport(dataset=str(out))
    release, miga = _detect_layout(raw, out, report, note)
    bad: list[Skipped] = []
    videos = release.videos if release is not None else miga.videos
    probes, fps, frame_size = _probe_videos(videos, fps, frame_size, bad, report)
    entries, lists, subject_source = _read_entries(release, miga, probes, subjects, bad, report, note)
    clip_split, video_split = _splits(raw, splits, split, seed, lists, entries, report)
    any_video = any(e.video is not None for e in entries)
    header = DatasetHeader(
        name=name, layout="openpose137", classes=IMIGUE_CLASSES, fps=float(fps), frame_size=tuple(frame_size),
        description="iMiGUE imported by microgesture data import-imigue",
        extra={"importer": "import-imigue", "layout": "release" if release is not None else "miga25",
               "subject_source": subject_source,
               "videos": "none" if not any_video else ("clips" if cut_clips else "long")},
    )
    with DatasetWriter(out, header, overwrite=overwrite) as w:
        todo, total = _add_clips(w, entries, clip_split, video_split, probes, any_video, cut_clips, skip_bad, policy,
                                 bad, report, note)
        if bad and not skip_bad:
            raise fail(bad, str(raw))
        _write_videos(w, todo, entries, probes, cut_clips, fps, skip_bad, bad, note)
        if not w.clips:
            raise fail(bad, str(raw)) if bad else RawDataError(f"{raw}: no clips to import")
        _write_report(w, header, report, bad, policy, total)
    return report


def _detect_layout(raw: Path, out: Path, report: ImportReport, note: Callable[[str], None]):
    """(release, miga): the scanned original release, else the scanned MiGA'25 layout (the other is None)."""
    release = scan_release(raw, out)
    miga = scan_miga(raw, out) if release is None else None
    if miga is not None and not miga.labels:
        raise RawDataError(f"{raw}: no iMiGUE labels found: expected Label/labels_*.csv or Label/raw/<vid>.txt (the "
                           "original release) or <vid>_label.csv files (the MiGA'25 layout)")
    report.layout = release.describe() if release is not None else (
        f"MiGA'25 layout ({len(miga.labels)} label files, {sum(map(len, miga.tables.values()))} skeleton tables, "
        f"{len(miga.json_dirs)} JSON folders, {len(miga.videos)} videos)")
    note(f"layout: {report.layout}")
    return release, miga


def _probe_videos(videos: dict, fps: float, frame_size: tuple[int, int], bad: list[Skipped], report: ImportReport):
    """(probes by video id, header fps, header frame size): the most common of the readable videos, else the
    defaults given; unreadable videos go to ``bad``."""
    probes: dict[str, dict] = {}
    for v, paths in sorted(videos.items()):
        try:
            probes[v] = probe_video(paths[0])
        except VideoError as e:
            bad.append(Skipped("", str(paths[0]), str(e)))
    if probes:
        fps = most_common([round(p["fps"], 3) for p in probes.values()], fps)
        frame_size = most_common([(p["width"], p["height"]) for p in probes.values()], frame_size)
        if len({round(p["fps"], 3) for p in probes.values()}) > 1:
            report.warnings.append(f"videos have different fps; header says {fps}, clips are cut at their own fps")
    return probes, fps, frame_size


def _read_entries(release, miga, probes: dict, subjects: str | os.PathLike | None, bad: list[Skipped],
                  report: ImportReport, note: Callable[[str], None]):
    """(entries, split lists found, subject source): the labelled videos with their subjects, those with neither
    skeleton nor video dropped (and counted in the report)."""
    subj_path = Path(subjects) if subjects else None
    if release is not None:
        entries, ebad, notes = release.entries(lambda v: float(probes[v]["fps"]) if v in probes else 25.0)
        lists = release.lists
    else:
        subj_path = subj_path or (miga.subjects[0] if len(miga.subjects) == 1 else None)
        entries, ebad, notes = miga.entries(None)
        lists = miga.lists
    bad += ebad
    report.warnings += notes
    subject_source = "labels_csv" if release is not None and release.labels_csv else "video_id"
    if subj_path:
        subject_of = {v: s for v, s, _ in read_pairs(subj_path, "video_id,subject")}
        for e in entries:
            if e.vid not in subject_of:
                bad += [Skipped(f"{e.vid}_{r.k}", r.where, f"{subj_path} has no row for video {e.vid}") for r in e.rows]
            e.subject = subject_of.get(e.vid)
        entries = [e for e in entries if e.subject is not None]
        subject_source = "file"
    elif subject_source == "video_id":
        for e in entries:
            e.subject = None
    report.videos_without_data = [e.vid for e in entries if e.skeleton is None and e.video is None]
    if report.videos_without_data:
        note(f"{len(report.videos_without_data)} labelled videos have no skeleton and no video; skipped")
    entries = [e for e in entries if e.skeleton is not None or e.video is not None]
    return entries, lists, subject_source


def _add_clips(w: DatasetWriter, entries: list[VideoEntry], clip_split: dict, video_split: dict, probes: dict,
               any_video: bool, cut_clips: bool, skip_bad: bool, policy: SanitisePolicy, bad: list[Skipped],
               report: ImportReport, note: Callable[[str], None]) -> tuple[dict[str, list[Clip]], SanitiseCounts]:
    """Read, sanitise and add every clip's skeleton to ``w``; listed clips no label row defines go to ``bad``.

    Returns:
        (the added clips by video id, for the video step; the sanitise counts of all videos).
    """
    listed = set(clip_split)
    total = SanitiseCounts()
    todo: dict[str, list[Clip]] = defaultdict(list)
    for e in track(entries, "import: labels and skeletons", unit="videos"):
        note(f"{e.vid}: reading labels and skeletons")
        listed -= {f"{e.vid}_{r.k}" for r in e.rows}
        ok = _assign(e, clip_split, video_split, probes, any_video, bad, report)
        if not ok:
            continue
        counts = SanitiseCounts()
        clean = lambda a, c=counts: sanitise(a, w.header.frame_size, policy, c)  # noqa: E731
        for clip, skel in _slice_clips(e, ok, probes.get(e.vid), cut_clips, bad, report, counts, clean):
            if not bad or skip_bad:  # once the import is doomed, only keep validating
                todo[e.vid].append(w.add(replace(clip, extra=dict(e.meta)), skel))
        total.add(counts)
        report.sanitise_per_video[e.vid] = counts.to_json()
    bad += [Skipped(c, clip_split[c][1], f"clip {c} is listed but no label row defines it") for c in sorted(listed)]
    return todo, total


def _write_videos(w: DatasetWriter, todo: dict[str, list[Clip]], entries: list[VideoEntry], probes: dict,
                  cut_clips: bool, fps: float, skip_bad: bool, bad: list[Skipped], note: Callable[[str], None]) -> None:
    """Cut each added clip out of its video (or place the long video); with ``skip_bad`` a failed cut discards the
    clip and goes to ``bad``, else it raises."""
    for vid, clips in track(todo.items(), "import: videos", unit="videos"):
        e = next(x for x in entries if x.vid == vid)
        if e.video is None or vid not in probes:
            continue
        note(f"{vid}: {'cutting' if cut_clips else 'placing'} video")
        if not cut_clips:
            place(e.video, w.path_for(f"videos/{vid}.mp4"))
            continue
        for cid, msg in _cut_clips(e.video, clips, w, probes[vid]["fps"] or fps).items():
            if not skip_bad:
                raise RawDataError(msg)
            w.discard(cid)
            bad.append(Skipped(cid, str(e.video), msg))


def _write_report(w: DatasetWriter, header: DatasetHeader, report: ImportReport, bad: list[Skipped],
                  policy: SanitisePolicy, total: SanitiseCounts) -> None:
    """Fill the report (skipped clips, clips per split, sanitise counts), put the sanitise summary and the split in
    the header, and write ``import_report.json``."""
    report.skipped = bad
    report.clips_per_split = dict(sorted(Counter(c.split for c in w.clips).items()))
    report.sanitise = {"policy": policy.to_json(), "person_rule": PERSON_RULE, "counts": total.to_json()}
    w.header = replace(header, extra={**header.extra, "sanitise": report.sanitise,
                                      **({"split": report.split} if report.split else {})})
    w.write_json(REPORT_FILE, report.to_json())


def _splits(raw: Path, paths: Sequence, spec: SplitSpec | str | None, seed: int, found: list[Path],
            entries: list[VideoEntry], report: ImportReport):
    """Clip and video splits: explicit list files, else a subject split, else the lists found under ``raw``."""
    if paths:
        return read_split_files([Path(p) for p in paths])
    if spec is not None:
        try:
            spec = parse_split(spec, seed) if isinstance(spec, str) else spec
        except ValueError as e:
            raise RawDataError(str(e)) from None
        labels: dict[str, list[int]] = defaultdict(list)
        for e in entries:
            labels[e.subject or e.vid] += [r.label for r in e.rows]
        res = subject_split(labels, len(IMIGUE_CLASSES), spec)
        report.split = res.to_json(spec)
        logger.info("subject split: %s, largest per-class share difference %.3f", res.clips, res.max_class_share_diff)
        return {}, {e.vid: res.of_subject[e.subject or e.vid] for e in entries}
    if found:
        report.split = {"method": "lists", "files": [str(p) for p in found]}
        return read_split_files(found)
    raise RawDataError(f"{raw}: no split lists found (*list*.txt naming train/val/test); pass --splits LIST or "
                       "--split subject:0.7,0.05,0.25 --seed N")


def _assign(e: VideoEntry, clip_split: dict, video_split: dict, probes: dict, any_video: bool, bad: list[Skipped],
            report: ImportReport) -> list[tuple]:
    """(row, split, subject) for each label row of ``e`` that has a split and its video."""
    ok = []
    probe = probes.get(e.vid)
    for r in e.rows:
        cid = f"{e.vid}_{r.k}"
        entry = clip_split.get(cid)
        split = entry[0] if entry else video_split.get(e.vid)
        if split is None:
            bad.append(Skipped(cid, r.where, f"clip {cid} is in no split list"))
        elif any_video and probe is None:
            what = "cannot be read" if e.video is not None else "is missing (other videos have one)"
            bad.append(Skipped(cid, r.where, f"video {e.vid}.mp4 {what}"))
        elif probe is not None and r.end >= probe["num_frames"]:
            bad.append(Skipped(cid, r.where, f"ends at frame {r.end} but {e.video} has {probe['num_frames']} frames"))
        else:
            if entry and entry[2] is not None and r.label >= 0 and entry[2] != r.label:
                report.warnings.append(f"{entry[1]}: list label {entry[2]} differs from {r.where} (label "
                                       f"{r.label}); the label file wins")
            ok.append((r, split, e.subject or e.vid))
    return ok


def _read_skeleton(e: VideoEntry, need: int, report: ImportReport, counts: SanitiseCounts):
    """The video's whole (T, 137, 3) skeleton, raw, and {frame: message} of its unreadable frames."""
    src = e.skeleton
    assert src is not None
    if src.is_dir():
        skel, frame_bad, c = read_openpose_json_dir(src, min_frames=need)
        report.multi_person_frames[e.vid] = c["multi_person"]
        report.empty_frames[e.vid] = c["empty"] + c["missing"]
        counts.multi_person_frames += c["multi_person"]
        counts.nobody_frames += c["empty"]
        counts.missing_frames += c["missing"]
        return skel, frame_bad
    return read_skeleton_table(src)


def _slice_clips(e: VideoEntry, ok: list[tuple], probe: dict | None, cut_clips: bool, bad: list[Skipped],
                 report: ImportReport, counts: SanitiseCounts, clean: Callable[[np.ndarray], np.ndarray]):
    """Yield (Clip, (T, 137, 3) skeleton) for the rows whose frames exist and are all readable; the video's skeleton
    is read once and passed through ``clean`` (the sanitise policy, which also counts what it changes)."""
    if e.skeleton is None:
        msg = (f"no skeleton for video {e.vid} (a <vid>_openpose.csv/.xlsx or a folder of OpenPose JSON frames); "
               "extract one with `microgesture pose`")
        bad.append(Skipped(f"{e.vid}_*", e.where, msg))
        return
    need = max(r.end for r, _, _ in ok) + 1
    try:
        skel, frame_bad = _read_skeleton(e, need, report, counts)
    except RawDataError as err:
        bad.append(Skipped(f"{e.vid}_*", "", f"{err} (all {len(ok)} clips of video {e.vid})"))
        return
    clean(skel)
    if probe is not None and e.skeleton.is_file() and probe["num_frames"] != len(skel):
        report.warnings.append(f"{e.skeleton}: {len(skel)} skeleton frames but the video has {probe['num_frames']}")
    used = np.zeros(len(skel), bool)
    for r, split, subject in ok:
        cid = f"{e.vid}_{r.k}"
        if r.end >= len(skel):
            bad.append(Skipped(cid, r.where, f"frames {r.start}..{r.end} exceed the {len(skel)} frames of "
                                             f"{e.skeleton}"))
            continue
        used[r.start : r.end + 1] = True
        first_bad = next((t for t in range(r.start, r.end + 1) if t in frame_bad), None)
        if first_bad is not None:
            bad.append(Skipped(cid, r.where, f"uses a bad skeleton frame: {frame_bad[first_bad]}"))
            continue
        vpath = "" if probe is None else (f"videos/{cid}.mp4" if cut_clips else f"videos/{e.vid}.mp4")
        yield Clip(clip_id=cid, video_id=e.vid, subject=subject, split=split, label=r.label, start_frame=r.start,
                   end_frame=r.end, num_frames=0, video_path=vpath,
                   video_start=0 if cut_clips else r.start), skel[r.start : r.end + 1].copy()
    unused = sorted(t for t in frame_bad if not used[t])
    if unused:
        report.warnings.append(f"{len(unused)} bad skeleton frames outside every clip, e.g. {frame_bad[unused[0]]}")
