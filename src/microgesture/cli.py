"""The ``microgesture`` command line. Commands are thin: they parse arguments and call library functions.

Errors a user can fix (bad files, mismatched ids, leaking splits) are printed as one clear message and exit code 2;
set ``MICROGESTURE_DEBUG=1`` for the traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from microgesture import __version__

app = typer.Typer(no_args_is_help=True, add_completion=False, help="microgesture: micro-gesture recognition toolkit.")
data_app = typer.Typer(no_args_is_help=True, add_completion=False, help="Datasets: import, synthesise, check, stats.")
app.add_typer(data_app, name="data")
console = Console(stderr=True)


class UserError(Exception):
    """An error caused by the user's input; printed without a traceback."""


@app.command()
def version() -> None:
    """Print microgesture's version."""
    print(__version__)


@app.command("layouts")
def layouts_cmd() -> None:
    """List the keypoint layouts."""
    from microgesture.layouts import LAYOUTS

    t = Table("name", "joints", "edges", "centre", "source")
    for name, lay in sorted(LAYOUTS.items()):
        t.add_row(name, str(lay.num_joints), str(lay.num_edges), ",".join(lay.joints[i] for i in lay.center),
                  "openpose137 subset" if lay.source is not None else "-")
    Console().print(t)


# -- fusion and pseudo-labelling (library: microgesture.fusion, microgesture.pseudo)
# -------------------------------------------------
def _file_lists(args: list[str], keys: tuple[str, ...]) -> dict[str, list[str]]:
    """``--val a.npz b.npz --test c.npz,d.npz`` (space- or comma-separated, or repeated) -> {key: [files]}."""
    out: dict[str, list[str]] = {k: [] for k in keys}
    cur = None
    for a in args:
        if a.startswith("--"):
            key, eq, val = a.partition("=")
            if key not in keys:
                raise UserError(f"unknown option {key}")
            cur, vals = key, ([val] if eq else [])
        elif cur is None:
            raise UserError(f"unexpected argument {a!r}")
        else:
            vals = [a]
        for v in vals:
            out[cur] += [x for x in v.split(",") if x]
    return out


@app.command("fuse", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def fuse_cmd(
    ctx: typer.Context,
    out: str = typer.Option(..., "--out", help="Output directory."),
    method: str = typer.Option("temperature", help="mean|weighted|temperature|stacking; comma-separate several "
                               "(all are written and compared; the first is primary)."),
    weights: str = typer.Option(None, help="Comma-separated weights, or the preset 'mm-gesture'."),
    objective: str = typer.Option("top1", help="Weight-search objective on val: top1 or macro_f1."),
    tau: str = typer.Option(None, help="'fit' (per model, NLL on val) or a number; default fit, or 2.5 without val."),
    names: str = typer.Option(None, help="Comma-separated model names (default: meta branch or file name)."),
    step: float = typer.Option(0.05, help="Simplex grid step of the weight search."),
    stacker: str = typer.Option("logreg", help="Stacking model: logreg, or lightgbm (needs the lightgbm extra)."),
) -> None:
    """Fuse predictions: --val A.npz B.npz ... --test A.npz B.npz ... (same model order in both lists)."""
    from microgesture.fusion import FusionConfig, FusionError, fuse_files, parse_weights, results_table
    from microgesture.predictions import PredictionsError

    files = _file_lists(ctx.args, ("--val", "--test"))
    try:
        t = None if tau is None else (tau if tau == "fit" else float(tau))
    except ValueError:
        raise UserError(f"--tau: expected a number or 'fit', got {tau!r}") from None
    methods = [m.strip() for m in method.split(",") if m.strip()]
    try:
        cfg = FusionConfig(weights=parse_weights(weights) if weights else None, tau=t, objective=objective, step=step,
                           stacker=stacker)
        metrics = fuse_files(files["--val"] or None, files["--test"] or None, methods=methods, out=_path(out),
                             config=cfg, names=names.split(",") if names else None)
    except (FusionError, PredictionsError) as e:
        raise UserError(str(e)) from None
    Console().print(results_table(metrics, title=f"fusion ({', '.join(methods)})"))
    import json

    record = json.loads((_path(out) / "fusion.json").read_text())
    for m, r in record["methods"].items():
        for note in r.get("notes", []) + ([r["val_note"]] if "val_note" in r else []):
            console.print(f"[yellow]{m}:[/] {note}", highlight=False)
    console.print(f"wrote {_path(out)}: fused_<method>_<split>.npz, metrics.json, fusion.json")


@app.command("pseudo-label")
def pseudo_label_cmd(
    predictions: str = typer.Option(..., help="Fused test predictions (.npz)."),
    dataset: str = typer.Option(..., help="Dataset directory the predictions are for."),
    out: str = typer.Option(..., help="New dataset directory (train + val + test + pseudo-labelled copies)."),
    threshold: float = typer.Option(0.65, min=0.0, max=0.999999, help="Keep clips with max probability > this."),
    splits: str = typer.Option("test", help="Comma-separated splits to pseudo-label."),
    note: str = typer.Option("", help="Free text stored in the header and the report."),
    overwrite: bool = typer.Option(False, help="Replace --out if it exists."),
) -> None:
    """Cross-modal pseudo-labelling (AIM CMPL). Transductive: it uses the unlabelled test clips."""
    import json
    import warnings

    from rich.panel import Panel

    from microgesture.predictions import PredictionsError
    from microgesture.pseudo import REPORT_FILE, TransductiveWarning, pseudo_label, summary_table

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TransductiveWarning)  # printed below, louder
            d2 = pseudo_label(_path(dataset), _path(predictions), threshold=threshold, out=_path(out),
                              splits=tuple(s for s in splits.split(",") if s), note=note, overwrite=overwrite)
    except PredictionsError as e:
        raise UserError(str(e)) from None
    report = json.loads((d2 / REPORT_FILE).read_text())
    console.print(Panel(report["warning"], title="transductive", style="bold yellow"))
    Console().print(summary_table(report))
    console.print(f"wrote {d2} ({report['selected']} pseudo-labelled clips; report {d2 / REPORT_FILE})")


