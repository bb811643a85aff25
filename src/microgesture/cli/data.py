"""``microgesture data ...``: import, synthesise, check, stats (library: microgesture.data)."""

from __future__ import annotations

import typer

from microgesture.cli.common import UserError, console, data_app, path, size


@data_app.command("import-imigue")
def import_imigue_cmd(
    raw_dir: str = typer.Argument(..., help="Raw iMiGUE folder: the original release (Label/, Data/skeleton/raw/) or "
                                  "the MiGA'25 layout, detected; files are found by name below it."),
    out_dir: str = typer.Argument(..., help="New dataset directory."),
    splits: list[str] = typer.Option(None, "--splits", help="Split list (e.g. iMiGUE_train_clips_list.txt; the split "
                                     "comes from the name) or video_id,split CSV; repeatable. Default: every "
                                     "*list*.txt under RAW_DIR naming train/val/test."),
    subjects: str = typer.Option(None, help="video_id,subject CSV. Default: subjects.csv under RAW_DIR, else "
                                 "subject = video id (a weaker leak check)."),
    split: str = typer.Option(None, help="Without split lists: a subject-disjoint split, e.g. subject:0.7,0.05,0.25."),
    seed: int = typer.Option(0, help="Seed of --split (same seed, same split)."),
    min_confidence: str = typer.Option("0.05", help="Sanitise: points below this confidence (0 <= X < 1) become "
                                       "missing."),
    skip_bad: bool = typer.Option(False, help="Write the good clips; list the bad ones in import_report.json."),
    overwrite: bool = typer.Option(False, help="Replace OUT_DIR if it exists."),
    cut_clips: bool = typer.Option(True, "--cut-clips/--no-cut-clips", help="Cut every clip to videos/<clip>.mp4 "
                                   "(re-encoded at the source fps), or copy (hard-link) the long videos into "
                                   "OUT_DIR/videos/ and point clips into them with video_start."),
    fps: float = typer.Option(25.0, help="Header fps when there are no videos."),
    frame_size: str = typer.Option("1280x720", help="Header WxH when there are no videos."),
    name: str = typer.Option("imigue", help="Dataset name in the header."),
) -> None:
    """Import raw iMiGUE (original release or MiGA'25 layout), sanitising real OpenPose quirks (docs/real_data.md)."""
    from microgesture.data.importers import SanitisePolicy, import_imigue

    w, h = size(frame_size or "1280x720", "--frame-size")
    try:  # parsed here, not by typer, so that a bad value is one line (typer prints a usage box)
        policy = SanitisePolicy(min_confidence=float(min_confidence))
    except ValueError:
        raise UserError(f"--min-confidence {min_confidence!r}: expected a number in [0, 1), the confidence below "
                        "which a point becomes missing") from None
    report = import_imigue(path(raw_dir), path(out_dir), splits=[path(p) for p in splits or []],
                           subjects=path(subjects) if subjects else None, skip_bad=skip_bad, overwrite=overwrite,
                           cut_clips=cut_clips, fps=fps, frame_size=(w, h), name=name, split=split, seed=seed,
                           policy=policy)
    console.print(report.summary(), highlight=False, soft_wrap=True, markup=False)


@data_app.command("import-list")
def import_list_cmd(
    list_file: str = typer.Argument(..., help="List file, '<name>.mp4 <label>' per line (mmaction style)."),
    video_dir: str = typer.Argument(..., help="Folder of the videos (names are looked up below it)."),
    out_dir: str = typer.Argument(..., help="New RGB-only dataset directory."),
    classes: str = typer.Option(..., help="Class names, one per line (line index = label)."),
    split: str = typer.Option("train", help="Split of LIST_FILE."),
    more: list[str] = typer.Option(None, "--list", help="Another list file as FILE:SPLIT (repeatable), e.g. "
                                   "--list val.txt:val --list test.txt:test."),
    subjects: str = typer.Option(None, help="video_id,subject CSV. Default: the name's prefix before the first _."),
    skip_bad: bool = typer.Option(False, help="Write the good clips; list the bad ones in import_report.json."),
    overwrite: bool = typer.Option(False, help="Replace OUT_DIR if it exists."),
    name: str = typer.Option(None, help="Dataset name in the header (default: OUT_DIR's name)."),
) -> None:
    """Import list files (e.g. MA-52, SMG) as an RGB-only dataset for pre-training (no skeletons)."""
    from microgesture.data.importers import import_list

    lists = [(path(list_file), split)]
    for item in more or []:
        f, sep, sp = item.rpartition(":")
        if not sep or not f:
            raise UserError(f"--list {item!r}: expected FILE:SPLIT, e.g. val.txt:val")
        lists.append((path(f), sp))
    report = import_list(lists, path(video_dir), path(out_dir), classes_file=path(classes),
                         subjects=path(subjects) if subjects else None, skip_bad=skip_bad, overwrite=overwrite,
                         name=name)
    console.print(report.summary(), highlight=False, soft_wrap=True, markup=False)


