"""Audit the association checks on a real video: pictures of every frame where a part of the subject failed.

`check_association` keeps a face or hand only where it sits on the subject's body (docs/pose_tracking.md, step 4).
Its pass rate is a measure of the checks as much as of the extraction: a face that fails may be another person's (the
check did its job) or the subject's own in a pose where the body's nose is off (the check is too strict). This script
shows which, for a person to judge:

    .venv-pose/bin/python bench/audit_association.py VIDEO --out DIR

runs the several-people extractor, takes the subject's track before the checks, and writes DIR/fail_<frame>.png for
every frame where a part failed (the subject's body green, the failing part red, other tracks' bodies blue), plus
DIR/audit.tsv: frame, part, points reported, distance to its body reference in body scales (empty: no reference),
passed (0 or 1).
``--passed N`` also draws N part-frames that passed (spread evenly over them), DIR/pass_<frame>_<part>.png, to check
that what the checks keep is the subject's. Faces that pass only because the body's nose lies on them (farther than
NOSE_TOL from the face's nose tip, the profile case) are always drawn, DIR/box_<frame>_face.png, and listed in
audit.tsv with ``passed`` 1.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video")
    ap.add_argument("--out", required=True)
    ap.add_argument("--select", default="main")
    ap.add_argument("--passed", type=int, default=0, help="also draw this many part-frames that passed")
    a = ap.parse_args()
    from bench_pose import rerun_in_pose_env  # beside this script

    rerun_in_pose_env(__file__)
    import cv2
    import numpy as np

    from microgesture.data.video import iter_frames, probe_video
    from microgesture.pose import _select
    from microgesture.pose.multi import MultiPersonExtractor
    from microgesture.pose.people import NOSE_TOL, part_checks, stitch_tracks

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    frames = list(iter_frames(a.video))
    with MultiPersonExtractor() as ex:
        for f in frames:
            ex.process(f)
        tracks = ex.all_tracks(len(frames))
        hold = ex.settings()["detect_every"]
    fps = probe_video(a.video, count=False)["fps"] or 25
    tracks = stitch_tracks(tracks, max_gap=round(fps))
    h, w = frames[0].shape[:2]
    _, sel, _ = _select(tracks, len(frames), select=a.select, frame_size=(w, h), hold=hold, fps=fps)
    tid = sel["track"]
    kp = tracks[tid]
    rows, reported, passed = [], 0, []

    def draw(t: int, name: str, part: slice, d: float | None, kind: str) -> None:
        im = cv2.cvtColor(frames[t], cv2.COLOR_RGB2BGR)
        for other, v in tracks.items():
            for j in range(25):
                if other != tid and v[t, j, 2] > 0:
                    cv2.circle(im, (int(v[t, j, 0]), int(v[t, j, 1])), 3, (255, 0, 0), -1)
        for j in range(25):
            if kp[t, j, 2] > 0:
                cv2.circle(im, (int(kp[t, j, 0]), int(kp[t, j, 1])), 4, (0, 255, 0), -1)
        for j in range(part.start, part.stop):
            if kp[t, j, 2] > 0:
                cv2.circle(im, (int(kp[t, j, 0]), int(kp[t, j, 1])), 2, (0, 0, 255), -1)
        label = f"frame {t} {name} " + ("no reference" if d is None else f"{d:.2f} body scales")
        cv2.putText(im, label, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 255, 255), 2)
        cv2.imwrite(str(out / f"{kind}_{t:05d}_{name}.png"), im)

    for name, part, rep, ok, dist in part_checks(kp):
        for t in np.flatnonzero(rep):
            reported += 1
            d = None if np.isnan(dist[t]) else float(dist[t])
            if ok[t] and (name != "face" or (d is not None and d <= NOSE_TOL)):  # else: by the face box
                passed.append((t, name, part, d))
                continue
            rows.append((t, name, int((kp[t, part, 2] > 0).sum()), d, int(ok[t])))
            draw(t, name, part, d, "box" if ok[t] else "fail")
    rows.sort()
    if a.passed and passed:
        for i in np.unique(np.linspace(0, len(passed) - 1, min(a.passed, len(passed))).round().astype(int)):
            draw(*passed[i], "pass")
    with open(out / "audit.tsv", "w") as f:
        f.write("frame\tpart\tpoints\tdistance\tpassed\n")
        for t, name, n, d, ok_t in rows:
            f.write(f"{t}\t{name}\t{n}\t{'' if d is None else round(d, 3)}\t{ok_t}\n")
    failed = sum(1 for r in rows if not r[4])
    print(f"{a.video}: subject track {tid}; {failed} of {reported} reported part-frames fail the checks, "
          f"{len(rows) - failed} faces pass only because the body's nose lies on them; pictures and audit.tsv in {out}")


if __name__ == "__main__":
    main()