@app.command("branches")
def branches_cmd() -> None:
    """List the registered branches (modality, model, default recipe)."""
    from microgesture.branches import BRANCHES

    t = Table("branch", "modality", "description")
    for name, b in sorted(BRANCHES.items()):
        t.add_row(name, b.modality, b.description)
    Console().print(t)


@app.command("train")
def train_cmd(
    dataset: str = typer.Option(..., "--dataset", "-d", help="microgesture dataset directory"),
    branch: str = typer.Option("joint-dstcnn", "--branch", "-b", help="branch name (see `microgesture branches`)"),
    out: str = typer.Option(..., "--out", "-o", help="run directory to write"),
    config: str = typer.Option("", "--config", "-c", help="YAML config (sections: input, model, optim, schedule, "
                                                          "loss, train)"),
    set_: list[str] = typer.Option(None, "--set", help="override, e.g. --set train.epochs=5 --set input.layout=mmg36"),
    seed: int = typer.Option(None, "--seed", help="random seed (default: config's, else 0)"),
    resume: bool = typer.Option(False, "--resume", help="continue from OUT/checkpoints/last.ckpt"),
    init_from: str = typer.Option("", "--init-from", help="checkpoint or run dir to transfer weights from"),
    devices: str = typer.Option("", "--devices", help="Lightning devices, e.g. 8 (GPUs)"),
    strategy: str = typer.Option("", "--strategy", help="Lightning strategy, e.g. ddp"),
    accelerator: str = typer.Option("", "--accelerator", help="cpu, gpu or auto"),
    no_check: bool = typer.Option(False, "--no-check", help="skip the dataset check (not recommended)"),
) -> None:
    """Train one branch; writes config, checkpoints, metrics.json and predictions for every split."""
    from microgesture.config import load_yaml, merge, parse_overrides
    from microgesture.train import TrainingError, fit, resolve_config

    try:
        over = parse_overrides(set_)
        loop = {k: v for k, v in {"devices": devices, "strategy": strategy, "accelerator": accelerator}.items() if v}
        if loop:
            over = merge(over, {"train": loop})
        if init_from:
            over["init_from"] = init_from
        cfg = resolve_config(branch=branch, dataset=dataset, file_cfg=load_yaml(config) if config else None,
                             overrides=over, seed=seed)
        metrics = fit(cfg, out=_path(out), resume=resume, check=not no_check)
    except (TrainingError, KeyError, ValueError) as e:
        raise UserError(str(e).strip("'\"")) from None
    _print_metrics(metrics, title=f"{cfg.branch} -> {out}")


