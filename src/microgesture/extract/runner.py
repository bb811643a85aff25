"""The extraction batch job: shards, resumable, one failed clip never stops the others.

``run_extraction(DATASET, "taylor", TaylorConfig(), RunConfig(shard=i, num_shards=n))`` processes clip k of the
clip table when ``k % n == i`` (0-based, in clips.csv order, which rewrites keep), so a cluster job array of n tasks
covers the dataset once. For each clip it decodes frames ``[video_start, video_start + num_frames)`` of
``video_path``, runs the extractor and writes ``DATASET/<modality>/<clip_id>.mp4`` atomically (temporary name, then
rename; temporary files of a killed run are removed when its shard runs again). A clip whose output exists is
skipped (resume after a crash or a time limit); ``overwrite`` redoes it. A clip that fails (unreadable video, model
error) is logged and listed, with its error, in ``DATASET/<modality>/report-<i>of<n>.json``; the run goes on.
Scripts that call this with ``workers > 1`` need the ``if __name__ == "__main__":`` guard (worker processes are
spawned, not forked).

At the end the ``<modality>_path`` column of clips.csv is rebuilt from the files on disk under a lock file
(:func:`microgesture.extract.column.update_column`, re-exported here with :func:`merge` and :func:`dataset_lock`).
"""

from __future__ import annotations

import glob
import json
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from microgesture.atomic import write_json
from microgesture.data.format import Clip, Dataset
from microgesture.data.video import read_video, write_video
from microgesture.extract import MODALITIES, modality_column, output_relpath
from microgesture.extract.column import MergeSummary, dataset_lock, merge, update_column
from microgesture.extract.depth import DepthConfig
from microgesture.extract.flow import FlowConfig
from microgesture.extract.taylor import TaylorConfig

__all__ = [
    "ExtractError",
    "RunConfig",
    "ExtractReport",
    "MergeSummary",
    "CONFIGS",
    "parse_shard",
    "make_config",
    "build_extractor",
    "shard_clips",
    "run_extraction",
    "update_column",
    "merge",
    "dataset_lock",
]

logger = logging.getLogger(__name__)
CONFIGS: dict[str, type] = {"taylor": TaylorConfig, "flow": FlowConfig, "depth": DepthConfig}
META_FILE = "extract.json"
# How the derived video's frames line up with the clip's N frames (written to extract.json for loaders).
FRAMES_NOTE = {
    "taylor": "N - window + 1 frames; frame i summarises clip frames [i, i + window)",
    "flow": "N frames; frame t is the flow from clip frame t to t + 1, the last flow duplicated",
    "depth": "N frames, one per clip frame",
}


class ExtractError(ValueError):
    """A user-fixable problem with an extraction run (bad shard spec, option, settings mismatch)."""


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """How to run a job.

    Attributes:
        shard: this task's index I, 0 <= I < num_shards.
        num_shards: N; clip k goes to shard k % N.
        workers: processes for this shard (1 = in this process). Each worker builds its own extractor.
        overwrite: redo clips whose output exists (and accept settings that differ from extract.json).
        crf: H.264 quality of the outputs (23 = FFmpeg's default).
    """

    shard: int = 0
    num_shards: int = 1
    workers: int = 1
    overwrite: bool = False
    crf: int = 23

    def __post_init__(self) -> None:
        if self.num_shards < 1 or not 0 <= self.shard < self.num_shards:
            raise ExtractError(f"shard {self.shard}/{self.num_shards}: need 0 <= I < N")
        if self.workers < 1:
            raise ExtractError(f"workers must be >= 1, got {self.workers}")


