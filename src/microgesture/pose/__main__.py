"""``python -m microgesture.pose VIDEO -o SKELETON.npz``: pose extraction without typer or torch, for the pose
environment.

``microgesture pose`` (the main command line) and :func:`microgesture.pose.extract_pose` call this in ``.venv-pose``
when MediaPipe
is not importable where they run. Errors print as one line and exit 2, like ``microgesture``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _seconds(s: float) -> str:
    """``42 s``, ``3 min 05 s`` (as :func:`microgesture.progress.format_seconds`; that module needs rich, which the
    pose environment does not have)."""
    return f"{s:.0f} s" if s < 60 else f"{int(s // 60)} min {int(s % 60):02d} s"


def main(argv: list[str] | None = None) -> int:
    from microgesture.pose import (
        BACKENDS,
        SELECT_RULES,
        PoseError,
        extract_pose,
        track_listing,
        write_pose_overlay,
        write_track_thumbnails,
    )

    ap = argparse.ArgumentParser(prog="python -m microgesture.pose", description=__doc__.splitlines()[0])
    ap.add_argument("source", help="video file, or folder of OpenPose JSON frames")
    ap.add_argument("-o", "--out", required=True, help="skeleton .npz to write")
    ap.add_argument("--backend", choices=BACKENDS, default=None)
    ap.add_argument("--select", default="main", help=f"subject: {' | '.join(SELECT_RULES)} (default main)")
    ap.add_argument("--tracks", default=None, help="folder for one thumbnail PNG per tracked person (mediapipe)")
    ap.add_argument("--max-gap", type=int, default=0)
    ap.add_argument("--overlay", default=None, help="video with the skeleton drawn")
    ap.add_argument("--video", default=None, help="openpose-json: the matching video")
    ap.add_argument("--options", default="{}", help="JSON of HolisticExtractor settings")
    a = ap.parse_args(argv)
    t0 = time.time()
    last = [t0]
    machine = os.environ.get("MICROGESTURE_POSE_PROGRESS") == "1"  # the parent draws the bar from these lines

    def progress(n: int, total: int) -> None:
        if machine:
            print(f"@progress {n} {total}", file=sys.stderr, flush=True)
            return
        now = time.time()
        if now - last[0] >= 10 or n == total:  # a line every 10 s: frames done, speed and time left
            last[0] = now
            rate = n / max(now - t0, 1e-9)
            print(f"pose {os.path.basename(a.source)}: {n}/{total} frames, {rate:.1f} frames/s, eta "
                  f"{_seconds((total - n) / rate)}", file=sys.stderr, flush=True)

    try:
        res = extract_pose(a.source, backend=a.backend, select=a.select, max_gap=a.max_gap, video=a.video,
                           progress=progress, options=json.loads(a.options))
        res.save(a.out)
        if a.overlay:
            write_pose_overlay(a.video or a.source, res, a.overlay)
        if a.tracks and res.people:
            write_track_thumbnails(a.source, res, a.tracks)
        if not machine:  # a parent reading @progress lines prints the listing itself, from the file written
            for line in track_listing(res):
                print(line, file=sys.stderr)
    except (PoseError, OSError, ValueError) as e:
        if os.environ.get("MICROGESTURE_DEBUG"):
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
