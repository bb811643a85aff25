"""Pose extraction speed: MediaPipe Holistic -> OpenPose-137 on a 640x360 video, frames per second.

The video is the public-domain astronaut photograph (scikit-image) sliding over a gray 640x360 canvas, so Holistic
finds a person (pose, face and, where visible, hands) in every frame. Run in the pose environment, or from the main
one (it then re-runs itself there):

    .venv-pose/bin/python bench/bench_pose.py [--frames 100] [--repeat 3]

Reported: model start-up (s), then frames/s over the frames after the first (Holistic's first frame runs the
detectors; later ones mostly track), for the single-person extractor of before (HolisticExtractor: one Holistic, face
detection every 5 frames) and for the several-people extractor `microgesture pose` runs now (MultiPersonExtractor), on
one astronaut and on two (a second, smaller copy on the right).

    .venv-pose/bin/python bench/bench_pose.py --clips DIR [--match 'two_*'] [--frames N]

runs `extract_pose` on every .mp4 of DIR (real footage) and reports per clip: people per frame, frames with several
people (and, for the clips of bench/realvideo_people.json, how often "several or not" agrees with its hand annotation),
the tracks and the selected one, association checks, jumps of the selected track, missing parts and frames/s.

    .venv-pose/bin/python bench/bench_pose.py --clips DIR --finder-sizes 320 480 640

counts only the people the MoveNet finder sees per frame at each input size (why the finder runs at 320 px).

    .venv/bin/python bench/bench_pose.py --clips DIR --frame-changes

measures, per clip, how much each frame differs from the one before (every 4th pixel): the evidence for the
frozen-video rule (`repeats_frame`, `frozen_stretches`; docs/pose_tracking.md, step 7). Needs no MediaPipe.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_video(path: Path, frames: int, people: int = 1) -> None:
    import cv2
    import numpy as np
    from skimage import data

    from microgesture.data.video import write_video

    im = cv2.resize(data.astronaut(), (300, 300), interpolation=cv2.INTER_AREA)
    v = np.full((frames, 360, 640, 3), 128, np.uint8)
    for t in range(frames):
        x = 40 + int(200 * (0.5 - 0.5 * np.cos(2 * np.pi * t / frames)))  # slides right and back
        v[t, 30:330, x:x + 300] = im
        if people > 1:
            v[t, 60:260, 440:640] = cv2.resize(im, (200, 200), interpolation=cv2.INTER_AREA)
    write_video(path, v, fps=25)


def rerun_in_pose_env(script: str) -> None:
    """Without MediaPipe here, run ``script`` with the same arguments in the pose environment and exit with its
    status; with it, quiet MediaPipe's start-up chatter and return."""
    if importlib.util.find_spec("mediapipe") is None:
        from microgesture.pose import pose_python

        py = pose_python()
        if py is None:
            sys.exit("mediapipe is not installed and there is no .venv-pose: run `make pose-env` first")
        sys.exit(subprocess.call([py, script, *sys.argv[1:]]))
    os.environ.setdefault("GLOG_minloglevel", "2")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--complexity", type=int, default=1, help="Holistic model_complexity (1 ships in the wheel)")
    ap.add_argument("--clips", default=None, help="folder of real videos: quality figures per clip")
    ap.add_argument("--match", default="*.mp4", help="with --clips: only the clips matching this glob")
    ap.add_argument("--finder-sizes", type=int, nargs="*", default=None,
                    help="with --clips: only count the people the MoveNet finder sees, at these input sizes")
    ap.add_argument("--old", action="store_true", help="with --clips: also the single-person HolisticExtractor's "
                    "missing parts (the extractor `microgesture pose` used before several-people tracking)")
    ap.add_argument("--options", default="{}",
                    help="with --clips: JSON of MultiPersonExtractor settings, e.g. '{\"finder_min_score\": 0.1}'")
    ap.add_argument("--frame-changes", action="store_true",
                    help="with --clips: only the frame-to-frame changes behind the frozen-video rule (any environment)")
    a = ap.parse_args()
    if a.clips and a.frame_changes:
        frame_changes(Path(a.clips), match=a.match)
        return
    rerun_in_pose_env(__file__)
    import mediapipe as mp

    if a.clips and a.finder_sizes:
        finder_counts(Path(a.clips), a.finder_sizes, match=a.match)
        return
    if a.clips:
        clips(Path(a.clips), a.frames if a.frames != 100 else None, old=a.old, match=a.match,
              options=json.loads(a.options))
        return
    from microgesture.data.video import iter_frames
    from microgesture.pose.holistic import HolisticExtractor
    from microgesture.pose.multi import MultiPersonExtractor

    print(f"machine: {platform.machine()} {os.cpu_count()} CPUs visible, python {platform.python_version()}, "
          f"mediapipe {mp.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        for people in (1, 2):
            video = Path(tmp) / f"astronaut_{people}.mp4"
            make_video(video, a.frames, people)
            frames = list(iter_frames(video))
            print(f"video: {len(frames)} frames 640x360, {people} astronaut(s) (decoding excluded)")
            for name, make in (("single-person HolisticExtractor", lambda: HolisticExtractor(
                    model_complexity=a.complexity)), ("MultiPersonExtractor", lambda: MultiPersonExtractor(
                    model_complexity=a.complexity))):
                for r in range(a.repeat):
                    t0 = time.perf_counter()
                    ex = make()
                    t1 = time.perf_counter()
                    ex.process(frames[0])
                    t2 = time.perf_counter()
                    for f in frames[1:]:
                        ex.process(f)
                    t3 = time.perf_counter()
                    ex.close()
                    n = len(frames) - 1
                    print(f"  {name} run {r + 1}: start-up {t1 - t0:.2f} s, first frame {1000 * (t2 - t1):.0f} ms, "
                          f"then {n / (t3 - t2):.1f} frames/s ({1000 * (t3 - t2) / n:.1f} ms/frame)")


def clips(folder: Path, frames: int | None, *, old: bool = False, match: str = "*.mp4",
          options: dict | None = None) -> None:
    """Quality figures of `extract_pose` on every clip of ``folder`` (optionally its first ``frames`` frames).

    Face figures: ``face`` = no face point at all (a whole mesh or only the face detector's 5 keypoints), ``face
    mesh`` = fewer than 68 face points (no mesh). With ``old``, the single-person HolisticExtractor's on the same clip.
    """
    import numpy as np

    from microgesture.data.video import iter_frames, probe_video, write_video
    from microgesture.pose import extract_pose
    from microgesture.pose.people import is_jump, people_per_frame

    for video in sorted(folder.glob(match)):
        with tempfile.TemporaryDirectory() as tmp:
            src = video
            if frames:
                src = Path(tmp) / video.name
                write_video(src, np.stack([f for _, f in zip(range(frames), iter_frames(video), strict=False)]),
                            fps=probe_video(video, count=False)["fps"] or 25)
            t0 = time.perf_counter()
            res = extract_pose(src, backend="mediapipe", options=options or {})
            dt = time.perf_counter() - t0
            old_txt = ""
            if old:
                from microgesture.pose import missing_report
                from microgesture.pose.holistic import HolisticExtractor

                t0 = time.perf_counter()
                with HolisticExtractor() as ex:
                    okp = np.stack([ex.process(f) for f in iter_frames(src)])
                om = missing_report(okp)
                fps_old = len(okp) / (time.perf_counter() - t0)
                old_txt = (f"; OLD single-person extractor: {fps_old:.1f} frames/s, missing body {om['body']:.1%}, "
                           f"face {om['face']:.1%}")
        sel, m = res.selection, res.missing
        count = np.asarray(sel["people_per_frame"])
        # frozen stretches (the file stalls on one picture; `frozen_stretches`): nobody can be seen anew there
        frozen = np.zeros(len(count), bool)
        for first, last in sel.get("frozen", []):
            frozen[first:last + 1] = True
        live = count[~frozen]
        truth = annotated(video.name, len(count))
        agree = ""
        if truth is not None:
            several, readable = truth
            right = (count >= 2) == several
            agree = (f"agrees with the hand annotation (several or not) in {right[readable].mean():.1%} of "
                     f"{int(readable.sum())} readable frames ({right[readable].sum() / len(count):.1%} of all); ")
        # the tracks alone: no finder's people, no filled drops of a group (people_per_frame with the tracks' hold)
        tracked = people_per_frame(res.people, len(count), hold=int(sel["settings"]["detect_every"]))
        kp = res.keypoints
        present = np.flatnonzero((kp[:, :25, 2] > 0).any(1))
        jumps = sum(is_jump(kp[a], kp[b], max_shift=1.5, frames=b - a)
                    for a, b in zip(present[:-1], present[1:], strict=True))
        assoc = sel["association"]
        rep = sum(v["reported"] for v in assoc.values())
        ok = sum(v["passed"] for v in assoc.values())
        fb = assoc.get("face", {}).get("from_body", 0)  # faces from the body's own points pass by construction
        mesh_missing = float(((kp[:, 25:95, 2] > 0).sum(1) < 68).mean())
        print(f"{video.name}: {res.num_frames} frames, {res.num_frames / dt:.1f} frames/s (start-up included); "
              f"people per frame {dict(zip(*np.unique(count, return_counts=True), strict=True))}, several in "
              f"{(count >= 2).mean():.0%} (exactly 2 in {(count == 2).mean():.0%}; several by tracks alone "
              f"{(tracked >= 2).mean():.0%}); frozen frames {int(frozen.sum())}, several in "
              f"{(live >= 2).mean():.0%} of the others; "
              f"{agree}"
              f"tracks {[(t['id'], t['frames']) for t in sel['tracks']]}, selected "
              f"{sel['track']}; association {ok}/{rep} part-frames pass ({ok / max(rep, 1):.1%}; without the {fb} "
              f"faces from the body {(ok - fb) / max(rep - fb, 1):.1%}) "
              f"{ {k: v['rate'] for k, v in assoc.items()} }; jumps of the selected track {jumps}; missing body "
              f"{m['body']:.1%}, face {m['face']:.1%}, left hand {m['left_hand']:.1%}, right hand "
              f"{m['right_hand']:.1%}; face mesh missing {mesh_missing:.1%}{old_txt}", flush=True)


def annotated(name: str, n: int):
    """(several, readable) boolean (n,) arrays from bench/realvideo_people.json, or None for a clip not in it."""
    import json

    import numpy as np

    clips = json.loads((Path(__file__).with_name("realvideo_people.json")).read_text())["clips"]
    if name not in clips:
        return None
    several, readable = np.zeros(n, bool), np.ones(n, bool)
    for a, b in clips[name]["several"]:
        several[a:b + 1] = True
    for a, b in clips[name].get("unreadable", []):
        readable[a:b + 1] = False
    return several, readable


def finder_counts(folder: Path, sizes: list[int], *, match: str) -> None:
    """Frames by the number of people MoveNet MultiPose finds (default scores), per clip and input size, and the
    score of its second-best find: how many frames have two finds at or above 0.05, 0.1, 0.2 and the highest
    second score (the evidence for counting people from 0.1 while following them from 0.2, docs/pose_tracking.md)."""
    import collections

    import numpy as np

    from microgesture.data.video import iter_frames
    from microgesture.pose.finder import PersonFinder

    for size in sizes:
        finder = PersonFinder(size=size, min_score=0.01)
        for video in sorted(folder.glob(match)):
            second, counts = [], collections.Counter()
            for f in iter_frames(video):
                scores = [p.score for p in finder.find(f)]
                counts[sum(sc >= 0.2 for sc in scores)] += 1
                second.append(sorted(scores, reverse=True)[1] if len(scores) > 1 else 0.0)
            second = np.array(second)
            n = len(second)
            at = ", ".join(f">= {th}: {int((second >= th).sum())}" for th in (0.05, 0.1, 0.2))
            print(f"finder size {size}: {video.name}: {n} frames; frames by people found (score >= 0.2) "
                  f"{ {k: counts[k] for k in sorted(counts) if counts[k]} }; two or more in "
                  f"{sum(v for k, v in counts.items() if k >= 2) / n:.0%}; frames whose second find scores {at}; "
                  f"highest second score {second.max():.2f}", flush=True)


def frame_changes(folder: Path, *, match: str) -> None:
    """Per clip: frames whose mean change from the frame before is under one grey level (the first frozen rule) and
    the stretches that rule reported; the largest change per frame (minimum, median); the longest run of frames whose
    largest change is REPEAT_LEVEL or less; the stretches the rule now reports and the largest change inside them."""
    import numpy as np

    from microgesture.data.video import iter_frames, probe_video
    from microgesture.pose.people import REPEAT_LEVEL, frozen_stretches

    for video in sorted(folder.glob(match)):
        prev, mean, peak = None, [], []
        for frame in iter_frames(video):
            small = frame[::4, ::4].astype(np.int16)
            if prev is not None and prev.shape == small.shape:
                d = np.abs(small - prev)
                mean.append(float(d.mean()))
                peak.append(int(d.max()))
            prev = small
        mean, peak = np.array(mean), np.array(peak)
        fps = probe_video(video, count=False)["fps"] or 25
        quiet = np.concatenate([[False], peak <= REPEAT_LEVEL])  # repeats[t]: frame t against frame t - 1
        run = best = 0
        for q in quiet:
            run = run + 1 if q else 0
            best = max(best, run)
        now = frozen_stretches(quiet, fps=fps)
        inside = max((int(peak[a - 1:b].max()) for a, b in now), default=None)
        print(f"{video.name}: {len(peak) + 1} frames; mean change < 1 grey level in {int((mean < 1).sum())}, first "
              f"rule's stretches {frozen_stretches(np.concatenate([[False], mean < 1]))}; largest change per frame: "
              f"min {peak.min()}, median {np.median(peak):.0f}; longest run at <= {REPEAT_LEVEL}: {best} frames; "
              f"stretches now {now}, largest change inside them {inside}", flush=True)


if __name__ == "__main__":
    main()
