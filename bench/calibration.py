"""The synthetic benchmark next to real iMiGUE: each calibrated quantity, real value / synthetic value.

Generates a preset in the MiGA'25 raw layout without videos (whole recordings: labels and OpenPose-137 tables) in a
temporary directory and measures it the way the real values were measured: from the iMiGUE labels file (18,498
clips, 359 videos) and from the OpenPose output of one real press conference (21,068 frames, 1280x720). The real
values are constants here (the data itself needs a licence); docs/real_data.md shows the table.

    .venv/bin/python bench/calibration.py [--preset small] [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

import numpy as np

from microgesture.data.synth import generate

# (quantity, real value) -- from the iMiGUE labels file and one real press conference's OpenPose output
REAL = {
    "clip length p5/p25/p50/p75/p95 (frames)": "17 / 26 / 40 / 73 / 189",
    "non-micro-gesture share of clips": "0.31",
    "clips per video, median": "39",
    "labelled share of a video's span, median": "0.34",
    "gap between consecutive clips, median (frames)": "25",
    "consecutive clips overlapping in time": "0.24",
    "shoulder width / frame width": "0.29",
    "lower body (BODY_25 8-14, 19-24) detected": "mostly not",
    "missing points: face / left hand / right hand": "0.008 / 0.009 / 0.048",
    "confidence p10/p50/p90, body": "0.33 / 0.58 / 0.86",
    "confidence p10/p50/p90, face": "0.53 / 0.79 / 0.89",
    "confidence p10/p50/p90, left hand": "0.12 / 0.38 / 0.69",
    "confidence p10/p50/p90, right hand": "0.15 / 0.52 / 0.79",
    "neck movement per frame / shoulder width, p50/p90/p99": "0.005 / 0.011 / 0.021",
    "nose movement per frame / shoulder width, p50/p90/p99": "0.005 / 0.016 / 0.037",
    "frames with several people / nobody": "0.0005 / 0.01",
    "raw quirks: negative confidences / points outside the frame (share of points)": "present / present (not counted)",
}


LOWER = list(range(8, 15)) + list(range(19, 25))  # BODY_25 hips, knees, ankles, feet (15-18 are eyes and ears)


def _pct(a, qs, fmt="{:.2f}") -> str:
    return " / ".join(fmt.format(v) for v in np.percentile(a, qs)) if len(a) else "-"


def measure(raw: Path, width: int, height: int) -> dict[str, str]:
    lengths, labels, per_video, share, gaps, overlap = [], [], [], [], [], []
    skel = []
    for lab in sorted(raw.rglob("*_label.csv")):
        rows = sorted((int(s), int(e), int(c)) for c, s, e in csv.reader(lab.open()))
        per_video.append(len(rows))
        lengths += [e - s + 1 for s, e, _ in rows]
        labels += [c for _, _, c in rows]
        covered = np.zeros(max(e for _, e, _ in rows) + 1, bool)
        for s, e, _ in rows:
            covered[s : e + 1] = True
        first = rows[0][0]
        share.append(covered[first:].mean())
        for (_, e0, _), (s1, _, _) in zip(rows, rows[1:], strict=False):
            overlap.append(s1 <= e0)
            gaps.append(s1 - e0 - 1)
        vid = lab.name[: -len("_label.csv")]
        skel.append(np.loadtxt(lab.with_name(f"{vid}_openpose.csv"), delimiter=",", dtype=np.float32)
                    .reshape(-1, 137, 3))
    a = np.concatenate(skel)
    c = a[..., 2]
    sw = np.hypot(*(a[:, 2, :2] - a[:, 5, :2]).T)
    both = (c[:, 2] > 0) & (c[:, 5] > 0)
    moves = {1: [], 0: []}  # neck, nose
    for s in skel:  # consecutive frames where the joint and both shoulders are detected
        for j in moves:
            ok = (s[1:, [j, 2, 5], 2] > 0).all(1) & (s[:-1, j, 2] > 0)
            move = np.hypot(*np.diff(s[:, j, :2], axis=0).T) / np.hypot(*(s[1:, 2, :2] - s[1:, 5, :2]).T).clip(1)
            moves[j].append(move[ok])
    neck, nose = (np.concatenate(moves[j]) for j in (1, 0))
    parts = {"body": slice(0, 25), "face": slice(25, 95), "left hand": slice(95, 116), "right hand": slice(116, 137)}
    det = {k: c[:, v][c[:, v] > 0] for k, v in parts.items()}
    found = np.abs(a).max((1, 2)) > 0  # frames where someone was found (the real rates are over those)
    miss = {k: float((c[found][:, v] == 0).mean()) for k, v in parts.items()}
    outside = (a[..., 0] < 0) | (a[..., 0] >= width) | (a[..., 1] < 0) | (a[..., 1] >= height)
    return {
        "clip length p5/p25/p50/p75/p95 (frames)": _pct(lengths, [5, 25, 50, 75, 95], "{:.0f}"),
        "non-micro-gesture share of clips": f"{np.mean(np.array(labels) == 99):.2f}",
        "clips per video, median": f"{np.median(per_video):.0f}",
        "labelled share of a video's span, median": f"{np.median(share):.2f}",
        "gap between consecutive clips, median (frames)": f"{np.median([g for g in gaps if g >= 0]):.0f}",
        "consecutive clips overlapping in time": f"{np.mean(overlap):.2f}",
        "shoulder width / frame width": f"{np.median(sw[both]) / width:.2f}",
        "lower body (BODY_25 8-14, 19-24) detected": f"{(c[:, LOWER] > 0).mean():.2f} of points",
        "missing points: face / left hand / right hand": " / ".join(f"{miss[k]:.3f}" for k in
                                                                      ("face", "left hand", "right hand")),
        "confidence p10/p50/p90, body": _pct(det["body"], [10, 50, 90]),
        "confidence p10/p50/p90, face": _pct(det["face"], [10, 50, 90]),
        "confidence p10/p50/p90, left hand": _pct(det["left hand"], [10, 50, 90]),
        "confidence p10/p50/p90, right hand": _pct(det["right hand"], [10, 50, 90]),
        "neck movement per frame / shoulder width, p50/p90/p99": _pct(neck, [50, 90, 99], "{:.3f}"),
        "nose movement per frame / shoulder width, p50/p90/p99": _pct(nose, [50, 90, 99], "{:.3f}"),
        "frames with several people / nobody": f"0 / {(np.abs(a).max((1, 2)) == 0).mean():.3f} (one person per row)",
        "raw quirks: negative confidences / points outside the frame (share of points)":
            f"{(c < 0).mean():.1e} / {(outside & (c != 0)).mean():.1e}",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="small")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw = generate(Path(tmp) / "raw", preset=args.preset, seed=args.seed, video=False, format="imigue-raw",
                       workers=args.workers)
        import json

        width, height = json.loads((raw / "synth.json").read_text())["frame_size"]
        syn = measure(raw, width, height)
    print(f"| quantity | real iMiGUE | synthetic `{args.preset}` (seed {args.seed}) |")
    print("|---|---|---|")
    for k, v in REAL.items():
        print(f"| {k} | {v} | {syn[k]} |")


if __name__ == "__main__":
    main()
