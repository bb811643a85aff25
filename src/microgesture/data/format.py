"""microgesture dataset format, version 1.

A dataset is one directory::

    dataset.json     header: format name/version, dataset name, skeleton layout, class names, fps, frame size
    clips.csv        one row per clip (columns: CLIP_COLUMNS, then any extra modality columns such as taylor_path)
    skeletons.npy    float32 (total_frames, V, 3) = x, y, confidence in pixels; confidence 0 = missing joint.
                     Clip rows are [skel_offset, skel_offset + num_frames). Opened memory-mapped, so loading a
                     clip is a slice, not a file read.
    videos/ ...      optional clip videos, referenced by clips.csv ``video_path`` (relative to the directory)

RGB-only datasets (pre-training sets such as MA-52 or SMG imported from list files) set ``"skeletons": false`` in
the header ``extra``: their skeleton store is empty, (0, V, 3), each clip's ``num_frames`` comes from its video and
:meth:`Dataset.skeleton` raises :class:`DatasetError`.

No pickle anywhere. :class:`DatasetWriter` writes into a temporary sibling directory and renames it into place on
success (:func:`microgesture.atomic.atomic_dir`), so an interrupted import never leaves a half-written dataset, and
the temporaries of a killed one are swept by the next.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from microgesture.layouts import convert, get_layout

__all__ = [
    "FORMAT_NAME",
    "ACCEPTED_FORMAT_NAMES",
    "FORMAT_VERSION",
    "SPLITS",
    "DatasetHeader",
    "Clip",
    "Dataset",
    "DatasetError",
    "load_dataset",
]

FORMAT_NAME = "microgesture-dataset"
# Datasets written before the rename (the package was called mgkit) are read unchanged.
ACCEPTED_FORMAT_NAMES = (FORMAT_NAME, "mgkit-dataset")
FORMAT_VERSION = 1
SPLITS = ("train", "val", "test")
HEADER_FILE, CLIPS_FILE, SKELETON_FILE = "dataset.json", "clips.csv", "skeletons.npy"


class DatasetError(ValueError):
    """A dataset that cannot be read or fails a structural check; the message names the file (and row)."""


@dataclass(frozen=True)
class DatasetHeader:
    """Contents of ``dataset.json``."""

    name: str
    layout: str
    classes: tuple[str, ...]
    fps: float = 25.0
    frame_size: tuple[int, int] = (1280, 720)  # (width, height) in pixels
    format: str = FORMAT_NAME
    version: int = FORMAT_VERSION
    description: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def has_skeletons(self) -> bool:
        """False for an RGB-only dataset (header extra ``"skeletons": false``)."""
        return bool(self.extra.get("skeletons", True))

    def to_json(self) -> dict:
        d = asdict(self)
        d["classes"] = list(self.classes)
        d["frame_size"] = list(self.frame_size)
        return d

    @classmethod
    def from_json(cls, d: dict, *, path: Path | str = HEADER_FILE) -> DatasetHeader:
        if d.get("format") not in ACCEPTED_FORMAT_NAMES:
            raise DatasetError(f"{path}: 'format' is {d.get('format')!r}, expected {FORMAT_NAME!r}")
        if d.get("version") != FORMAT_VERSION:
            raise DatasetError(f"{path}: format version {d.get('version')!r} is not supported (microgesture reads 1)")
        for key in ("name", "layout", "classes"):
            if key not in d:
                raise DatasetError(f"{path}: missing key {key!r}")
        try:
            get_layout(d["layout"])
        except KeyError as e:
            raise DatasetError(f"{path}: {e.args[0]}") from None
        known = {f.name for f in fields(cls)}
        unknown = {k: v for k, v in d.items() if k not in known}
        kw = {k: v for k, v in d.items() if k in known}
        kw["classes"] = tuple(kw["classes"])
        kw["frame_size"] = tuple(int(x) for x in kw.get("frame_size", (1280, 720)))
        kw["extra"] = {**kw.get("extra", {}), **unknown}
        kw["format"] = FORMAT_NAME  # a legacy name is rewritten as the current one
        return cls(**kw)


@dataclass(frozen=True)
class Clip:
    """One row of ``clips.csv``.

    ``start_frame``/``end_frame`` locate the clip in its source (long) video, 0-based inclusive. ``video_path`` is the
    clip's video file relative to the dataset directory ("" if none); the clip's frames in that file are
    ``[video_start, video_start + num_frames)`` (0 for a clip cut to its own file). ``label`` is -1 when unknown.
    ``extra`` holds further columns (derived-modality paths such as ``taylor_path``), as strings.
    """

    clip_id: str
    video_id: str
    subject: str
    split: str
    label: int
    start_frame: int
    end_frame: int
    num_frames: int
    skel_offset: int = 0
    video_path: str = ""
    video_start: int = 0
    pseudo: int = 0
    extra: dict[str, str] = field(default_factory=dict)


CLIP_COLUMNS = [f.name for f in fields(Clip) if f.name != "extra"]
_INT_COLUMNS = {"label", "start_frame", "end_frame", "num_frames", "skel_offset", "video_start", "pseudo"}


def _read_clips(path: Path) -> list[Clip]:
    clips: list[Clip] = []
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in CLIP_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DatasetError(f"{path}: missing columns {', '.join(missing)}")
        for row_no, row in enumerate(reader, start=2):  # row 1 is the header
            kw: dict = {}
            try:
                for c in CLIP_COLUMNS:
                    kw[c] = int(row[c]) if c in _INT_COLUMNS else row[c]
            except (TypeError, ValueError):
                raise DatasetError(f"{path}:{row_no}: column {c!r} is not an integer: {row[c]!r}") from None
            kw["extra"] = {k: v for k, v in row.items() if k not in CLIP_COLUMNS and k is not None}
            clips.append(Clip(**kw))
    return clips


def _write_clips(path: Path, clips: Iterable[Clip]) -> None:
    clips = list(clips)
    extra_cols = sorted({k for c in clips for k in c.extra})
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CLIP_COLUMNS + extra_cols)
        for c in clips:
            w.writerow([getattr(c, k) for k in CLIP_COLUMNS] + [c.extra.get(k, "") for k in extra_cols])


class Dataset:
    """A dataset directory opened for reading. Skeletons are memory-mapped; clips keep the table's order."""

    def __init__(self, root: str | os.PathLike, *, header: DatasetHeader, clips: list[Clip], skeletons: np.ndarray):
        self.root = Path(root)
        self.header = header
        self.clips = clips
        self._skeletons = skeletons
        self._by_id = {c.clip_id: c for c in clips}
        if len(self._by_id) != len(clips):
            seen: set[str] = set()
            dup = next(c.clip_id for c in clips if c.clip_id in seen or seen.add(c.clip_id))
            raise DatasetError(f"{self.root / CLIPS_FILE}: duplicate clip_id {dup!r}")

    @classmethod
    def open(cls, root: str | os.PathLike) -> Dataset:
        root = Path(root)
        hp = root / HEADER_FILE
        if not hp.is_file():
            raise DatasetError(f"{hp}: not found; is {root} a microgesture dataset directory?")
        try:
            header = DatasetHeader.from_json(json.loads(hp.read_text()), path=hp)
        except json.JSONDecodeError as e:
            raise DatasetError(f"{hp}: invalid JSON ({e})") from None
        cp = root / CLIPS_FILE
        if not cp.is_file():
            raise DatasetError(f"{cp}: not found")
        clips = _read_clips(cp)
        sp = root / SKELETON_FILE
        if not sp.is_file():
            raise DatasetError(f"{sp}: not found")
        try:
            skel = np.load(sp, mmap_mode="r", allow_pickle=False)
        except ValueError as e:
            raise DatasetError(f"{sp}: unreadable ({e})") from None
        v = get_layout(header.layout).num_joints
        if skel.ndim != 3 or skel.shape[1:] != (v, 3) or skel.dtype != np.float32:
            raise DatasetError(
                f"{sp}: expected float32 (frames, {v}, 3) for layout {header.layout}, got {skel.dtype} {skel.shape}"
            )
        return cls(root, header=header, clips=clips, skeletons=skel)

    def __getstate__(self) -> dict:
        # Data-loader workers started with "spawn" pickle the dataset: send the path, not a copy of the memory-mapped
        # store (which would be read whole into every worker).
        state = self.__dict__.copy()
        if isinstance(self._skeletons, np.memmap):
            state["_skeletons"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if self._skeletons is None:
            self._skeletons = np.load(self.root / SKELETON_FILE, mmap_mode="r", allow_pickle=False)

    # -- access -------------------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.clips)

    def __iter__(self) -> Iterator[Clip]:
        return iter(self.clips)

    def __contains__(self, clip_id: str) -> bool:
        return clip_id in self._by_id

    def clip(self, clip_id: str) -> Clip:
        try:
            return self._by_id[clip_id]
        except KeyError:
            raise KeyError(f"{self.root}: no clip {clip_id!r}") from None

    @property
    def layout(self) -> str:
        return self.header.layout

    @property
    def classes(self) -> tuple[str, ...]:
        return self.header.classes

    @property
    def has_skeletons(self) -> bool:
        return self.header.has_skeletons

    @property
    def skeleton_store(self) -> np.ndarray:
        """The whole memory-mapped (total_frames, V, 3) array."""
        return self._skeletons

    def split(self, name: str) -> list[Clip]:
        return [c for c in self.clips if c.split == name]

    def splits(self) -> list[str]:
        present = {c.split for c in self.clips}
        return [s for s in SPLITS if s in present] + sorted(present - set(SPLITS))

    def skeleton(self, clip: Clip | str, layout: str | None = None) -> np.ndarray:
        """The clip's (T, V, 3) skeleton as a float32 copy, optionally converted to ``layout``."""
        if not self.header.has_skeletons:
            raise DatasetError(
                f"{self.root / HEADER_FILE}: dataset {self.header.name!r} has no skeletons (RGB-only, "
                "'skeletons': false); use its videos"
            )
        c = self.clip(clip) if isinstance(clip, str) else clip
        s = np.array(self._skeletons[c.skel_offset : c.skel_offset + c.num_frames], dtype=np.float32)
        if s.shape[0] != c.num_frames:
            raise DatasetError(
                f"{self.root / SKELETON_FILE}: clip {c.clip_id} needs frames {c.skel_offset}..."
                f"{c.skel_offset + c.num_frames - 1} but the store has {len(self._skeletons)}"
            )
        if layout is not None and layout != self.header.layout:
            s = convert(s, self.header.layout, layout)
        return s

    def video_file(self, clip: Clip | str, column: str = "video_path") -> Path | None:
        """Absolute path of the clip's video for ``column`` (``video_path`` or a derived one), or None."""
        c = self.clip(clip) if isinstance(clip, str) else clip
        rel = c.video_path if column == "video_path" else c.extra.get(column, "")
        return (self.root / rel) if rel else None


def load_dataset(root: str | os.PathLike) -> Dataset:
    return Dataset.open(root)


def __getattr__(name: str):
    """The writer lives in :mod:`microgesture.data.writer` (house rule: modules under 400 lines); its names stay
    importable from here, where importers and tests have always taken them, lazily so neither module import order
    makes a cycle."""
    if name in ("DatasetWriter", "rewrite_clips"):
        from microgesture.data import writer

        return getattr(writer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
