"""Writing a microgesture dataset: :class:`DatasetWriter` (atomic, via a temporary sibling directory) and
:func:`rewrite_clips` (atomic replacement of the clip table). The format itself is described in
:mod:`microgesture.data.format`, which re-exports both names.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from microgesture.atomic import atomic_dir, atomic_path, sweep, write_json
from microgesture.data.format import (
    CLIPS_FILE,
    HEADER_FILE,
    SKELETON_FILE,
    Clip,
    Dataset,
    DatasetError,
    DatasetHeader,
    _write_clips,
)
from microgesture.layouts import get_layout

__all__ = ["DatasetWriter", "rewrite_clips"]


class DatasetWriter:
    """Write a dataset atomically.

    Use as a context manager; clips are appended with :meth:`add`, files (videos) are placed with :meth:`path_for`.
    On normal exit the temporary directory is renamed to ``root`` (``overwrite=True`` replaces an existing one);
    on an exception it is removed and nothing at ``root`` changes.
    """

    def __init__(self, root: str | os.PathLike, header: DatasetHeader, *, overwrite: bool = False):
        self.root = Path(root)
        self.header = header
        self.overwrite = overwrite
        if self.root.exists() and not overwrite:
            raise FileExistsError(f"{self.root} exists; pass overwrite=True (--overwrite) to replace it")
        self._v = get_layout(header.layout).num_joints
        self._clips: list[Clip] = []
        self._frames = 0
        self._tmp: Path | None = None
        self._raw = None
        self._ctx = None

    def __enter__(self) -> DatasetWriter:
        sweep(self.root.parent)  # temporaries of imports that were killed
        self._ctx = atomic_dir(self.root)
        self._tmp = self._ctx.__enter__()
        self._raw = open(self._tmp / "skeletons.raw", "wb")  # noqa: SIM115 -- closed in _finish/_abort
        return self

    @property
    def tmp_dir(self) -> Path:
        if self._tmp is None:
            raise RuntimeError("DatasetWriter used outside its 'with' block")
        return self._tmp

    def path_for(self, relpath: str) -> Path:
        """Where to write a file that will live at ``root/relpath`` (parents created)."""
        p = self.tmp_dir / relpath
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def add(self, clip: Clip, skeleton: np.ndarray | None = None) -> Clip:
        """Append a clip and its (T, V, 3) skeleton; ``skel_offset`` and ``num_frames`` are filled in.

        For an RGB-only header (``has_skeletons`` False) pass no skeleton; the clip keeps its own ``num_frames``
        (> 0, from its video) and ``skel_offset`` 0.
        """
        if not self.header.has_skeletons:
            if skeleton is not None:
                raise DatasetError(f"clip {clip.clip_id}: skeleton given for an RGB-only dataset")
            if clip.num_frames <= 0:
                raise DatasetError(f"clip {clip.clip_id}: num_frames must be > 0 in an RGB-only dataset")
            c = replace(clip, skel_offset=0)
            self._clips.append(c)
            return c
        if skeleton is None:
            raise DatasetError(f"clip {clip.clip_id}: no skeleton given (the header does not say 'skeletons': false)")
        s = np.ascontiguousarray(skeleton, dtype=np.float32)
        if s.ndim != 3 or s.shape[1:] != (self._v, 3):
            raise DatasetError(f"clip {clip.clip_id}: skeleton shape {s.shape}, expected (T, {self._v}, 3)")
        if s.shape[0] == 0:
            raise DatasetError(f"clip {clip.clip_id}: empty skeleton")
        c = replace(clip, skel_offset=self._frames, num_frames=int(s.shape[0]))
        assert self._raw is not None
        self._raw.write(s.tobytes())
        self._frames += s.shape[0]
        self._clips.append(c)
        return c

    def discard(self, clip_id: str) -> Clip:
        """Drop a clip added earlier (e.g. its video could not be cut); its skeleton rows stay, unreferenced."""
        for i, c in enumerate(self._clips):
            if c.clip_id == clip_id:
                return self._clips.pop(i)
        raise KeyError(f"no clip {clip_id!r} in this writer")

    def write_json(self, relpath: str, obj: object) -> Path:
        """Write ``obj`` as JSON to ``root/relpath`` (it appears with the dataset)."""
        return write_json(self.path_for(relpath), obj)

    @property
    def clips(self) -> list[Clip]:
        return list(self._clips)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self._finish()
        else:
            self._abort()

    def _finish(self) -> None:
        assert self._raw is not None and self._tmp is not None
        self._raw.close()
        raw_path = self._tmp / "skeletons.raw"
        out = np.lib.format.open_memmap(
            self._tmp / SKELETON_FILE, mode="w+", dtype=np.float32, shape=(self._frames, self._v, 3)
        )
        if self._frames:
            raw = np.memmap(raw_path, dtype=np.float32, mode="r", shape=(self._frames, self._v, 3))
            step = 1 << 16
            for i in range(0, self._frames, step):
                out[i : i + step] = raw[i : i + step]
            del raw
        out.flush()
        del out
        raw_path.unlink()
        _write_clips(self._tmp / CLIPS_FILE, self._clips)
        (self._tmp / HEADER_FILE).write_text(json.dumps(self.header.to_json(), indent=2) + "\n")
        ctx, self._tmp, self._ctx = self._ctx, None, None
        ctx.__exit__(None, None, None)  # renames the directory into place (an old one is replaced)

    def _abort(self) -> None:
        if self._raw is not None:
            self._raw.close()
        if self._ctx is not None:
            ctx, self._tmp, self._ctx = self._ctx, None, None
            try:
                ctx.__exit__(RuntimeError, RuntimeError("import aborted"), None)  # removes the temporary
            except RuntimeError:
                pass


def rewrite_clips(dataset: Dataset, clips: list[Clip]) -> None:
    """Atomically replace a dataset's clip table (used to record derived modalities); skeletons are untouched."""
    with atomic_path(dataset.root / CLIPS_FILE) as tmp:
        _write_clips(tmp, clips)
