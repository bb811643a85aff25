"""What every raw iMiGUE layout reader hands the importer: label rows and per-video sources, and the problems found.

A layout reader (:mod:`microgesture.data.miga_raw`, :mod:`microgesture.data.imigue_release`) turns files on disk into
:class:`VideoEntry` objects; :func:`microgesture.data.importers.import_imigue` does the rest the same way for all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from microgesture.data.openpose import RawDataError

__all__ = ["Skipped", "LabelRow", "VideoEntry", "is_int", "fail", "MAX_LISTED"]

MAX_LISTED = 20  # problems spelled out in an error message; the rest are counted


@dataclass(frozen=True)
class Skipped:
    """One clip (or list entry, or whole video when ``clip_id`` is ``<vid>_*``) that could not be imported."""

    clip_id: str
    file: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        return where + self.message + (f" (clip {self.clip_id})" if self.clip_id else "")


@dataclass(frozen=True)
class LabelRow:
    """One labelled clip: ``k`` numbers it in its video (clip id ``<vid>_<k>``), frames are 0-based inclusive."""

    k: int
    where: str  # "file:line N"
    label: int
    start: int
    end: int


@dataclass
class VideoEntry:
    """One video's labels and where its skeleton and video are (None when absent)."""

    vid: str
    rows: list[LabelRow]
    skeleton: Path | None = None  # a folder of JSON frames, or an _openpose.csv/.xlsx table
    video: Path | None = None
    subject: str | None = None  # None: the video id stands in for the subject
    meta: dict[str, str] = field(default_factory=dict)  # extra clip columns (gender, nationality, ...)
    where: str = ""  # the label file, for messages about the whole video


def is_int(s: str) -> bool:
    """An integer, also as written by spreadsheets and pandas ("7.0")."""
    return bool(re.fullmatch(r"\s*-?\d+(\.0*)?\s*", s))


def fail(problems: Sequence[Skipped], what: str) -> RawDataError:
    """The error for an import with problems: one line when there is one problem, else one line per problem."""
    if len(problems) == 1:
        return RawDataError(f"{problems[0]}; nothing written (--skip-bad writes the good videos)")
    lines = [f"{len(problems)} problems in {what}; nothing written (--skip-bad writes the good videos):"]
    lines += [f"  {p}" for p in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        lines.append(f"  ... and {len(problems) - MAX_LISTED} more")
    return RawDataError("\n".join(lines))