def _print_metrics(metrics: dict, *, title: str) -> None:
    t = Table("split", "clips", "top-1", "top-5", "macro-F1", "NLL", "ECE", title=title)
    for split in ("train", "val", "test"):
        m = metrics.get(split)
        if not m:
            continue
        if not m.get("n"):
            t.add_row(split, "0 labelled", "-", "-", "-", "-", "-")
            continue
        t.add_row(split, str(m["n"]), f"{100 * m['top1']:.2f}", f"{100 * m['top5']:.2f}",
                  f"{100 * m['macro_f1']:.2f}", f"{m['nll']:.3f}", f"{m['ece']:.3f}")
    Console().print(t)


@app.command("evaluate")
def evaluate_cmd(
    checkpoint: str = typer.Argument(..., help="model.ckpt, a Lightning checkpoint, or a run directory"),
    dataset: str = typer.Option(..., "--dataset", "-d"),
    split: str = typer.Option("test", "--split"),
    out: str = typer.Option("", "--out", "-o", help="predictions .npz to write"),
) -> None:
    """Predict a split with the checkpoint's own test pipeline and print its metrics."""
    from microgesture.train import TrainingError, evaluate

    try:
        rep = evaluate(checkpoint, dataset=dataset, split=split, out=_path(out) if out else None)
    except (TrainingError, KeyError) as e:
        raise UserError(str(e).strip("'\"")) from None
    _print_metrics({split: rep}, title=f"{checkpoint} on {dataset}:{split}")


@app.command("extract")
def extract_cmd(
    modality: str = typer.Argument(..., help="taylor, flow or depth."),
    dataset: str = typer.Argument(..., help="Dataset directory; videos go to DATASET/<modality>/<clip_id>.mp4."),
    shard: str = typer.Option("0/1", help="I/N: do clips k with k % N == I (0-based), for cluster job arrays."),
    device: str = typer.Option("cpu", help="cpu or cuda (Taylor, RAFT flow, depth; DIS is CPU only)."),
    workers: int = typer.Option(1, min=1, help="Processes for this shard."),
    merge: bool = typer.Option(False, "--merge", help="Only rebuild the <modality>_path column from the files on "
                               "disk and summarise the shard reports (after a job array)."),
    overwrite: bool = typer.Option(False, help="Redo clips whose output exists (all shards, to change settings)."),
    crf: int = typer.Option(23, help="H.264 quality of the outputs (lower = larger, better)."),
    terms: int = typer.Option(None, help="Taylor: number of terms K (3)."),
    window: int = typer.Option(None, help="Taylor: window L in frames (6)."),
    method: str = typer.Option(None, help="Flow: dis (CPU, default), raft_small or raft_large."),
    preset: str = typer.Option(None, help="Flow: DIS preset ultrafast, fast or medium (medium)."),
    weights: str = typer.Option(None, help="Flow: RAFT weights, DEFAULT (torchvision download) or a local .pth."),
    max_flow: str = typer.Option(None, help="Flow: colour scale, pixels (20), 'clip' or 'frame'."),
    model: str = typer.Option(None, help="Depth: Hugging Face id or local directory (Depth-Anything-V2-Small-hf)."),
    input_size: int = typer.Option(None, help="Depth: short side fed to the model (518)."),
    batch_size: int = typer.Option(None, help="Depth / RAFT: frames per forward pass."),
) -> None:
    """Extract a derived video modality for every clip; resumable. Exit 1 if a clip failed (--merge: is missing)."""
    from microgesture.extract import MODALITIES
    from microgesture.extract.runner import ExtractError, RunConfig, make_config, parse_shard, run_extraction
    from microgesture.extract.runner import merge as merge_shards

    if modality not in MODALITIES:
        raise UserError(f"unknown modality {modality!r}; choose one of {', '.join(MODALITIES)}")
    if merge:
        if merge_shards(_path(dataset), modality).missing:
            raise typer.Exit(1)
        return
    try:
        mf = max_flow if max_flow in (None, "clip", "frame") else float(max_flow)
    except ValueError:
        raise UserError(f"--max-flow: expected pixels, 'clip' or 'frame', got {max_flow!r}") from None
    try:
        i, n = parse_shard(shard)
        cfg = make_config(modality, device=device, terms=terms, window=window, method=method, preset=preset,
                          weights=weights, max_flow=mf, model=model, input_size=input_size, batch_size=batch_size)
        rep = run_extraction(_path(dataset), modality, cfg,
                             RunConfig(shard=i, num_shards=n, workers=workers, overwrite=overwrite, crf=crf))
    except ExtractError as e:
        raise UserError(str(e)) from None
    if rep.failed:
        raise typer.Exit(1)


