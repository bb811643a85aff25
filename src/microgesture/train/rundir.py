"""What ``fit`` checks before it writes anything, and what keeps a run directory whole.

* :func:`prepare_run_dir`: ``-o`` naming a finished or started run is refused unless ``--overwrite`` (the old run is
  removed first, so no ``best-v1.ckpt`` lies beside the new files) or ``--resume``; a resume continues only the run
  it resumes: the same config (hardware settings aside) and the same data (content fingerprint in ``run.json``),
  or it is refused naming the difference.
* :func:`probe_videos`: every video the branch reads is decoded packet by packet (no colour conversion) before
  training, so a corrupt file is named in one line at the start, not a traceback mid-epoch.
* :func:`keep_log_history` / :func:`merge_log_history`: Lightning's CSV logger deletes ``logs/metrics.csv`` when a
  run restarts; the earlier rows are set aside before and put back after, even when the resumed run fails.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
from pathlib import Path

import yaml
from lightning.pytorch.callbacks import Callback

from microgesture.atomic import atomic_path, write_json
from microgesture.config import RunConfig
from microgesture.data.format import Clip, Dataset
from microgesture.train.resolve import TrainingError

__all__ = ["RunExistsError", "RUN_MARKERS", "prepare_run_dir", "probe_videos", "keep_log_history",
           "merge_log_history", "DiscardUnstarted"]

log = logging.getLogger(__name__)

RUN_MARKERS = ("config.yaml", "model.ckpt", "metrics.json", "checkpoints")  # a directory holding one is a run
RUN_FILE = "run.json"
# settings of the machine, not of the run: a resume may change them
_HARDWARE = {"train.num_workers", "train.devices", "train.strategy", "train.accelerator", "dataset"}


class RunExistsError(TrainingError):
    """``-o`` names a run already there: refused without ``--overwrite`` or ``--resume``."""


def _flat(d: dict, prefix: str = "") -> dict:
    out: dict = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def config_differences(old: dict, new: dict) -> list[str]:
    """``key old -> new`` for every setting that differs (machine settings aside)."""
    a, b = _flat(old), _flat(new)
    keys = sorted((set(a) | set(b)) - _HARDWARE)
    return [f"{k} {a.get(k, '(unset)')!r} -> {b.get(k, '(unset)')!r}" for k in keys
            if _norm(a.get(k)) != _norm(b.get(k))]


def _norm(v):
    return [_norm(x) for x in v] if isinstance(v, list | tuple) else v


def global_zero() -> bool:
    """Whether this is the first process of a (possibly distributed) run: the others are launched with a rank in
    their environment (torchrun: RANK; Lightning's ddp launcher: LOCAL_RANK, NODE_RANK)."""
    return all(int(os.environ.get(k) or 0) == 0 for k in ("RANK", "LOCAL_RANK", "NODE_RANK"))


def prepare_run_dir(out: Path, cfg: RunConfig, ds: Dataset, *, resume: bool, overwrite: bool) -> bool:
    """Check ``out`` against ``--resume``/``--overwrite`` and make it ready; returns whether a checkpoint is resumed.

    Nothing is written or removed unless every check passes.
    """
    from microgesture.fingerprint import dataset_fingerprint

    if not global_zero():  # DDP's other processes run fit too, after rank 0 has prepared the directory
        out.mkdir(parents=True, exist_ok=True)
        return resume and (out / "checkpoints" / "last.ckpt").is_file()
    is_run = out.is_dir() and any((out / m).exists() for m in RUN_MARKERS)
    fp = dataset_fingerprint(ds.root)
    if is_run and resume:
        cf = out / "config.yaml"
        if cf.is_file():
            diff = config_differences(yaml.safe_load(cf.read_text()) or {}, cfg.to_dict())
            if diff:
                raise TrainingError(f"{cf}: --resume continues this run, but the config differs: {'; '.join(diff)}; "
                                    "train into a new -o, or --overwrite to restart here")
        rf = out / RUN_FILE
        if rf.is_file():
            old = json.loads(rf.read_text()).get("dataset_fingerprint")
            if old and old != fp:
                raise TrainingError(f"{ds.root}: --resume continues the run in {out}, but the dataset's contents "
                                    f"changed since it started (fingerprint {old} -> {fp}); train into a new -o")
    elif is_run and not overwrite:
        what = "a finished run" if (out / "model.ckpt").exists() else "a started run"
        raise RunExistsError(f"{out}: holds {what}; pass --overwrite to replace it, --resume to continue it, or "
                             "choose another -o")
    elif is_run:
        log.info("%s: --overwrite: removing the earlier run", out)
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / RUN_FILE, {"dataset": str(ds.root), "dataset_fingerprint": fp})
    return resume and (out / "checkpoints" / "last.ckpt").is_file()


# -- videos -----------------------------------------------------------------------------------------------------------

_verified: dict[tuple[str, int, int], int] = {}  # (path, size, mtime_ns) -> frames, for the studies' many branches