@data_app.command("synth")
def synth_cmd(
    out_dir: str = typer.Argument(..., help="New dataset directory (or raw folder with --format imigue-raw)."),
    preset: str = typer.Option("small", help="tiny (CI, 160x90) | small (demo, 320x180) | full (iMiGUE-sized)."),
    seed: int = typer.Option(0, help="Same seed, same files (skeletons bit for bit, videos frame for frame)."),
    video: bool = typer.Option(True, "--video/--no-video", help="Render videos (skeletons only without)."),
    fmt: str = typer.Option(
        "microgesture", "--format", help="microgesture (dataset format v1) | imigue-raw (MiGA'25 raw layout)."),
    raw_table: str = typer.Option("csv", help="imigue-raw skeleton tables: csv | xlsx (openpyxl)."),
    workers: int = typer.Option(1, help="Processes generating recordings in parallel (output is the same)."),
    frame_size: str = typer.Option("", help="WIDTHxHEIGHT: the preset's recordings drawn at this size (same aspect; "
                                   "skeletons scale with it), e.g. 640x360 for small."),
    overwrite: bool = typer.Option(False, help="Replace OUT_DIR if it exists."),
) -> None:
    """Generate the synthetic micro-gesture benchmark (32 iMiGUE classes, seated subjects, optional videos)."""
    import time

    from microgesture.data.synth import generate, rendered_at
    from microgesture.progress import progress_bar

    t0 = time.perf_counter()
    try:
        fs = size(frame_size, "--frame-size")
        p = rendered_at(preset, fs) if fs else preset
        with progress_bar("recordings") as tick:
            out = generate(path(out_dir), preset=p, seed=seed, video=video, format=fmt, raw_table=raw_table,
                           overwrite=overwrite, workers=workers, progress=tick)
    except ValueError as e:
        raise UserError(str(e)) from None
    console.print(f"{out}: synthetic '{preset}' benchmark ({fmt}) in {time.perf_counter() - t0:.1f} s",
                  highlight=False, soft_wrap=True, markup=False)


@data_app.command("check")
def check_cmd(
    dataset: str = typer.Argument(..., help="Dataset directory."),
    video: bool = typer.Option(True, "--video/--no-video", help="Probe each video's length (existence is always "
                               "checked)."),
    decode: bool = typer.Option(False, "--decode", help="Decode every packet of every video (finds a corruption in "
                                "the middle of a file, which the header probe does not; slower)."),
) -> None:
    """Validate a dataset: one line per problem, naming the file (and clip); exit 2 if there is any error, as for any
    refused input (warnings alone exit 0)."""
    from microgesture.data.check import check_dataset

    problems = check_dataset(path(dataset), videos="decode" if decode else video)
    for p in problems:
        print(p)
    n_err = sum(p.severity == "error" for p in problems)
    console.print(f"{dataset}: {n_err} errors, {len(problems) - n_err} warnings", highlight=False, soft_wrap=True)
    if n_err:
        raise typer.Exit(2)


@data_app.command("stats")
def stats_cmd(
    dataset: str = typer.Argument(..., help="Dataset directory."),
    png: str = typer.Option(None, help="Write a bar chart of the class distribution per split to this PNG."),
    json_out: str = typer.Option(None, "--json", help="Write the statistics to this JSON file."),
) -> None:
    """Class distribution per split, imbalance, subjects, clip-length percentiles."""
    import json

    from microgesture.atomic import write_text
    from microgesture.data.stats import dataset_stats, format_stats, plot_stats

    stats = dataset_stats(path(dataset))
    print(format_stats(stats))
    if png:
        console.print(f"wrote {plot_stats(stats, path(png))}")
    if json_out:
        write_text(path(json_out), json.dumps(stats, indent=1) + "\n")
        console.print(f"wrote {json_out}")


@data_app.command("synth-untrimmed")
def synth_untrimmed_cmd(
    out_dir: str = typer.Argument(..., help="New folder: <name>.npz skeletons, <name>_gt.csv events, untrimmed.json."),
    seed: int = typer.Option(0, help="Seed of the recordings (subjects are new: never those of a dataset)."),
    minutes: float = typer.Option(1.0, help="Length of each recording, minutes."),
    count: int = typer.Option(1, min=1, help="Number of recordings."),
    preset: str = typer.Option("small", help="Frame size, fps and clip lengths of this synthetic preset."),
    idle: str = typer.Option("1,4", help="Idle stretch between gestures, 'min,max' seconds."),
    video: bool = typer.Option(False, "--video/--no-video", help="Also render the videos."),
    overwrite: bool = typer.Option(False, help="Replace OUT_DIR if it exists."),
) -> None:
    """Untrimmed synthetic recordings (gestures chained with idle stretches) with ground-truth events."""
    from microgesture.data.synth.untrimmed import generate_untrimmed

    try:
        lo, hi = (float(x) for x in idle.split(","))
        out = generate_untrimmed(path(out_dir), seed=seed, minutes=minutes, count=count, preset=preset,
                                 idle=(lo, hi), video=video, overwrite=overwrite)
    except ValueError as e:
        raise UserError(f"{e}") from None
    console.print(f"wrote {count} untrimmed recordings to {out}", highlight=False)