@dataclass
class ExtractReport:
    """What one shard run did; also written as JSON to ``report_path``."""

    modality: str
    shard: int
    num_shards: int
    clips: int
    done: list[str] = field(default_factory=list)
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    frames: int = 0
    seconds: float = 0.0
    report_path: Path | None = None
    column_present: int = 0
    column_total: int = 0

    def to_json(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["report_path"] = str(self.report_path) if self.report_path else None
        d["frames_per_second"] = round(self.frames / self.seconds, 2) if self.seconds > 0 else None
        return d


def parse_shard(spec: str) -> tuple[int, int]:
    """ "I/N" -> (I, N), 0-based I."""
    try:
        i, n = (int(x) for x in spec.split("/"))
    except ValueError:
        raise ExtractError(f"--shard {spec!r}: expected I/N, e.g. 0/4 (0-based I)") from None
    if n < 1 or not 0 <= i < n:
        raise ExtractError(f"--shard {spec!r}: need 0 <= I < N")
    return i, n


def make_config(modality: str, **options: Any) -> Any:
    """A modality's config from options; options set to None keep the default. Unknown options are an error."""
    if modality not in CONFIGS:
        raise ExtractError(f"unknown modality {modality!r}; choose one of {', '.join(MODALITIES)}")
    cls = CONFIGS[modality]
    names = {f.name for f in fields(cls)}
    given = {k: v for k, v in options.items() if v is not None}
    bad = sorted(set(given) - names)
    if bad:
        raise ExtractError(
            f"option(s) {', '.join(bad)} do not apply to {modality} (its options: {', '.join(sorted(names))})"
        )
    try:
        return cls(**given)
    except (TypeError, ValueError) as e:
        raise ExtractError(f"{modality}: {e}") from None


def build_extractor(modality: str, config: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The callable (N, H, W, 3) uint8 -> (N', H, W, 3) uint8 for a modality; models are loaded here."""
    if modality == "taylor":
        from microgesture.extract.taylor import TaylorExtractor

        return TaylorExtractor(config)
    if modality == "flow":
        from microgesture.extract.flow import FlowExtractor

        return FlowExtractor(config)
    if modality == "depth":
        from microgesture.extract.depth import DepthExtractor

        return DepthExtractor(config)
    raise ExtractError(f"unknown modality {modality!r}; choose one of {', '.join(MODALITIES)}")


def shard_clips(clips: list[Clip], shard: int, num_shards: int) -> list[Clip]:
    """Clip k (table order) belongs to shard k % num_shards."""
    return [c for k, c in enumerate(clips) if k % num_shards == shard]


def _check_settings(root: Path, modality: str, config: Any, overwrite: bool) -> None:
    """Refuse to mix outputs made with different settings; record the settings in extract.json."""
    out_dir = root / modality
    out_dir.mkdir(exist_ok=True)
    meta_path = out_dir / META_FILE
    settings = json.loads(json.dumps(config.output_settings()))
    with dataset_lock(root):
        if meta_path.is_file():
            try:
                old = json.loads(meta_path.read_text()).get("settings")
            except json.JSONDecodeError:
                old = None
            if old != settings and not overwrite:
                raise ExtractError(
                    f"{meta_path}: the existing {modality} videos were made with {old}, this run asks for {settings}; "
                    "use the same settings, or --overwrite on every shard to redo them"
                )
        meta = {"modality": modality, "column": modality_column(modality), "settings": settings,
                "frames": FRAMES_NOTE[modality]}
        write_json(meta_path, meta)


# -- per-clip work (module level so worker processes can run it) ------------------------------------------------------
@dataclass(frozen=True)
class _Job:
    clip_id: str
    src: str
    start: int
    num_frames: int
    dst: str
    fps: float
    crf: int


_WORKER: dict[str, Any] = {}


def _remove_partial(dst: Path) -> None:
    # write_video's temporary files are hidden siblings named after the output; only this shard touches this clip.
    for p in glob.glob(str(dst.parent / f".{glob.escape(dst.stem)}.tmp-*")):
        Path(p).unlink(missing_ok=True)


def _sweep_partials(out_dir: Path, clip_ids: set[str]) -> None:
    """Remove temporary outputs left by a killed run, for this shard's clips only (other shards may be writing)."""
    for p in out_dir.glob(".*.tmp-*"):
        if p.name[1:].rsplit(".tmp-", 1)[0] in clip_ids:
            p.unlink(missing_ok=True)


def _extract_one(extractor: Callable[[np.ndarray], np.ndarray], job: _Job) -> tuple[str, str | None, int, float]:
    """Run one clip; returns (clip_id, error or None, frames read, seconds)."""
    t0 = time.perf_counter()
    dst = Path(job.dst)
    try:
        frames = read_video(job.src, start=job.start, num_frames=job.num_frames)
        out = extractor(frames)
        write_video(dst, out, fps=job.fps, crf=job.crf)
        return job.clip_id, None, len(frames), time.perf_counter() - t0
    except Exception as e:  # one bad clip must not stop a 20k-clip job; the error is reported
        _remove_partial(dst)
        return job.clip_id, f"{type(e).__name__}: {e}", 0, time.perf_counter() - t0


def _init_worker(modality: str, config: Any, threads: int) -> None:
    import cv2
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    try:
        _WORKER["extractor"] = build_extractor(modality, config)
    except Exception as e:  # reported for each clip instead of a bare BrokenProcessPool
        _WORKER["error"] = f"cannot build the {modality} extractor: {type(e).__name__}: {e}"


def _worker_job(job: _Job) -> tuple[str, str | None, int, float]:
    if "error" in _WORKER:
        return job.clip_id, _WORKER["error"], 0, 0.0
    return _extract_one(_WORKER["extractor"], job)


def _plan_jobs(root: Path, ds: Dataset, modality: str, mine: list[Clip], run: RunConfig,
               rep: ExtractReport) -> list[_Job]:
    """The jobs of this shard's clips; done clips count in ``rep.skipped``, unusable ones go to ``rep.failed``."""
    jobs: list[_Job] = []
    for c in mine:
        try:
            dst = root / output_relpath(modality, c.clip_id)
        except ValueError as e:
            rep.failed[c.clip_id] = str(e)
            continue
        if dst.is_file() and not run.overwrite:
            rep.skipped += 1
            continue
        src = ds.video_file(c)
        if src is None:
            rep.failed[c.clip_id] = f"clip has no video_path in {root / 'clips.csv'}"
            continue
        jobs.append(_Job(c.clip_id, str(src), c.video_start, c.num_frames, str(dst), ds.header.fps, run.crf))
    return jobs


def _run_pool(jobs: list[_Job], modality: str, config: Any, workers: int,
              record: Callable[[tuple[str, str | None, int, float], int], None]) -> None:
    """Run ``jobs`` in ``workers`` spawned processes, passing each result (in completion order) to ``record``."""
    import multiprocessing as mp

    threads = max(1, (os.cpu_count() or 1) // workers)
    # spawn, not fork: forking a process that already used torch/OpenMP threads can deadlock.
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                             initializer=_init_worker, initargs=(modality, config, threads)) as pool:
        futures = {pool.submit(_worker_job, j): j for j in jobs}
        for k, fut in enumerate(as_completed(futures), 1):
            try:
                res = fut.result()
            except Exception as e:  # a worker that died (out of memory, model failed to load)
                res = (futures[fut].clip_id, f"worker failed: {type(e).__name__}: {e}", 0, 0.0)
            record(res, k)


def _write_report(root: Path, modality: str, run: RunConfig, rep: ExtractReport, log: Callable[[str], None],
                  tag: str) -> None:
    """Update the dataset's column for ``modality``, write the shard report and log the summary."""
    rep.report_path = root / modality / f"report-{run.shard}of{run.num_shards}.json"
    rep.column_present, missing = update_column(root, modality)
    rep.column_total = rep.column_present + len(missing)
    write_json(rep.report_path, rep.to_json())
    log(f"{tag}: done {len(rep.done)}, skipped {rep.skipped}, failed {len(rep.failed)} "
        f"({rep.frames} frames in {rep.seconds:.1f} s); column {modality_column(modality)}: "
        f"{rep.column_present}/{rep.column_total} clips; report {rep.report_path}")


def run_extraction(root: str | os.PathLike, modality: str, config: Any = None, run: RunConfig | None = None, *,
                   extractor: Callable[[np.ndarray], np.ndarray] | None = None,
                   log: Callable[[str], None] | None = None) -> ExtractReport:
    """Extract one shard of a modality for a dataset (see the module docstring).

    Args:
        root: dataset directory.
        modality: "taylor", "flow" or "depth".
        config: the modality's config (default settings if None).
        run: shard, workers, overwrite, crf.
        extractor: a ready callable to use instead of building one from ``config`` (needs ``workers == 1``).
        log: where progress and failures go (default: this module's logger, at INFO).

    Returns:
        The report (also written to ``DATASET/<modality>/report-<I>of<N>.json``).
    """
    # long: the progress callback `record` shares the report, clock and tag with both run paths (serial, pool)
    root = Path(root)
    run = run or RunConfig()
    log = log or logger.info
    if modality not in CONFIGS:
        raise ExtractError(f"unknown modality {modality!r}; choose one of {', '.join(MODALITIES)}")
    config = config if config is not None else CONFIGS[modality]()
    if extractor is not None and run.workers != 1:
        raise ExtractError("a ready extractor runs in this process only (workers=1)")
    ds = Dataset.open(root)
    _check_settings(root, modality, config, run.overwrite)
    mine = shard_clips(ds.clips, run.shard, run.num_shards)
    _sweep_partials(root / modality, {c.clip_id for c in mine})
    tag = f"{modality} shard {run.shard}/{run.num_shards}"
    rep = ExtractReport(modality=modality, shard=run.shard, num_shards=run.num_shards, clips=len(mine))
    jobs = _plan_jobs(root, ds, modality, mine, run, rep)
    log(f"{tag}: {len(mine)} clips, {rep.skipped} already done, {len(jobs)} to extract")
    for cid, err in rep.failed.items():
        log(f"{tag}: FAILED {cid}: {err}")

    from microgesture.progress import format_seconds

    t0 = time.perf_counter()
    every = max(1, len(jobs) // 20)

    def record(result: tuple[str, str | None, int, float], k: int) -> None:
        cid, err, n, _ = result
        if err is None:
            rep.done.append(cid)
            rep.frames += n
        else:
            rep.failed[cid] = err
            log(f"{tag}: FAILED {cid}: {err}")
        if k % every == 0 or k == len(jobs):
            dt = time.perf_counter() - t0
            log(f"{tag}: {k}/{len(jobs)} clips, {rep.frames / max(dt, 1e-9):.1f} frames/s, {len(rep.failed)} failed, "
                f"eta {format_seconds(dt / k * (len(jobs) - k))}")

    if jobs and run.workers == 1:
        try:
            ex = extractor if extractor is not None else build_extractor(modality, config)
        except (ImportError, OSError, RuntimeError) as e:  # no transformers, weights not found, no internet
            raise ExtractError(f"{tag}: {e}") from None
        for k, job in enumerate(jobs, 1):
            record(_extract_one(ex, job), k)
    elif jobs:
        _run_pool(jobs, modality, config, run.workers, record)
    rep.seconds = time.perf_counter() - t0

    _write_report(root, modality, run, rep, log, tag)
    return rep
