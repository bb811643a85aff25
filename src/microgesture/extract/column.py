"""The ``<modality>_path`` column of clips.csv: rebuilt from the files on disk, under a lock, by every shard.

:func:`update_column` runs at the end of every shard of an extraction job and in :func:`merge` (``microgesture extract
MODALITY DATASET --merge``), so shards running at the same time never clobber each other and the last one leaves the
full column. The lock is ``fcntl.lockf`` on ``DATASET/.clips.csv.lock`` (POSIX record locks, which NFS supports
through its lock manager); the clip table is written with :func:`microgesture.data.format.rewrite_clips` (atomic
replace).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from microgesture.data.format import Dataset, rewrite_clips
from microgesture.extract import modality_column, output_relpath

__all__ = ["LOCK_FILE", "MergeSummary", "dataset_lock", "merge", "update_column"]

logger = logging.getLogger(__name__)
LOCK_FILE = ".clips.csv.lock"


@dataclass
class MergeSummary:
    """Result of :func:`merge`: the column's coverage and the failures the shard reports list."""

    modality: str
    present: int
    missing: list[str]
    failed: dict[str, str]
    reports: list[Path]


@contextmanager
def dataset_lock(root: Path) -> Iterator[None]:
    """Exclusive lock on the dataset's clip table, shared by all processes and machines that see ``root``."""
    with open(Path(root) / LOCK_FILE, "a+") as fh:
        fcntl.lockf(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.lockf(fh, fcntl.LOCK_UN)


def update_column(root: str | os.PathLike, modality: str) -> tuple[int, list[str]]:
    """Rebuild ``<modality>_path`` in clips.csv from the files on disk, under the lock.

    Returns:
        (number of clips with an output, ids of clips without one).
    """
    root = Path(root)
    col = modality_column(modality)
    with dataset_lock(root):
        ds = Dataset.open(root)  # re-read under the lock: other columns written meanwhile are kept
        new, missing = [], []
        for c in ds.clips:
            rel = output_relpath(modality, c.clip_id)
            have = (root / rel).is_file()
            if not have:
                missing.append(c.clip_id)
            new.append(replace(c, extra={**c.extra, col: rel if have else ""}))
        rewrite_clips(ds, new)
    return len(new) - len(missing), missing


def merge(root: str | os.PathLike, modality: str, *, log: Callable[[str], None] | None = None) -> MergeSummary:
    """Rebuild the modality column from disk and summarise the shard reports (after a job array)."""
    root = Path(root)
    log = log or logger.info
    present, missing = update_column(root, modality)
    reports = sorted((root / modality).glob("report-*of*.json"))
    failed: dict[str, str] = {}
    still_missing = set(missing)
    for p in reports:
        try:
            for cid, err in json.loads(p.read_text()).get("failed", {}).items():
                if cid in still_missing:
                    failed[cid] = err
        except (json.JSONDecodeError, AttributeError) as e:
            log(f"{p}: unreadable report ({e}); skipped")
    log(f"{modality} merge: column {modality_column(modality)} has {present}/{present + len(missing)} clips "
        f"from {len(reports)} shard report(s)")
    for cid, err in sorted(failed.items()):
        log(f"{modality} merge: FAILED {cid}: {err}")
    never = [c for c in missing if c not in failed]
    if never:
        log(f"{modality} merge: {len(never)} clip(s) not attempted yet, e.g. {', '.join(never[:5])}")
    return MergeSummary(modality=modality, present=present, missing=missing, failed=failed, reports=reports)
