"""Derived video modalities (Taylor video, optical flow, depth), extracted once per dataset and cached next to it.

Layout on disk, for modality ``m`` of a dataset directory ``DATASET``::

    DATASET/m/<clip_id>.mp4             the derived video of each clip (written to a temporary name, then renamed)
    DATASET/m/extract.json              the settings the videos were made with (a run with other settings refuses)
    DATASET/m/report-<I>of<N>.json      per-shard report: clips done, skipped, failed (with the error)
    DATASET/clips.csv                   column ``m_path`` = "m/<clip_id>.mp4" where that file exists, else ""

The column is always rebuilt from the files present on disk, under a lock file (``DATASET/.clips.csv.lock``), at the
end of every shard run and by ``microgesture extract m DATASET --merge``; so shards running at the same time never
lose each other's updates, and whichever shard finishes last (or one merge after a job array) leaves the full column.

This module is light (no torch); the extractors live in :mod:`microgesture.extract.taylor`,
:mod:`~microgesture.extract.flow` and :mod:`~microgesture.extract.depth`, the batch job in
:mod:`microgesture.extract.runner` and the clips.csv column with its lock in :mod:`microgesture.extract.column`.
How each modality compares with MM-Gesture's own tools is in ``docs/deviations.md``.
"""

from __future__ import annotations

from pathlib import Path

from microgesture.data.format import Clip, Dataset

__all__ = ["MODALITIES", "modality_column", "branch_modality", "modality_video", "output_relpath"]

MODALITIES = ("taylor", "flow", "depth")


def modality_column(modality: str) -> str:
    """The clips.csv column that holds a modality's video: "rgb" -> "video_path", "taylor" -> "taylor_path", ...."""
    if modality == "rgb":
        return "video_path"
    if modality in MODALITIES:
        return f"{modality}_path"
    raise KeyError(f"unknown video modality {modality!r}; known: rgb, {', '.join(MODALITIES)}")


def branch_modality(branch: str) -> str:
    """The video modality a branch reads, from its name's first part: "taylor-swin3d-b" -> "taylor"."""
    head = branch.split("-", 1)[0]
    modality_column(head)  # raises KeyError for a branch that reads no video modality
    return head


def modality_video(dataset: Dataset, clip: Clip | str, modality: str) -> Path | None:
    """Absolute path of a clip's video for ``modality`` ("rgb" or a derived one), or None if not extracted."""
    return dataset.video_file(clip, modality_column(modality))


def output_relpath(modality: str, clip_id: str) -> str:
    """Where a clip's derived video lives, relative to the dataset directory."""
    modality_column(modality)
    if not clip_id or clip_id.startswith(".") or any(ch in clip_id for ch in "/\\\0"):
        raise ValueError(f"clip id {clip_id!r} cannot be used as a file name")
    return f"{modality}/{clip_id}.mp4"