# -- datasets (library: microgesture.data.importers, microgesture.data.check, microgesture.data.stats)
# -------------------------------------
@data_app.command("import-imigue")
def import_imigue_cmd(
    raw_dir: str = typer.Argument(..., help="Raw iMiGUE folder (MiGA'25 layout); files are found by name below it."),
    out_dir: str = typer.Argument(..., help="New dataset directory."),
    splits: list[str] = typer.Option(None, "--splits", help="Split list (e.g. iMiGUE_train_clips_list.txt; the split "
                                     "comes from the name) or video_id,split CSV; repeatable. Default: every "
                                     "*list*.txt under RAW_DIR naming train/val/test."),
    subjects: str = typer.Option(None, help="video_id,subject CSV. Default: subjects.csv under RAW_DIR, else "
                                 "subject = video id (a weaker leak check)."),
    skip_bad: bool = typer.Option(False, help="Write the good clips; list the bad ones in import_report.json."),
    overwrite: bool = typer.Option(False, help="Replace OUT_DIR if it exists."),
    cut_clips: bool = typer.Option(True, "--cut-clips/--no-cut-clips", help="Cut every clip to videos/<clip>.mp4 "
                                   "(re-encoded at the source fps), or copy (hard-link) the long videos into "
                                   "OUT_DIR/videos/ and point clips into them with video_start."),
    fps: float = typer.Option(25.0, help="Header fps when there are no videos."),
    frame_size: str = typer.Option("1280x720", help="Header WxH when there are no videos."),
    name: str = typer.Option("imigue", help="Dataset name in the header."),
) -> None:
    """Import raw iMiGUE: <vid>_openpose.xlsx/.csv or <vid>/ JSON frames, <vid>_label.csv, optional <vid>.mp4."""
    from microgesture.data.importers import import_imigue

    try:
        w, h = (int(x) for x in frame_size.lower().split("x"))
    except ValueError:
        raise UserError(f"--frame-size {frame_size!r}: expected WxH, e.g. 1280x720") from None
    report = import_imigue(_path(raw_dir), _path(out_dir), splits=[_path(p) for p in splits or []],
                           subjects=_path(subjects) if subjects else None, skip_bad=skip_bad, overwrite=overwrite,
                           cut_clips=cut_clips, fps=fps, frame_size=(w, h), name=name,
                           log=lambda m: console.print(m, style="dim", highlight=False, soft_wrap=True, markup=False))
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

    lists = [(_path(list_file), split)]
    for item in more or []:
        f, sep, sp = item.rpartition(":")
        if not sep or not f:
            raise UserError(f"--list {item!r}: expected FILE:SPLIT, e.g. val.txt:val")
        lists.append((_path(f), sp))
    report = import_list(lists, _path(video_dir), _path(out_dir), classes_file=_path(classes),
                         subjects=_path(subjects) if subjects else None, skip_bad=skip_bad, overwrite=overwrite,
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
    overwrite: bool = typer.Option(False, help="Replace OUT_DIR if it exists."),
) -> None:
    """Generate the synthetic micro-gesture benchmark (32 iMiGUE classes, seated subjects, optional videos)."""
    import time

    from microgesture.data.synth import generate
    from microgesture.progress import progress_bar

    t0 = time.perf_counter()
    try:
        with progress_bar("recordings") as tick:
            out = generate(_path(out_dir), preset=preset, seed=seed, video=video, format=fmt, raw_table=raw_table,
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
) -> None:
    """Validate a dataset: one line per problem; exit 1 if there is any error (warnings alone exit 0)."""
    from microgesture.data.check import check_dataset

    problems = check_dataset(_path(dataset), videos=video)
    for p in problems:
        print(p)
    n_err = sum(p.severity == "error" for p in problems)
    console.print(f"{dataset}: {n_err} errors, {len(problems) - n_err} warnings", highlight=False, soft_wrap=True)
    if n_err:
        raise typer.Exit(1)