def video_column(cfg: RunConfig) -> tuple[str | None, bool]:
    """The clips.csv column of the videos the branch reads (None for a branch without videos), and whether its input
    skips unreadable train clips (``input.on_error: skip``)."""
    from microgesture.branches import get_branch

    b = get_branch(cfg.branch)
    icfg = b.input_config(cfg.input)
    col = getattr(icfg, "video_column", None)
    return col or ("video_path" if "rgb" in b.modality else None), getattr(icfg, "on_error", "error") == "skip"


def probe_videos(ds: Dataset, cfg: RunConfig, clips: list[Clip]) -> int:
    """Decode every video ``clips`` need for this branch; raise a one-line VideoError naming the first bad file and
    its clip. Under ``input.on_error: skip`` a bad file that only train clips use is a warning (the pipeline skips
    those clips); val and test clips must be predicted, so theirs still fail.

    Returns the number of files checked. Results are remembered per (path, size, mtime) within the process.
    """
    from microgesture.data.video import VideoError, verify_video

    col, skip = video_column(cfg)
    if col is None:
        return 0
    files: dict[Path, list[Clip]] = {}
    for c in clips:
        rel = c.video_path if col == "video_path" else c.extra.get(col, "")
        if not rel:
            hint = "" if col == "video_path" else f" (run `microgesture extract {col.removesuffix('_path')}` first)"
            raise TrainingError(f"{ds.root / 'clips.csv'}: clip {c.clip_id} has no {col}; branch {cfg.branch} "
                                f"reads it{hint}")
        files.setdefault(ds.root / rel, []).append(c)
    bad: list[str] = []
    skipped: list[str] = []
    for p, cs in files.items():
        try:
            st = p.stat()
            key = (str(p), st.st_size, st.st_mtime_ns)
            if key not in _verified:
                _verified[key] = verify_video(p)
            n = _verified[key]
            short = [c for c in cs if col == "video_path" and c.video_start + c.num_frames > n]
            if short:
                c = short[0]
                raise VideoError(f"{p}: has {n} frames; clip {c.clip_id} needs frames {c.video_start}.."
                                 f"{c.video_start + c.num_frames - 1}")
        except (FileNotFoundError, VideoError) as e:
            msg = f"{p}: video not found" if isinstance(e, FileNotFoundError) else str(e)
            msg += "" if "clip " in msg else f" (clip {cs[0].clip_id})"
            (skipped if skip and all(c.split == "train" for c in cs) else bad).append(msg)
    if skipped:
        log.warning("on_error=skip: %d unreadable train video(s) will be skipped, first %s", len(skipped), skipped[0])
    if bad:
        more = f" (+{len(bad) - 1} more bad videos; `microgesture data check {ds.root} --decode` lists them)" \
            if len(bad) > 1 else ""
        raise VideoError(f"{bad[0]}{more}")
    return len(files)


# -- logs -------------------------------------------------------------------------------------------------------------

_HISTORY = ".metrics-history.csv"


def keep_log_history(out: Path) -> None:
    """Before a resumed run starts its logger: set the earlier rows of ``logs/metrics.csv`` aside (a hidden file that
    a killed resume leaves for the next one)."""
    logs = out / "logs"
    cur, hist = logs / "metrics.csv", logs / _HISTORY
    if global_zero() and cur.is_file():
        if hist.is_file():
            _write_rows(hist, _read_rows(hist) + _read_rows(cur))
            cur.unlink()
        else:
            cur.rename(hist)


def merge_log_history(out: Path) -> None:
    """After the run (finished or failed): ``logs/metrics.csv`` = the earlier rows, then this run's."""
    logs = out / "logs"
    cur, hist = logs / "metrics.csv", logs / _HISTORY
    if not global_zero() or not hist.is_file():
        return
    rows = _read_rows(hist) + (_read_rows(cur) if cur.is_file() else [])
    _write_rows(cur, rows)
    hist.unlink()


def _read_rows(p: Path) -> list[dict]:
    with open(p, newline="") as fh:
        return list(csv.DictReader(fh))


def _write_rows(p: Path, rows: list[dict]) -> None:
    keys = sorted({k for r in rows for k in r})
    with atomic_path(p) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


# -- a run that fails before its first checkpoint ---------------------------------------------------------------------

_RUN_FILES = ("config.yaml", "env.json", RUN_FILE, "skipped_clips.jsonl")
_RUN_DIRS = ("checkpoints", "logs", "tb", "mlruns")


class DiscardUnstarted(Callback):
    """A run that fails (or is interrupted) before its first checkpoint has nothing to resume: its files are removed,
    so the next ``train -o`` is not refused for a run that never was. Files the run did not write (a study's
    ``stage.pending.json``) stay, and so does a directory that holds them."""

    def __init__(self, out: Path):
        self.out = Path(out)

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if not trainer.is_global_zero or any((self.out / "checkpoints").glob("*.ckpt")):
            return
        for name in _RUN_FILES:
            (self.out / name).unlink(missing_ok=True)
        for name in _RUN_DIRS:
            shutil.rmtree(self.out / name, ignore_errors=True)
        if self.out.is_dir() and not any(self.out.iterdir()):
            self.out.rmdir()
        log.info("%s: removed the run, which failed before its first checkpoint", self.out)
