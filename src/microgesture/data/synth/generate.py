"""Presets, recordings and dataset writing of the synthetic benchmark.

A *recording* is one long video of one subject: idle stretches and gestures chained, with ground-truth segments
(the raw iMiGUE layout stores it whole; the microgesture layout stores each clip's slice and records where it sits).
Every
recording has its own seed derived from (seed, video index), so output is bit-for-bit reproducible and recordings
can be generated in parallel in any order.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from microgesture.atomic import atomic_dir, sweep, temp_sibling
from microgesture.data.classes import IMIGUE_CLASSES, NON_MG_CLASS, RAW_NON_MG_LABEL
from microgesture.data.format import Clip, DatasetHeader, DatasetWriter
from microgesture.data.sanitise import sanitise
from microgesture.data.synth.body import (
    Body,
    Difficulty,
    Stage,
    Subject,
    Track,
    build_body,
    observe,
    sample_stage,
    sample_subject,
)
from microgesture.data.synth.plan import PRESETS, SPLIT_NAMES, Plan, Preset, VideoPlan, make_plan
from microgesture.data.synth.programs import Ctx, add_idle, apply_program
from microgesture.data.synth.render import Scene, make_scene, render
from microgesture.data.synth.timing import HANDS, clip_lengths, recording_timing
from microgesture.data.video import write_video

__all__ = ["Preset", "PRESETS", "Recording", "Plan", "make_plan", "synth_recording", "synth_clip", "generate",
           "FORMATS", "RAW_TABLES"]

FORMATS = ("microgesture", "imigue-raw")
RAW_TABLES = ("csv", "xlsx")


@dataclass
class Recording:
    """One synthesised long video: geometry, observed skeleton (T, 137, 3) and segments (label, start, end)
    with 0-based inclusive frames. ``raw`` is the simulated OpenPose output with its quirks (what the raw layout
    writes); ``skeleton`` is it sanitised as an import would (microgesture.data.sanitise)."""

    subject: Subject
    stage: Stage
    body: Body
    skeleton: np.ndarray
    raw: np.ndarray
    segments: list[tuple[int, int, int]]
    fps: float
    seed: tuple[int, ...]


def synth_recording(subject: Subject, labels: Sequence[int | None], *, seed: Sequence[int], preset: Preset,
                    knobs: Difficulty | None = None, lengths: Sequence[int] | None = None,
                    gaps: Sequence[int] | None = None, clean: bool = False) -> Recording:  # fmt: skip
    """Chain ``labels`` (None = an idle stretch where a gesture would be) with idle gaps into one recording.

    Idle motion, each clip's program, the stage and the pose-estimation noise use separate random streams, so the
    same seed with a label replaced by None gives the same recording without that gesture. ``clean=True`` returns
    the noise-free geometry with confidence = visibility instead of the simulated detector output.
    """
    knobs = knobs or Difficulty()
    ss = np.random.SeedSequence(list(seed))
    s_plan, s_idle, s_prog, s_noise, s_stage = ss.spawn(5)
    r_plan = np.random.default_rng(s_plan)
    timing = recording_timing(r_plan, labels, preset, lengths=lengths, gaps=gaps)
    tr = Track(timing.total)
    fps = preset.fps
    add_idle(tr, subject, np.random.default_rng(s_idle), fps, knobs)
    segments = []
    dominant = 0 if subject.right_handed else 1
    prev_hand = 0
    for k, (label, prog_seed) in enumerate(zip(labels, s_prog.spawn(len(labels)), strict=True)):
        a = int(timing.starts[k])
        b = a + int(timing.lengths[k])
        r = np.random.default_rng(prog_seed)
        hand = dominant if r.random() < subject.dominance else 1 - dominant
        if timing.with_previous[k] and HANDS[int(labels[k - 1])] == 1 and HANDS[int(label)] == 1:
            hand = 1 - prev_hand  # two one-hand gestures at once: the free hand
        amp = subject.amp * float(np.exp(knobs.clip_amp_spread * r.standard_normal()))
        speed = subject.speed * float(np.exp(0.1 * r.standard_normal()))
        if label is not None:
            ctx = Ctx(rng=r, subject=subject, fps=fps, amp=amp, speed=speed, hand=hand, tail=timing.tail(k))
            apply_program(int(label), tr, a, b, ctx)
            segments.append((int(label), a, b - 1))
        prev_hand = hand
    stage = sample_stage(np.random.default_rng(s_stage), subject, preset.frame_size, knobs)
    body = build_body(subject, stage, tr)
    if clean:
        raw = np.concatenate([body.points, body.vis[..., None]], -1).astype(np.float32)
        skel = raw
    else:
        raw = observe(body, subject, np.random.default_rng(s_noise), knobs)
        skel = sanitise(raw.copy(), preset.frame_size)
    return Recording(subject=subject, stage=stage, body=body, skeleton=skel, raw=raw, segments=segments, fps=fps,
                     seed=tuple(seed))  # fmt: skip


def synth_clip(label: int | None, *, seed: int = 0, subject: Subject | None = None, preset: str | Preset = "small",
               num_frames: int | None = None, knobs: Difficulty | None = None, clean: bool = False,
               pad: int = 25) -> np.ndarray:  # fmt: skip
    """One clip's (T, 137, 3) OpenPose-137 skeleton (pixels of the preset's frame) for class ``label``.

    ``label=None`` gives the same clip without the gesture (idle only), for comparisons. The subject is drawn from
    ``seed`` unless given; ``pad`` idle frames surround the clip so that it starts mid-recording.
    """
    p = PRESETS[preset] if isinstance(preset, str) else preset
    knobs = knobs or Difficulty()
    if subject is None:
        subject = sample_subject(np.random.default_rng([seed, 7]), "S00", knobs)
    if num_frames is None:
        num_frames = int(clip_lengths(np.random.default_rng([seed, 8]), [label], p)[0])
    rec = synth_recording(subject, [label], seed=(seed, 9), preset=p, knobs=knobs, lengths=[num_frames],
                          gaps=[pad, pad], clean=clean)  # fmt: skip
    return rec.skeleton[pad : pad + num_frames]


# -- writing -----------------------------------------------------------------------------------------------------------
def _recording_for(plan: Plan, v: VideoPlan, knobs: Difficulty) -> Recording:
    return synth_recording(plan.subjects[v.subject], v.labels, seed=(plan.seed, 2, v.index), preset=plan.preset,
                           knobs=knobs)  # fmt: skip


def scene_for(rec: Recording) -> Scene:
    """The video set of a recording (seeded by the recording)."""
    return make_scene(np.random.default_rng(list(rec.seed) + [5]), rec.stage, len(rec.skeleton))


def _render_range(rec: Recording, scene: Scene, a: int, b: int, chunk: int = 64):
    for i in range(a, b, chunk):
        yield render(rec.body, rec.subject, scene, range(i, min(b, i + chunk)))


def _stream_video(path: Path, chunks, *, fps: float, size: tuple[int, int]) -> None:
    """Encode frame chunks as they come (long raw videos do not fit in memory); same settings as write_video."""
    from microgesture.data.video import VideoWriter

    with VideoWriter(path, fps=fps) as w:
        for frames in chunks:
            for f in frames:
                w.write(f)


_WORK: dict = {}


def _microgesture_job(v: VideoPlan) -> tuple[VideoPlan, list[np.ndarray], list[tuple[int, int, int]]]:
    plan, knobs, video_dir = _WORK["plan"], _WORK["knobs"], _WORK["video_dir"]
    rec = _recording_for(plan, v, knobs)
    skels = []
    scene = scene_for(rec) if video_dir is not None else None
    for k, (_, a, b) in enumerate(rec.segments):
        skels.append(rec.skeleton[a : b + 1])
        if scene is not None:
            frames = np.concatenate(list(_render_range(rec, scene, a, b + 1)))
            write_video(Path(video_dir) / f"{v.video_id}_{k}.mp4", frames, fps=rec.fps)
    return v, skels, rec.segments


def _raw_job(v: VideoPlan) -> VideoPlan:
    plan, knobs, root, table, video = _WORK["plan"], _WORK["knobs"], _WORK["root"], _WORK["table"], _WORK["video"]
    rec = _recording_for(plan, v, knobs)
    d = Path(root) / v.video_id
    d.mkdir(parents=True, exist_ok=True)
    flat = rec.raw.reshape(len(rec.raw), -1)
    if table == "csv":
        np.savetxt(d / f"{v.video_id}_openpose.csv", flat, fmt=["%.2f", "%.2f", "%.3g"] * 137, delimiter=",")
    else:
        _write_xlsx(d / f"{v.video_id}_openpose.xlsx", flat)
    with open(d / f"{v.video_id}_label.csv", "w") as fh:
        for label, a, b in rec.segments:
            raw = RAW_NON_MG_LABEL if label == NON_MG_CLASS else label + 1
            fh.write(f"{raw},{a},{b}\n")
    if video:
        _stream_video(d / f"{v.video_id}.mp4", _render_range(rec, scene_for(rec), 0, len(rec.skeleton)), fps=rec.fps,
                      size=plan.preset.frame_size)  # fmt: skip
    return v


def _write_xlsx(path: Path, rows: np.ndarray) -> None:
    """Write rows with openpyxl, then pin the zip entry dates and document timestamps so the bytes are reproducible."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    for r in np.round(rows.astype(np.float64), 3):
        ws.append(r.tolist())
    tmp = temp_sibling(path)  # openpyxl's file, rewritten with pinned dates into ``path``
    try:
        wb.save(tmp)
        _pin_xlsx(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _pin_xlsx(tmp: Path, path: Path) -> None:
    with zipfile.ZipFile(tmp) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2000-01-01T00:00:00Z", data)
            zout.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), data,
                          compress_type=zipfile.ZIP_DEFLATED)  # fmt: skip