@data_app.command("stats")
def stats_cmd(
    dataset: str = typer.Argument(..., help="Dataset directory."),
    png: str = typer.Option(None, help="Write a bar chart of the class distribution per split to this PNG."),
    json_out: str = typer.Option(None, "--json", help="Write the statistics to this JSON file."),
) -> None:
    """Class distribution per split, imbalance, subjects, clip-length percentiles."""
    import json

    from microgesture.data.stats import dataset_stats, format_stats, plot_stats

    stats = dataset_stats(_path(dataset))
    print(format_stats(stats))
    if png:
        console.print(f"wrote {plot_stats(stats, _path(png))}")
    if json_out:
        _path(json_out).write_text(json.dumps(stats, indent=1) + "\n")
        console.print(f"wrote {json_out}")


@app.command("run")
def run_cmd(
    experiment: str = typer.Argument(..., help="experiment YAML, or a shipped name: demo, aim, mm_gesture"),
    out: str = typer.Option("", "--out", "-o", help="study directory (default runs/<name>)"),
    set_: list[str] = typer.Option(None, "--set", help="override, e.g. --set branch_overrides.train.epochs=2"),
) -> None:
    """Run a whole study: branches, fusion, pseudo-labelling if asked, report. Reruns skip finished stages."""
    from microgesture.config import parse_overrides
    from microgesture.runner import load_experiment, print_summary, run_experiment

    try:
        exp = load_experiment(experiment, parse_overrides(set_))
    except ValueError as e:
        raise UserError(str(e)) from None
    summary = run_experiment(exp, out=_path(out or f"runs/{exp.name}"))
    print_summary(summary)


@app.command("demo")
def demo_cmd(
    out: str = typer.Option("runs/demo", "--out", "-o"),
    preset: str = typer.Option("small", "--preset", help="synthetic preset: tiny, small or full"),
    seed: int = typer.Option(0, "--seed"),
    set_: list[str] = typer.Option(None, "--set", help="override the demo config, as for `microgesture run`"),
) -> None:
    """Generate the synthetic benchmark and run the demo study (configs/demo.yaml) end to end."""
    from microgesture.config import merge, parse_overrides
    from microgesture.runner import load_experiment, print_summary, run_experiment

    over = merge({"seed": seed, "dataset": {"synth": {"preset": preset, "seed": seed}}}, parse_overrides(set_))
    exp = load_experiment("demo", over)
    summary = run_experiment(exp, out=_path(out))
    print_summary(summary)


# -- pose extraction and untrimmed detection (library: microgesture.pose, microgesture.detect, microgesture.online)
# ------------------------
def _size(text: str | None, flag: str) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise UserError(f"{flag} {text!r}: expected WxH, e.g. 1280x720") from None
    return w, h


