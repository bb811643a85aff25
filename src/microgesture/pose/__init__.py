"""Offline pose extraction: a video (MediaPipe Holistic) or a folder of OpenPose JSON frames -> an OpenPose-137
skeleton that every branch reads.

Output (``PoseResult.save``, an ``.npz`` without pickle):

    keypoints   float32 (T, 137, 3): x, y in pixels of the frame, confidence; a missing joint is (0, 0, 0)
    fps         float, frame_size int (2,) = width, height
    backend     "mediapipe" or "openpose-json"; layout "openpose137"
    meta        JSON: source, selection (rule, selected track, the track listing, frames with several people,
                people per frame, association checks, frozen stretches), missing-joint report, gap filling,
                no_person flag
    people_ids, people_keypoints
                int (N,), float32 (N, T, 137, 3): every person tracked (mediapipe backend), after the association
                checks, so another person can be chosen without extracting again (:func:`select_person`)

MediaPipe pins numpy < 2 and cannot live beside torch here, so it runs in its own environment (``make pose-env``
creates ``.venv-pose``). :func:`extract_pose` re-runs itself there (``python -m microgesture.pose``) when
``mediapipe`` is
not importable: the interpreter is ``$MICROGESTURE_POSE_PYTHON``, else ``./.venv-pose/bin/python``, else the one
beside the
microgesture checkout. This package imports numpy, PyAV and OpenCV only, never torch.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from microgesture.layouts import get_layout
from microgesture.pose.holistic import choose_box
from microgesture.pose.people import SELECT_RULES, parse_select
from microgesture.pose.render import track_listing, write_pose_overlay, write_track_thumbnails

__all__ = ["PoseError", "PoseResult", "extract_pose", "load_pose", "missing_report", "fill_short_gaps",
           "pose_python", "write_pose_overlay", "write_track_thumbnails", "track_listing",
           "select_person", "BACKENDS",
           "SELECT_RULES", "UPPER_BODY"]

BACKENDS = ("mediapipe", "openpose-json")
UPPER_BODY = tuple(range(8))  # nose, neck, shoulders, elbows, wrists: the seated body (legs are under the table)
FORMAT = "microgesture-pose"
VERSION = 1


class PoseError(ValueError):
    """Pose extraction that cannot run or a pose file that cannot be read; the message names the file."""


@dataclass
class PoseResult:
    """A skeleton extracted from one video.

    Attributes:
        keypoints: float32 (T, 137, 3) = x, y (pixels), confidence; (0, 0, 0) = missing.
        fps: frames per second of the source.
        frame_size: (width, height) in pixels.
        backend: "mediapipe" or "openpose-json".
        source: the video or JSON folder it came from.
        selection: subject-selection record (rule, frames with several people, ...).
        missing: missing-joint report of the raw detections (see :func:`missing_report`).
        gaps: gap-filling record (max_gap, filled joint-frames).
        people: every tracked person, id -> (T, 137, 3) (mediapipe backend; empty for openpose-json).
    """

    keypoints: np.ndarray
    fps: float
    frame_size: tuple[int, int]
    backend: str
    source: str = ""
    selection: dict = field(default_factory=dict)
    missing: dict = field(default_factory=dict)
    gaps: dict = field(default_factory=dict)
    people: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return len(self.keypoints)

    @property
    def no_person(self) -> bool:
        """True when no frame has a single detected joint (an empty, flagged result)."""
        return not bool((self.keypoints[..., 2] > 0).any())

    def meta(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "source": self.source, "layout": "openpose137",
                "selection": self.selection, "missing": self.missing, "gaps": self.gaps, "no_person": self.no_person}

    def save(self, path: str | os.PathLike) -> Path:
        """Write the ``.npz`` (atomically: temporary name, then rename)."""
        from microgesture.atomic import atomic_path

        ids = sorted(self.people)
        people = (np.stack([self.people[i] for i in ids]).astype(np.float32) if ids
                  else np.zeros((0, self.num_frames, 137, 3), np.float32))
        with atomic_path(Path(path).with_suffix(".npz")) as tmp:
            np.savez_compressed(tmp, keypoints=np.asarray(self.keypoints, np.float32), fps=np.float64(self.fps),
                                frame_size=np.asarray(self.frame_size, np.int64), backend=np.str_(self.backend),
                                layout=np.str_("openpose137"), meta=np.str_(json.dumps(self.meta())),
                                people_ids=np.asarray(ids, np.int64), people_keypoints=people)
        return Path(path).with_suffix(".npz")


def load_pose(path: str | os.PathLike) -> PoseResult:
    """Read a skeleton written by :meth:`PoseResult.save` (``microgesture pose``)."""
    path = Path(path)
    if not path.is_file():
        raise PoseError(f"{path}: skeleton file not found")
    try:
        with np.load(path, allow_pickle=False) as z:
            kp = np.asarray(z["keypoints"], np.float32)
            meta = json.loads(str(z["meta"]))
            res = PoseResult(keypoints=kp, fps=float(z["fps"]), frame_size=tuple(int(v) for v in z["frame_size"]),
                             backend=str(z["backend"]), source=meta.get("source", ""),
                             selection=meta.get("selection", {}), missing=meta.get("missing", {}),
                             gaps=meta.get("gaps", {}))
            if "people_ids" in z.files:
                res.people = {int(i): p for i, p in zip(z["people_ids"], z["people_keypoints"], strict=True)}
    except (OSError, KeyError, ValueError) as e:
        raise PoseError(f"{path}: not a microgesture pose file ({e})") from None
    if kp.ndim != 3 or kp.shape[1:] != (137, 3):
        raise PoseError(f"{path}: keypoints must be (T, 137, 3), got {kp.shape}")
    return res


# -- reports and gap filling -------------------------------------------------------------------------------------------
def missing_report(keypoints: np.ndarray, *, conf_threshold: float = 0.0) -> dict:
    """Fraction of frames in which each part is missing (no joint of it with confidence > ``conf_threshold``).

    Parts: ``body`` (upper body: nose, neck, shoulders, elbows, wrists), ``face``, ``left_hand``, ``right_hand``;
    ``person`` = no joint at all. Also ``joints``: the missing fraction of each of the 137 joints.
    """
    kp = np.asarray(keypoints, np.float32)
    t = len(kp)
    present = kp[..., 2] > conf_threshold  # (T, 137)
    parts = dict(get_layout("openpose137").parts)
    parts["body"] = UPPER_BODY
    rep: dict = {"frames": t}
    for name in ("body", "face", "left_hand", "right_hand"):
        miss = ~present[:, list(parts[name])].any(axis=1)
        rep[name] = round(float(miss.mean()), 4) if t else 1.0
    rep["person"] = round(float((~present.any(axis=1)).mean()), 4) if t else 1.0
    rep["joints"] = [round(float(v), 4) for v in (1 - present.mean(axis=0))] if t else [1.0] * 137
    return rep


def fill_short_gaps(keypoints: np.ndarray, max_gap: int) -> tuple[np.ndarray, int]:
    """Linearly interpolate each joint over runs of at most ``max_gap`` missing frames with detections on both sides.

    x, y and the confidence are interpolated between the two bounding detections (so a filled joint stays below the
    detections around it); longer gaps and gaps at the ends stay missing. The skeleton branch's ``fill: interp`` fills
    every gap of a clip; here only short ones are filled, because a long gap in a long video usually means the part
    left the frame. Returns the filled copy and the number of filled joint-frames.
    """
    kp = np.array(keypoints, np.float32, copy=True)
    if max_gap <= 0 or len(kp) < 3:
        return kp, 0
    valid = kp[..., 2] > 0
    filled = 0
    for v in np.flatnonzero(valid.any(0) & ~valid.all(0)):
        idx = np.flatnonzero(valid[:, v])
        for a, b in zip(idx[:-1], idx[1:], strict=True):
            n = b - a - 1
            if 0 < n <= max_gap:
                w = (np.arange(1, n + 1, dtype=np.float32) / (n + 1))[:, None]
                kp[a + 1:b, v] = (1 - w) * kp[a, v] + w * kp[b, v]
                filled += n
    return kp, filled


# -- backends ----------------------------------------------------------------------------------------------------------
def _person_box(p: np.ndarray) -> tuple[float, float, float, float]:
    xy = p[p[:, 2] > 0, :2]
    if not len(xy):
        return (0.0, 0.0, 0.0, 0.0)
    return (*xy.min(0), *xy.max(0))


def _from_openpose_json(folder: Path, *, select: str, frame_size: tuple[int, int]) -> tuple[np.ndarray, dict]:
    from microgesture.data.openpose import read_openpose_json_dir

    rule, _ = parse_select(select)
    if rule == "person":
        raise PoseError(f"{folder}: --select person=ID needs the mediapipe backend (OpenPose JSON has no tracks)")
    rule = "largest" if rule == "main" else rule  # no tracks to rank: the largest person of each frame

    def choose(persons: list[np.ndarray]) -> int:
        boxes = np.array([_person_box(p) for p in persons])
        return choose_box(boxes, rule, frame_size)

    if not folder.is_dir() or not any(folder.glob("*.json")):
        raise PoseError(f"{folder}: no OpenPose JSON frames (*.json) in this folder")
    kp, bad, counts = read_openpose_json_dir(folder, choose=choose)
    sel = {"rule": select, "multi_person_frames": counts["multi_person"], "empty_frames": counts["empty"],
           "missing_files": counts["missing"], "bad_frames": {str(k): v for k, v in list(bad.items())[:20]},
           "num_bad_frames": len(bad)}
    return kp, sel


def _from_mediapipe(video: Path, *, select: str, progress: Callable[[int, int], None] | None,
                    options: dict) -> tuple[np.ndarray, dict, float, tuple[int, int], dict[int, np.ndarray]]:
    from microgesture.data.video import iter_frames, probe_video
    from microgesture.pose.multi import MultiPersonExtractor
    from microgesture.pose.people import frozen_stretches, repeats_frame, stitch_tracks

    info = probe_video(video, count=False)
    fps = info["fps"] or 25.0
    total = info["num_frames"]  # from the header; 0 when it has none
    n, prev, repeats = 0, None, []
    with MultiPersonExtractor(**options) as ex:
        for frame in iter_frames(video):
            ex.process(frame)
            # does this frame repeat the last one (codec noise only, on every 4th pixel)? see frozen_stretches
            small = frame[::4, ::4].astype(np.int16)
            repeats.append(repeats_frame(prev, small))
            prev = small
            n += 1
            if progress is not None:
                progress(n, max(total, n))
        tracks = ex.all_tracks(n)
        settings, restarts, unfollowed = ex.settings(), ex.restarts, ex.unfollowed[:n]
    tracks = stitch_tracks(tracks, max_gap=round(fps))  # lost for up to a second, found again where it was lost
    kp, sel, people = _select(tracks, n, select=select, frame_size=(info["width"], info["height"]),
                              hold=settings["detect_every"], unfollowed=unfollowed, fps=fps)
    sel["frozen"] = frozen_stretches(repeats, fps=fps)
    finder = "MoveNet MultiPose every frame and " if settings.get("finder") else ""
    sel.update(method=f"people found by {finder}MediaPipe Pose (static) with the tracked painted out, every "
               f"{settings['detect_every']} frames; one Holistic tracker per person on a crop around them",
               settings=settings, tracker_restarts=restarts)
    return kp, sel, fps, (info["width"], info["height"]), people


def _select(tracks: dict[int, np.ndarray], num_frames: int, *, select: str, frame_size: tuple[int, int],
            hold: int, fps: float, unfollowed: list[int] | None = None) -> tuple[np.ndarray, dict, dict]:
    """Association checks on every track, the track listing, the subject's skeleton and the selection record.

    ``unfollowed``: per frame, the people the finder saw that no track covers (counted as present). A group's drops
    of up to half a second are filled (:func:`~microgesture.pose.people.hold_several`)."""
    from microgesture.pose import people as pp

    checked, assoc = {}, {}
    for tid, v in tracks.items():
        checked[tid], assoc[tid] = pp.check_association(v)
    summary = pp.summarize_tracks(tracks, frame_size)
    for rec in summary:
        rec["association"] = assoc[rec["id"]]
    try:
        chosen = pp.select_track(summary, select, num_frames)
    except ValueError as e:
        raise PoseError(str(e)) from None
    count = pp.people_per_frame(tracks, num_frames, hold=hold, unfollowed=unfollowed)
    count = pp.hold_several(count, max_gap=round(fps / 2))
    tracked = pp.people_per_frame(tracks, num_frames, hold=hold)
    kp = checked[chosen] if chosen is not None else np.zeros((num_frames, 137, 3), np.float32)
    sel = {"rule": select, "track": chosen, "tracks": summary, "multi_person_frames": int((count >= 2).sum()),
           "people_per_frame": [int(c) for c in count], "association": assoc.get(chosen, {}),
           "multi_person_frames_tracked": int((tracked >= 2).sum())}
    if unfollowed is not None:
        sel["unfollowed_per_frame"] = [int(c) for c in unfollowed]
    return kp, sel, checked


def select_person(result: PoseResult, select: str) -> PoseResult:
    """The same extraction with another subject (``person=ID``, ``main``, ``largest``, ``central``), from the tracks
    stored in ``result`` (mediapipe backend), without running the models again."""
    if not result.people:
        raise PoseError(f"{result.source}: this skeleton file holds no tracks to choose from (openpose-json, or an "
                        "older file)")
    hold = int(result.selection.get("settings", {}).get("detect_every", 0))
    kp, sel, people = _select(result.people, result.num_frames, select=select, frame_size=result.frame_size,
                              hold=hold, unfollowed=result.selection.get("unfollowed_per_frame"), fps=result.fps)
    sel = {**result.selection, **sel}
    return PoseResult(keypoints=kp, fps=result.fps, frame_size=result.frame_size, backend=result.backend,
                      source=result.source, selection=sel, missing=missing_report(kp), gaps={"max_gap": 0},
                      people=people)


def pose_python() -> str | None:
    """The interpreter of the pose environment: $MICROGESTURE_POSE_PYTHON, ./.venv-pose, or .venv-pose of the
    checkout."""
    env = os.environ.get("MICROGESTURE_POSE_PYTHON")
    if env:
        return env
    checkout = Path(__file__).resolve().parents[3]  # src/microgesture/pose/__init__.py -> repository root
    for root in (Path.cwd(), checkout):
        py = root / ".venv-pose" / "bin" / "python"
        if py.is_file():
            return str(py)
    return None


def _mediapipe_available() -> bool:
    return importlib.util.find_spec("mediapipe") is not None


def _in_pose_env(video: Path, *, select: str, max_gap: int, options: dict) -> PoseResult:
    py = pose_python()
    if py is None or os.environ.get("MICROGESTURE_POSE_CHILD"):
        raise PoseError(
            "the mediapipe backend needs MediaPipe, which is not installed here and no pose environment was found "
            "(MICROGESTURE_POSE_PYTHON or ./.venv-pose). Create it with `make pose-env`, or: "
            "python3.11 -m venv .venv-pose && "
            ".venv-pose/bin/pip install mediapipe==0.10.21 'numpy<2' av && .venv-pose/bin/pip install --no-deps -e .")
    src = str(Path(__file__).resolve().parents[2])  # so an environment without microgesture installed still finds it
    env = dict(os.environ, MICROGESTURE_POSE_CHILD="1", MICROGESTURE_POSE_PROGRESS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryDirectory(prefix="microgesture-pose-") as tmp:
        out = Path(tmp) / "pose.npz"
        cmd = [py, "-m", "microgesture.pose", str(video), "-o", str(out), "--backend", "mediapipe", "--select", select,
               "--max-gap", str(max_gap), "--options", json.dumps(options)]
        rc = _run_pose_child(cmd, env=env, description=f"pose {video.name}")
        if rc != 0:
            raise PoseError(f"{video}: pose extraction in {py} failed (exit {rc}; its message is above)")
        return load_pose(out)


_PROGRESS_LINE = re.compile(r"^@progress (\d+) (\d+)$")


def _run_pose_child(cmd: list[str], *, env: dict, description: str) -> int:
    """Run the pose child: its ``@progress DONE TOTAL`` lines move our progress bar (ETA; one line in quiet mode),
    its other stderr lines reach ours less TF-Lite/absl noise (as :func:`microgesture.progress.run_child`)."""
    from microgesture.progress import is_noise, progress_bar, verbose

    with progress_bar(description, unit="frames") as tick, subprocess.Popen(
            cmd, env=env, stderr=subprocess.PIPE, text=True, errors="replace", bufsize=1) as p:
        for line in p.stderr:  # type: ignore[union-attr]
            m = _PROGRESS_LINE.match(line.strip())
            if m:
                tick(int(m.group(1)), int(m.group(2)))
            elif verbose() or not is_noise(line):
                sys.stderr.write(line)
                sys.stderr.flush()
    return p.returncode


def extract_pose(source: str | os.PathLike, *, backend: str | None = None, select: str = "main",
                 max_gap: int = 0, video: str | os.PathLike | None = None, fps: float | None = None,
                 frame_size: tuple[int, int] | None = None, progress: Callable[[int, int], None] | None = None,
                 options: dict | None = None) -> PoseResult:
    """Extract an OpenPose-137 skeleton from a video or an OpenPose JSON folder.

    Args:
        source: a video file (backend mediapipe) or a folder of OpenPose per-frame JSON files (openpose-json).
        backend: "mediapipe" or "openpose-json"; default: openpose-json for a folder, else mediapipe.
        select: the subject's track when several people are visible: "main" (present longest, most frontal),
            "largest", "central", or "person=ID" (an id from the track listing of a first run).
        max_gap: fill gaps of at most this many frames by linear interpolation (0 = off).
        video: for openpose-json, the matching video (gives fps and frame size).
        fps, frame_size: for openpose-json without a video (defaults 25 and 1280x720, iMiGUE's).
        progress: called with (frames done, frames in the video) (mediapipe); None draws a progress bar with an ETA
            (:func:`microgesture.progress.progress_bar`; one log line in quiet mode).
        options: extra
            :class:`~microgesture.pose.multi.MultiPersonExtractor` settings (max_people, detect_every, margin...).
    """
    source = Path(source)
    try:
        parse_select(select)
    except ValueError:
        raise PoseError(f"--select must be one of {', '.join(SELECT_RULES)}, not {select!r}") from None
    backend = backend or ("openpose-json" if source.is_dir() else "mediapipe")
    if backend not in BACKENDS:
        raise PoseError(f"unknown pose backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    options = dict(options or {})
    if backend == "mediapipe":
        if not source.is_file():
            raise PoseError(f"{source}: video not found")
        if not _mediapipe_available():
            return _in_pose_env(source, select=select, max_gap=max_gap, options=options)
        if progress is None and importlib.util.find_spec("rich") is not None:  # a bar with an ETA (quiet: one line)
            from microgesture.progress import progress_bar

            with progress_bar(f"pose {source.name}", unit="frames") as tick:
                kp, sel, fps_, size, people = _from_mediapipe(source, select=select, progress=tick, options=options)
        else:
            kp, sel, fps_, size, people = _from_mediapipe(source, select=select, progress=progress, options=options)
    else:
        if video is not None:
            from microgesture.data.video import probe_video

            info = probe_video(video, count=False)
            fps, frame_size = fps or info["fps"] or 25.0, frame_size or (info["width"], info["height"])
        fps_, size = float(fps or 25.0), tuple(frame_size or (1280, 720))
        kp, sel = _from_openpose_json(source, select=select, frame_size=size)
        people = {}
    report = missing_report(kp)
    kp, n_filled = fill_short_gaps(kp, max_gap)
    return PoseResult(keypoints=kp, fps=float(fps_), frame_size=(int(size[0]), int(size[1])), backend=backend,
                      source=str(source), selection=sel, missing=report,
                      gaps={"max_gap": int(max_gap), "filled_joint_frames": int(n_filled)}, people=people)