def _run(job: Callable, videos: list[VideoPlan], workers: int, state: dict):
    _WORK.clear()
    _WORK.update(state)
    if workers <= 1:
        yield from map(job, videos)
        return
    ctx = mp.get_context("fork")  # the job state is inherited, not pickled
    with ctx.Pool(workers) as pool:
        yield from pool.imap(job, videos)


def generate(out_dir: str | os.PathLike, *, preset: str | Preset = "small", seed: int = 0, video: bool = True,
             format: str = "microgesture", raw_table: str = "csv", overwrite: bool = False,
             knobs: Difficulty | None = None,
             workers: int = 1, progress: Callable[[int, int], None] | None = None) -> Path:  # fmt: skip
    """Generate the synthetic benchmark into ``out_dir`` and return its path.

    ``format="microgesture"`` writes a dataset (format v1, layout openpose137, iMiGUE class names) with one video per
    clip
    under ``videos/``; ``format="imigue-raw"`` writes the MiGA'25 raw layout (per recording ``<vid>/<vid>_openpose.csv``
    or ``.xlsx``, ``<vid>_label.csv``, ``<vid>.mp4``; split lists ``iMiGUE_<split>_clips_list.txt``; ``subjects.csv``;
    ``synth.json`` with the frame size, since coordinates are pixels of the preset's frame).
    """
    p = PRESETS.get(preset) if isinstance(preset, str) else preset
    if p is None:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if raw_table not in RAW_TABLES:
        raise ValueError(f"unknown raw table {raw_table!r}; choose one of {', '.join(RAW_TABLES)}")
    out = Path(out_dir)
    knobs = knobs or Difficulty()
    plan = make_plan(p, seed, knobs)
    total = len(plan.videos)
    meta = {"generator": "microgesture.data.synth", "preset": p.name, "seed": seed, "difficulty": asdict(knobs)}
    if format == "microgesture":
        header = DatasetHeader(name=f"synth-{p.name}", layout="openpose137", classes=IMIGUE_CLASSES, fps=p.fps,
                               frame_size=p.frame_size, description="microgesture synthetic micro-gesture benchmark",
                               extra={"synth": meta})  # fmt: skip
        with DatasetWriter(out, header, overwrite=overwrite) as w:
            video_dir = w.path_for("videos/.keep").parent if video else None
            state = {"plan": plan, "knobs": knobs, "video_dir": video_dir}
            for i, (v, skels, segs) in enumerate(_run(_microgesture_job, plan.videos, workers, state)):
                subj = plan.subjects[v.subject].id
                for k, ((label, a, b), s) in enumerate(zip(segs, skels, strict=True)):
                    cid = f"{v.video_id}_{k}"
                    w.add(Clip(clip_id=cid, video_id=v.video_id, subject=subj, split=v.split, label=label,
                               start_frame=a, end_frame=b, num_frames=0,
                               video_path=f"videos/{cid}.mp4" if video else ""), s)  # fmt: skip
                if progress:
                    progress(i + 1, total)
        return out
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    sweep(out.parent)  # temporaries of a killed run
    with atomic_dir(out) as tmp:
        state = {"plan": plan, "knobs": knobs, "root": tmp, "table": raw_table, "video": video}
        lists: dict[str, list[str]] = {s: [] for s in SPLIT_NAMES}
        for i, v in enumerate(_run(_raw_job, plan.videos, workers, state)):
            lists[v.split] += [f"{v.video_id}_{k}.mp4 {label}" for k, label in enumerate(v.labels)]
            if progress:
                progress(i + 1, total)
        for split, lines in lists.items():
            (tmp / f"iMiGUE_{split}_clips_list.txt").write_text("".join(x + "\n" for x in lines))
        rows = [f"{v.video_id},{plan.subjects[v.subject].id}\n" for v in plan.videos]
        (tmp / "subjects.csv").write_text("video_id,subject\n" + "".join(rows))
        meta.update(frame_size=list(p.frame_size), fps=p.fps, classes=list(IMIGUE_CLASSES))
        (tmp / "synth.json").write_text(json.dumps(meta, indent=2) + "\n")
    return out
