"""Dataset checker: every structural and content rule of format v1, as a list of problems naming clip and file.

Errors are what breaks training (:func:`microgesture.train` refuses the dataset); warnings are legal but suspicious
data, printed but passing. Whatever ``microgesture data import-imigue`` writes passes (tested).

* errors: header (format, version, layout, classes, fps, frame size), unreadable or wrongly shaped files, duplicate
  clip ids, labels outside ``-1..K-1``, ``num_frames <= 0``, ``end_frame - start_frame + 1 != num_frames``, skeleton
  rows outside the store or overlapping another clip's, NaN or infinite skeleton values, missing video files (and,
  with ``videos=True``, videos shorter than ``video_start + num_frames``), a subject in two of train/val/test.
* warnings (one line each, counted over clips): negative x/y where confidence > 0, confidences outside [0, 1] (real
  OpenPose quirks the importer's sanitiser removes), train clips with label -1 (unknown), splits other than
  train/val/test, clips with no confident joint, subjects that are only video ids (the leak check then only shows
  that videos are disjoint), pseudo-labelled rows (transductive; left out of the subject check).
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from microgesture.data.format import (
    ACCEPTED_FORMAT_NAMES,
    CLIPS_FILE,
    FORMAT_NAME,
    FORMAT_VERSION,
    HEADER_FILE,
    SKELETON_FILE,
    SPLITS,
    Clip,
    Dataset,
    DatasetError,
    DatasetHeader,
    _read_clips,
)
from microgesture.data.video import VideoError, probe_video, verify_video
from microgesture.layouts import get_layout

__all__ = ["Problem", "check_dataset", "has_errors"]

_CHUNK = 1 << 15  # store frames scanned at a time (~54 MB for openpose137)


@dataclass(frozen=True)
class Problem:
    """One finding of the checker."""

    severity: Literal["error", "warning"]
    file: str
    clip_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.file}: " + (f"clip {self.clip_id}: " if self.clip_id else "") + self.message


def has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


def check_dataset(ds_or_path: Dataset | str | os.PathLike, *, videos: bool | str = True) -> list[Problem]:
    """Check a dataset (opened, or a directory). ``videos=False`` skips probing video lengths (existence is checked);
    ``videos="decode"`` decodes every packet of every video (finds a corruption in the middle of a file).

    Returns problems in file order: header, clip table, skeletons, videos, subjects.
    """
    if isinstance(ds_or_path, Dataset):
        ds = ds_or_path
        root, header, clips, store = ds.root, ds.header, ds.clips, ds.skeleton_store
        probs = _check_header(ds.header.to_json(), root / HEADER_FILE)[0]
    else:
        root = Path(ds_or_path)
        probs, header, clips, store = _load(root)
        if header is None or clips is None:
            return probs
    probs += _check_rows(header, clips, root / CLIPS_FILE)
    if header.has_skeletons and store is not None:
        probs += _check_skeletons(clips, store, root / SKELETON_FILE)
    elif not header.has_skeletons and store is not None and len(store):
        probs.append(Problem("warning", str(root / SKELETON_FILE), "", f"RGB-only dataset but the store has "
                             f"{len(store)} frames"))
    probs += _check_videos(root, clips, probe=videos, rgb_only=not header.has_skeletons)
    probs += _check_subjects(header, clips, root / CLIPS_FILE)
    return probs


def _load(root: Path) -> tuple[list[Problem], DatasetHeader | None, list[Clip] | None, np.ndarray | None]:
    hp, cp, sp = root / HEADER_FILE, root / CLIPS_FILE, root / SKELETON_FILE
    if not hp.is_file():
        msg = f"not found; is {root} a microgesture dataset directory?"
        return [Problem("error", str(hp), "", msg)], None, None, None
    try:
        probs, header = _check_header(json.loads(hp.read_text()), hp)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        return [Problem("error", str(hp), "", f"invalid JSON ({e})")], None, None, None
    clips = store = None
    if not cp.is_file():
        probs.append(Problem("error", str(cp), "", "not found"))
    else:
        try:
            clips = _read_clips(cp)
        except DatasetError as e:
            probs.append(Problem("error", str(cp), "", str(e).removeprefix(f"{cp}").lstrip(": ")))
    if not sp.is_file():
        probs.append(Problem("error", str(sp), "", "not found"))
    elif header is not None:
        try:
            store = np.load(sp, mmap_mode="r", allow_pickle=False)
        except ValueError as e:
            probs.append(Problem("error", str(sp), "", f"unreadable ({e})"))
        else:
            v = get_layout(header.layout).num_joints
            if store.ndim != 3 or store.shape[1:] != (v, 3) or store.dtype != np.float32:
                probs.append(Problem("error", str(sp), "", f"expected float32 (frames, {v}, 3) for layout "
                                     f"{header.layout}, got {store.dtype} {store.shape}"))
                store = None
    return probs, header, clips, store


def _check_header(d: dict, path: Path) -> tuple[list[Problem], DatasetHeader | None]:
    errs: list[str] = []
    if d.get("format") not in ACCEPTED_FORMAT_NAMES:
        errs.append(f"'format' is {d.get('format')!r}, expected {FORMAT_NAME!r}")
    if d.get("version") != FORMAT_VERSION:
        errs.append(f"format version {d.get('version')!r} is not supported (microgesture reads {FORMAT_VERSION})")
    errs += [f"missing key {k!r}" for k in ("name", "layout", "classes") if k not in d]
    if "layout" in d:
        try:
            get_layout(d["layout"])
        except KeyError as e:
            errs.append(str(e.args[0]))
    classes = d.get("classes", [])
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) and c for c in classes):
        errs.append("'classes' must be a non-empty list of names")
    elif len(set(classes)) != len(classes):
        errs.append(f"duplicate class names: {sorted(c for c, n in Counter(classes).items() if n > 1)}")
    fps = d.get("fps", 25.0)
    if not isinstance(fps, (int, float)) or not fps > 0:
        errs.append(f"'fps' must be a positive number, got {fps!r}")
    size = d.get("frame_size", [1280, 720])
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(x, int) and x > 0 for x in size)):
        errs.append(f"'frame_size' must be [width, height] in pixels, got {size!r}")
    probs = [Problem("error", str(path), "", e) for e in errs]
    return probs, (None if errs else DatasetHeader.from_json(d, path=path))


def _check_rows(header: DatasetHeader, clips: list[Clip], path: Path) -> list[Problem]:
    probs: list[Problem] = []
    k = header.num_classes
    if not clips:
        probs.append(Problem("error", str(path), "", "no clips: the dataset is empty"))
    for cid, n in Counter(c.clip_id for c in clips).items():
        if n > 1:
            probs.append(Problem("error", str(path), cid, f"clip id appears {n} times"))
    unknown_train: list[str] = []
    for c in clips:
        def err(msg: str, c: Clip = c) -> None:
            probs.append(Problem("error", str(path), c.clip_id, msg))

        if c.split not in SPLITS:
            probs.append(Problem("warning", str(path), c.clip_id, f"split {c.split!r} is not train/val/test"))
        if not -1 <= c.label < k:
            err(f"label {c.label} is outside -1..{k - 1} ({k} classes)")
        elif c.label == -1 and c.split == "train":
            unknown_train.append(c.clip_id)
        if c.num_frames <= 0:
            err(f"num_frames is {c.num_frames}")
        if c.start_frame < 0 or c.end_frame - c.start_frame + 1 != c.num_frames:
            err(f"frames {c.start_frame}..{c.end_frame} do not hold num_frames {c.num_frames}")
        if c.video_start < 0:
            err(f"video_start is {c.video_start}")
        if c.pseudo not in (0, 1):
            err(f"pseudo is {c.pseudo}, expected 0 or 1")
        if not c.subject.strip():
            err("empty subject")
    if unknown_train:
        probs.append(Problem("warning", str(path), unknown_train[0], f"{len(unknown_train)} train clip(s) have "
                             "label -1 (unknown) and are not used for training"))
    return probs


def _check_skeletons(clips: list[Clip], store: np.ndarray, path: Path) -> list[Problem]:
    probs: list[Problem] = []
    n = len(store)
    ranges = []
    for c in clips:
        if c.num_frames <= 0:
            continue
        if c.skel_offset < 0 or c.skel_offset + c.num_frames > n:
            probs.append(Problem("error", str(path), c.clip_id, f"rows {c.skel_offset}..."
                                 f"{c.skel_offset + c.num_frames - 1} are outside the store of {n} frames"))
        else:
            ranges.append((c.skel_offset, c.num_frames, c.clip_id))
    ranges.sort()
    end, owner = 0, ""
    for off, num, cid in ranges:
        if off < end:
            probs.append(Problem("error", str(path), cid, f"rows {off}...{off + num - 1} overlap clip {owner}"))
        if off + num > end:
            end, owner = off + num, cid
    # one pass over the whole store; per-frame flags are then looked up per clip
    nonfinite, negative, confident = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
    for i in range(0, n, _CHUNK):
        a = np.asarray(store[i : i + _CHUNK])
        nonfinite[i : i + len(a)] = ~np.isfinite(a).all(axis=(1, 2))
        with np.errstate(invalid="ignore"):
            negative[i : i + len(a)] = _quirks(a).any(axis=1)
        confident[i : i + len(a)] = (a[..., 2] > 0).any(axis=1)
    bad_nf, bad_neg = np.flatnonzero(nonfinite), np.flatnonzero(negative)
    conf_cum = np.concatenate([[0], np.cumsum(confident)])
    odd: list[tuple[str, str]] = []  # (clip, example) of clips with quirks
    empty: list[str] = []
    for off, num, cid in ranges:
        for bad, what in ((bad_nf, "non-finite value"), (bad_neg, "quirk")):
            j = np.searchsorted(bad, off)
            if j < len(bad) and bad[j] < off + num:
                t = int(bad[j])
                a = np.asarray(store[t])
                kp = np.flatnonzero(~np.isfinite(a).all(1) if bad is bad_nf else _quirks(a))[0]
                where = f"frame {t - off} (store row {t}), joint {kp}: {a[kp].tolist()}"
                if bad is bad_nf:
                    probs.append(Problem("error", str(path), cid, f"{what} at {where}"))
                else:
                    odd.append((cid, where))
        if conf_cum[off + num] == conf_cum[off]:
            empty.append(cid)
    if odd:
        probs.append(Problem("warning", str(path), odd[0][0], f"{len(odd)} clip(s) have a negative coordinate with "
                             f"confidence > 0 or a confidence outside [0, 1], first at {odd[0][1]} (raw OpenPose "
                             "quirks; the importer's sanitiser removes them)"))
    if empty:
        probs.append(Problem("warning", str(path), empty[0], f"{len(empty)} clip(s) have no joint with confidence "
                             "> 0 in any frame"))
    return probs


def _quirks(a: np.ndarray) -> np.ndarray:
    """Per point of (..., V, 3): a negative coordinate with confidence > 0, or a confidence outside [0, 1]."""
    return ((a[..., :2] < 0).any(-1) & (a[..., 2] > 0)) | (a[..., 2] < 0) | (a[..., 2] > 1)


def _check_videos(root: Path, clips: list[Clip], *, probe: bool | str, rgb_only: bool) -> list[Problem]:
    probs: list[Problem] = []
    exists: dict[str, bool] = {}
    need: dict[str, list[Clip]] = defaultdict(list)
    for c in clips:
        cols = [("video_path", c.video_path)] + [(k, v) for k, v in c.extra.items() if k.endswith("_path") and v]
        if rgb_only and not c.video_path:
            probs.append(Problem("error", str(root / CLIPS_FILE), c.clip_id, "RGB-only dataset but no video_path"))
        for col, rel in cols:
            if not rel:
                continue
            if rel not in exists:
                exists[rel] = (root / rel).is_file()
            if not exists[rel]:
                probs.append(Problem("error", str(root / rel), c.clip_id, f"{col} file not found"))
            elif col == "video_path":
                need[rel].append(c)
    if probe:
        for rel, cs in need.items():
            try:
                frames = verify_video(root / rel) if probe == "decode" else probe_video(root / rel)["num_frames"]
            except VideoError as e:
                probs += [Problem("error", str(root / rel), c.clip_id, str(e)) for c in cs]
                continue
            for c in cs:
                if c.video_start + c.num_frames > frames:
                    probs.append(Problem("error", str(root / rel), c.clip_id, f"has {frames} frames; the clip needs "
                                         f"frames {c.video_start}..{c.video_start + c.num_frames - 1}"))
    return probs


def _check_subjects(header: DatasetHeader, clips: list[Clip], path: Path) -> list[Problem]:
    probs: list[Problem] = []
    where: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    pseudo = 0
    for c in clips:
        if c.pseudo:  # transductive copies of test clips (microgesture.pseudo); reported, not a leak
            pseudo += 1
        elif c.split in SPLITS:
            where[c.subject][c.split].append(c.clip_id)
    for subject, splits in sorted(where.items()):
        names = [s for s in SPLITS if s in splits]
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                probs.append(Problem("error", str(path), "", f"subject {subject!r} is in both {a} ({len(splits[a])} "
                                     f"clips, e.g. {splits[a][0]}) and {b} ({len(splits[b])} clips, e.g. "
                                     f"{splits[b][0]})"))
    if pseudo:
        probs.append(Problem("warning", str(path), "", f"{pseudo} pseudo-labelled rows (transductive) are left out "
                             "of the subject check"))
    source = header.extra.get("subject_source")
    if clips and (source == "video_id" or (source is None and all(c.subject == c.video_id for c in clips))):
        probs.append(Problem("warning", str(path), "", "subjects are only video ids: the split check shows that "
                             "videos are disjoint, not people; pass a video_id,subject file to the importer"))
    return probs
