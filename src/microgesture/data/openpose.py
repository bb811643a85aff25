"""Raw OpenPose-137 skeleton files: per-video tables (CSV or xlsx, one row of 411 values per frame) and folders of
per-frame OpenPose JSON files. Readers validate every frame and name the file, row or frame of each problem; the
iMiGUE importer and ``microgesture pose --backend openpose-json`` build on them.
"""

from __future__ import annotations

import csv
import json
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from microgesture.data.format import DatasetError

__all__ = ["RAW_JOINTS", "RAW_COLUMNS", "RawDataError", "read_skeleton_table", "read_openpose_json_dir", "frame_files"]

RAW_JOINTS = 137  # OpenPose BODY_25 + face-70 + 2 x hand-21
RAW_COLUMNS = RAW_JOINTS * 3
# per-frame JSON parts in OpenPose-137 order (docs/formats.md, layout openpose137)
_JSON_PARTS = (("pose_keypoints_2d", 25), ("face_keypoints_2d", 70), ("hand_left_keypoints_2d", 21),
               ("hand_right_keypoints_2d", 21))


class RawDataError(DatasetError):
    """Raw input that cannot be imported; the message names the file and row of each problem."""


# -- skeleton readers -------------------------------------------------------------------------------------------------
def _as_number(v: object) -> float | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    try:
        return float(str(v).strip())
    except ValueError:
        return None


def _validate_frames(a: np.ndarray, bad: dict[int, str], where: Callable[[int], str]) -> None:
    """Record frames of (T, 137, 3) ``a`` with non-finite values (a broken file; negative coordinates and
    confidences are quirks of real OpenPose output, left to :mod:`microgesture.data.sanitise`)."""
    nonfinite = ~np.isfinite(a).all(axis=(1, 2))
    for t in np.flatnonzero(nonfinite):
        if t not in bad:
            j = int(np.flatnonzero(~np.isfinite(a[t]).all(axis=1))[0])
            bad[int(t)] = f"{where(int(t))}: non-finite value at keypoint {j}"


def read_skeleton_table(path: str | os.PathLike) -> tuple[np.ndarray, dict[int, str]]:
    """Read an OpenPose table (``.csv`` or ``.xlsx``, one row per frame, 411 values, optional header row).

    Returns the (T, 137, 3) float32 array and ``{frame: message}`` for bad rows (wrong length, non-numeric, NaN or
    infinite); bad rows are zero in the array. Messages read ``file:row N: ...``.
    """
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        import openpyxl

        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises zipfile/KeyError/InvalidFileException on damaged files
            raise RawDataError(f"{path}: cannot read workbook ({type(e).__name__}: {e})") from None
        try:
            rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        finally:
            wb.close()
    else:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        while lines and not lines[-1].strip():
            lines.pop()
        first = 1 if lines and all(_as_number(v) is None for v in lines[0].split(",")) else 0
        fast = _loadtxt(lines[first:])
        if fast is not None:
            a, bad = fast.reshape(len(fast), RAW_JOINTS, 3), {}
            _validate_frames(a, bad, lambda t: f"{path}:row {t + first + 1}")
            a[list(bad)] = 0
            return a, bad
        rows = list(csv.reader(lines))  # some row is irregular: parse row by row to name it
    for r in rows:  # spreadsheets pad short rows; trailing empty cells are not values
        while r and (r[-1] is None or (isinstance(r[-1], str) and not r[-1].strip())):
            r.pop()
    first = 1 if rows and rows[0] and all(_as_number(v) is None for v in rows[0]) else 0  # a header row
    body = rows[first:]
    while body and not body[-1]:
        body.pop()
    out = np.zeros((len(body), RAW_COLUMNS), np.float32)
    bad: dict[int, str] = {}
    for t, r in enumerate(body):
        row_no = t + first + 1
        if len(r) != RAW_COLUMNS:
            bad[t] = f"{path}:row {row_no}: {len(r)} values, expected {RAW_COLUMNS} (137 keypoints x 3)"
            continue
        vals = [_as_number(v) for v in r]
        if None in vals:
            c = vals.index(None)
            bad[t] = f"{path}:row {row_no}: column {c + 1} is not a number: {r[c]!r}"
            continue
        out[t] = vals
    a = out.reshape(len(body), RAW_JOINTS, 3)
    _validate_frames(a, bad, lambda t: f"{path}:row {t + first + 1}")
    a[list(bad)] = 0
    return a, bad


