"""``microgesture pose | detect`` (library: microgesture.pose, microgesture.detect)."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from microgesture.cli.common import UserError, app, console, opt_path, path, show, size


@app.command("pose")
def pose_cmd(
    source: str = typer.Argument(..., help="Video (mediapipe), or folder of OpenPose JSON frames (openpose-json)."),
    out: str = typer.Option(..., "--out", "-o", help="Skeleton .npz to write (OpenPose-137, pixels + confidence)."),
    backend: str = typer.Option(None, help="mediapipe | openpose-json (default: openpose-json for a folder)."),
    select: str = typer.Option("main", help="Subject when several people are visible: main (the default: the person "
                               "present longest and most often facing the camera) | largest | central | person=ID."),
    person: int = typer.Option(None, "--person", help="Subject: the tracked person with this id, from the track "
                               "listing of a first run (same as --select person=ID; mediapipe backend)."),
    tracks: str = typer.Option(None, "--tracks", help="Folder for one thumbnail PNG per tracked person "
                               "(person_<id>.png; mediapipe backend). The track listing is printed after every run."),
    max_gap: int = typer.Option(0, help="Fill gaps of at most this many frames by linear interpolation (0 = off)."),
    overlay: str = typer.Option(None, help="Also write the video with the skeleton drawn (.mp4)."),
    video: str = typer.Option(None, help="openpose-json: the matching video (fps, frame size, overlay)."),
    fps: float = typer.Option(None, help="openpose-json without --video: frames per second (25)."),
    frame_size: str = typer.Option(None, help="openpose-json without --video: WxH (1280x720)."),
) -> None:
    """Extract an OpenPose-137 skeleton from a video (MediaPipe Holistic, run in .venv-pose) or OpenPose JSON.

    With several people in the video every person is tracked and the skeleton is the subject's (--select, default
    main); the tracks are listed after the run (id, frames present, mean box), and --person ID picks another one.
    """
    from microgesture.data.video import VideoError
    from microgesture.pose import PoseError, extract_pose, track_listing, write_pose_overlay, write_track_thumbnails

    if person is not None:
        if select != "main":
            raise UserError(f"--person {person} and --select {select}: give one of them")
        select = f"person={person}"
    try:
        res = extract_pose(path(source), backend=backend, select=select, max_gap=max_gap,
                           video=path(video) if video else None, fps=fps, frame_size=size(frame_size, "--frame-size"))
        res.save(path(out))
        if overlay:
            write_pose_overlay(path(video or source), res, path(overlay))
        thumbs = write_track_thumbnails(path(source), res, path(tracks)) if tracks and res.people else []
    except (PoseError, VideoError) as e:
        raise UserError(str(e)) from None
    for line in track_listing(res):
        console.print(line, highlight=False, soft_wrap=True, markup=False)
    if thumbs:
        console.print(f"track thumbnails: {len(thumbs)} PNG in {tracks}", highlight=False, soft_wrap=True)
    m = res.missing
    sel = res.selection
    # people the finder saw without a skeleton of their own count as present; say how many frames that added
    tracked_only = (f" ({sel['multi_person_frames_tracked']} with a skeleton for each)"
                    if any(sel.get("unfollowed_per_frame") or ()) else "")
    console.print(f"wrote {out}: {res.num_frames} frames at {res.fps:g} fps, {res.backend}; missing: body "
                  f"{m['body']:.0%}, face {m['face']:.0%}, left hand {m['left_hand']:.0%}, right hand "
                  f"{m['right_hand']:.0%}; frames with several people: {res.selection.get('multi_person_frames', 0)}"
                  + tracked_only
                  + (f"; overlay {overlay}" if overlay else ""), highlight=False, soft_wrap=True, markup=False)
    for first, last in sel.get("frozen", []):
        console.print(f"[bold yellow]warning:[/] {escape(source)}: frames {first}-{last} repeat frame {first - 1} "
                      "(the video stalls or is corrupt there): nobody is seen anew in them", highlight=False,
                      soft_wrap=True)
    if res.no_person:
        console.print("[bold yellow]warning:[/] no person found in any frame (no_person = true)")


@app.command("detect")
def detect_cmd(
    source: str = typer.Argument(...,
        help="Skeleton .npz from `microgesture pose`, or a video (its pose is extracted)."),
    model: str = typer.Option(..., "--model", "-m", help="model.ckpt or run directory of a skeleton branch."),
    out: str = typer.Option(..., "--out", "-o", help="Events CSV; <stem>_timeline.png and <stem>.json go beside it."),
    window: float = typer.Option(1.0, help="Window length, seconds."),
    stride: float = typer.Option(0.5, help="Step between windows, seconds."),
    smooth: int = typer.Option(3, help="Windows in the centred smoothing filter (odd; 1 = none)."),
    smooth_method: str = typer.Option("mean", help="mean | median."),
    min_score: float = typer.Option(0.2, help="Windows whose top smoothed score is lower are background."),
    baseline: float = typer.Option(30.0, help="Subtract the per-class median of the last BASELINE seconds of windows "
                                   "(the idle profile of a classifier trained on trimmed clips); 0 = off."),
    background: str = typer.Option(None, help="Background classes, comma-separated names or indices; default the "
                                   "non-MG class; 'none' for no background class."),
    min_windows: int = typer.Option(1, help="Drop events shorter than this many windows."),
    overlay: str = typer.Option(None, help="Write the video with the skeleton and the current top-3 labels (.mp4)."),
    video: str = typer.Option(None, help="The video of a skeleton SOURCE, for --overlay."),
    gt: str = typer.Option(None, help="Ground-truth events CSV (same columns): print event F1 at IoU 0.1/0.3/0.5."),
    select: str = typer.Option("largest", help="Pose extraction of a video SOURCE: largest | central."),
    max_gap: int = typer.Option(0, help="Pose extraction of a video SOURCE: fill gaps up to this many frames."),
) -> None:
    """Detect micro-gestures in an untrimmed video or skeleton: sliding windows -> smoothed events (CSV + PNG)."""
    from microgesture.data.video import VideoError
    from microgesture.detect import DetectConfig, DetectError, detect_file, parse_background
    from microgesture.pose import PoseError
    from microgesture.train import TrainingError

    try:
        cfg = DetectConfig(window=window, stride=stride, smooth=smooth, smooth_method=smooth_method,
                           min_score=min_score, background=parse_background(background), min_windows=min_windows,
                           baseline=baseline)
        run = detect_file(path(source), path(model), path(out), config=cfg, gt=opt_path(gt),
                          overlay=opt_path(overlay), video=opt_path(video), select=select, max_gap=max_gap)
    except (DetectError, PoseError, VideoError, TrainingError) as e:
        raise UserError(str(e)) from None
    events = run.detection.events
    t = Table("start (s)", "end (s)", "class", "score", title=f"{len(events)} events in {source}")
    for e in events[:40]:
        t.add_row(f"{e.start_s:.2f}", f"{e.end_s:.2f}", e.name, f"{e.score:.2f}")
    show(t)
    if len(events) > 40:
        console.print(f"... {len(events) - 40} more in {run.csv}")
    if "event_f1" in run.record:
        console.print("event F1 " + ", ".join(f"IoU {k}: {v['f1']:.3f} (P {v['precision']:.2f}, R {v['recall']:.2f})"
                                              for k, v in run.record["event_f1"].items()), highlight=False)
    console.print(f"wrote {run.csv}, {run.timeline}, {run.json}" + (f", {run.overlay}" if run.overlay else ""),
                  highlight=False, soft_wrap=True)