@app.command("pose")
def pose_cmd(
    source: str = typer.Argument(..., help="Video (mediapipe), or folder of OpenPose JSON frames (openpose-json)."),
    out: str = typer.Option(..., "--out", "-o", help="Skeleton .npz to write (OpenPose-137, pixels + confidence)."),
    backend: str = typer.Option(None, help="mediapipe | openpose-json (default: openpose-json for a folder)."),
    select: str = typer.Option("largest", help="Subject when several people are visible: largest | central."),
    max_gap: int = typer.Option(0, help="Fill gaps of at most this many frames by linear interpolation (0 = off)."),
    overlay: str = typer.Option(None, help="Also write the video with the skeleton drawn (.mp4)."),
    video: str = typer.Option(None, help="openpose-json: the matching video (fps, frame size, overlay)."),
    fps: float = typer.Option(None, help="openpose-json without --video: frames per second (25)."),
    frame_size: str = typer.Option(None, help="openpose-json without --video: WxH (1280x720)."),
) -> None:
    """Extract an OpenPose-137 skeleton from a video (MediaPipe Holistic, run in .venv-pose) or OpenPose JSON."""
    from microgesture.data.video import VideoError
    from microgesture.pose import PoseError, extract_pose, write_pose_overlay

    try:
        res = extract_pose(_path(source), backend=backend, select=select, max_gap=max_gap,
                           video=_path(video) if video else None, fps=fps, frame_size=_size(frame_size, "--frame-size"))
        res.save(_path(out))
        if overlay:
            write_pose_overlay(_path(video or source), res, _path(overlay))
    except (PoseError, VideoError) as e:
        raise UserError(str(e)) from None
    m = res.missing
    console.print(f"wrote {out}: {res.num_frames} frames at {res.fps:g} fps, {res.backend}; missing: body "
                  f"{m['body']:.0%}, face {m['face']:.0%}, left hand {m['left_hand']:.0%}, right hand "
                  f"{m['right_hand']:.0%}; frames with several people: {res.selection.get('multi_person_frames', 0)}"
                  + (f"; overlay {overlay}" if overlay else ""), highlight=False, soft_wrap=True, markup=False)
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
    import json

    import numpy as np

    from microgesture.data.video import VideoError
    from microgesture.detect import (
        DetectConfig,
        DetectError,
        background_labels,
        config_dict,
        detect,
        event_report,
        plot_timeline,
        read_events,
        write_events,
    )
    from microgesture.pose import PoseError, extract_pose, load_pose, write_pose_overlay
    from microgesture.train import TrainingError

    src = _path(source)
    bg = None if background is None else () if background.lower() == "none" else tuple(
        b.strip() for b in background.split(",") if b.strip())
    try:
        cfg = DetectConfig(window=window, stride=stride, smooth=smooth, smooth_method=smooth_method,
                           min_score=min_score, background=bg, min_windows=min_windows, baseline=baseline)
        if src.suffix.lower() == ".npz":
            pose = load_pose(src)
        else:
            console.print(f"extracting the pose of {src} ...", highlight=False)
            pose = extract_pose(src, select=select, max_gap=max_gap)
            video = video or str(src)
        det = detect(_path(model), pose.keypoints, fps=pose.fps, config=cfg)
        gt_events = read_events(_path(gt), fps=pose.fps) if gt else None
        csv_path = write_events(_path(out), det.events)
        stem = csv_path.with_suffix("")
        png = plot_timeline(det, f"{stem}_timeline.png", gt=gt_events)
        record = {"source": str(src), "model": model, "fps": pose.fps, "frames": det.num_frames,
                  "windows": len(det.starts), "window_frames": det.window, "stride_frames": det.stride,
                  "config": config_dict(cfg), "events": len(det.events), "no_person": pose.no_person}
        np.savez_compressed(f"{stem}_windows.npz", starts=det.starts, probs=det.probs.astype(np.float32),
                            smoothed=det.smoothed.astype(np.float32), classes=np.array(det.classes))
        if gt_events is not None:
            record["event_f1"] = event_report(det.events, gt_events,
                                              background=background_labels(det.classes, cfg.background))
        if overlay:
            if not video:
                raise UserError("--overlay needs the video: pass --video for a skeleton SOURCE")

            def lines(t: int) -> list[str]:
                now = [e for e in det.events if e.start <= t <= e.end]
                head = [f"EVENT: {now[0].name}"] if now else ["(background)"]
                return head + [f"{name[:30]} {p:.2f}" for name, p in det.top_k(t)]

            write_pose_overlay(_path(video), pose, _path(overlay), labels=lines)
        Path(f"{stem}.json").write_text(json.dumps(record, indent=1) + "\n")
    except (DetectError, PoseError, VideoError, TrainingError) as e:
        raise UserError(str(e)) from None
    t = Table("start (s)", "end (s)", "class", "score", title=f"{len(det.events)} events in {source}")
    for e in det.events[:40]:
        t.add_row(f"{e.start_s:.2f}", f"{e.end_s:.2f}", e.name, f"{e.score:.2f}")
    Console().print(t)
    if len(det.events) > 40:
        console.print(f"... {len(det.events) - 40} more in {csv_path}")
    if gt_events is not None:
        console.print("event F1 " + ", ".join(f"IoU {k}: {v['f1']:.3f} (P {v['precision']:.2f}, R {v['recall']:.2f})"
                                              for k, v in record["event_f1"].items()), highlight=False)
    console.print(f"wrote {csv_path}, {png}, {stem}.json" + (f", {overlay}" if overlay else ""), highlight=False,
                  soft_wrap=True)


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
        out = generate_untrimmed(_path(out_dir), seed=seed, minutes=minutes, count=count, preset=preset,
                                 idle=(lo, hi), video=video, overwrite=overwrite)
    except ValueError as e:
        raise UserError(f"{e}") from None
    console.print(f"wrote {count} untrimmed recordings to {out}", highlight=False)


def _path(p: str) -> Path:
    return Path(p).expanduser()


def main(argv: list[str] | None = None) -> None:
    from microgesture.data.format import DatasetError

    try:
        # standalone mode: click/typer handle usage errors and --help themselves.
        app(args=argv, prog_name="microgesture")
    except (UserError, DatasetError, FileExistsError, FileNotFoundError) as e:
        if os.environ.get("MICROGESTURE_DEBUG"):
            raise
        console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        sys.exit(2)