def _loadtxt(lines: list[str]) -> np.ndarray | None:
    """(T, 411) through numpy's C parser (~4x faster than row by row), or None if any line is irregular."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data"
            a = np.loadtxt(lines, delimiter=",", dtype=np.float32, ndmin=2, comments=None)
    except ValueError:
        return None
    return a if lines and a.shape == (len(lines), RAW_COLUMNS) else None


def _frame_number(p: Path) -> int | None:
    """OpenPose names frames ``<name>_<12-digit index>_keypoints.json``: the last number in the name."""
    m = re.search(r"(\d+)\D*$", p.stem)
    return int(m.group(1)) if m else None


def frame_files(folder: str | os.PathLike) -> dict[int, Path]:
    """{frame index: file} of a folder of per-frame OpenPose JSON files. A name without a number, or two files with
    one number (``a_0001_keypoints.json`` and ``a_1_keypoints.json``), raise :class:`RawDataError` naming them."""
    files: dict[int, Path] = {}
    for f in sorted(Path(folder).glob("*.json")):
        t = _frame_number(f)
        if t is None:
            raise RawDataError(f"{f}: no frame number in the file name (OpenPose writes <name>_<frame>_keypoints.json)")
        if t in files:
            raise RawDataError(f"{f}: frame number {t} collides with {files[t].name}")
        files[t] = f
    return files


def read_openpose_json_dir(folder: str | os.PathLike, *, choose: Callable[[list[np.ndarray]], int] | None = None,
                           min_frames: int = 0) -> tuple[np.ndarray, dict[int, str], dict[str, int]]:
    """Read a folder of per-frame OpenPose JSON files into (T, 137, 3).

    Frames are indexed by the number in the file name (see :func:`frame_files`); an absent number is a missing
    frame (a gap, confidence 0), and so are frames after the last file up to ``min_frames``. A frame with no person
    is all-missing. With several people, ``choose`` picks one from the frame's (137, 3) person arrays; by default
    the subject is tracked over time (:func:`microgesture.data.sanitise.track_subject`). Returns the array,
    ``{frame: message}`` for bad frames (not JSON, wrong lengths, non-finite) and counts ``{"multi_person": n,
    "empty": n, "missing": n}``.
    """
    from microgesture.data.sanitise import track_subject

    folder = Path(folder)
    files = frame_files(folder)
    n = max(max(files) + 1 if files else 0, min_frames)
    bad: dict[int, str] = {}
    people: dict[int, list[np.ndarray]] = {}
    for t, f in files.items():
        try:
            found = json.loads(f.read_bytes()).get("people") or []
            people[t] = [_json_person(p, f) for p in found]
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, TypeError) as e:
            bad[t] = f"{f}: not an OpenPose JSON frame ({type(e).__name__}: {e})"
        except RawDataError as e:
            bad[t] = str(e)
    counts = {"multi_person": 0, "empty": sum(not p for p in people.values()), "missing": n - len(files)}
    if choose is None:
        a, counts["multi_person"] = track_subject(people, n, RAW_JOINTS)
    else:
        a = np.zeros((n, RAW_JOINTS, 3), np.float32)
        for t, persons in people.items():
            if persons:
                counts["multi_person"] += len(persons) > 1
                a[t] = persons[choose(persons)] if len(persons) > 1 else persons[0]
    _validate_frames(a, bad, lambda t: str(files[t]) if t in files else f"{folder}: frame {t}")
    a[list(bad)] = 0
    return a, bad, counts


def _json_person(person: dict, f: Path) -> np.ndarray:
    parts = []
    for key, n in _JSON_PARTS:
        v = person.get(key) or []  # face/hands are empty lists when OpenPose ran without them
        if v and len(v) != 3 * n:
            raise RawDataError(f"{f}: {key} has {len(v)} values, expected {3 * n}")
        try:
            parts.append(np.asarray(v, np.float32).reshape(n, 3) if v else np.zeros((n, 3), np.float32))
        except (TypeError, ValueError):
            raise RawDataError(f"{f}: {key} holds non-numbers") from None
    return np.concatenate(parts)
