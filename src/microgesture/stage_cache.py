"""The cache of a study's stages, and its first stage: the synthetic benchmark generated into the study.

Every stage writes a ``stage.json`` holding a key = hash of its config and of its inputs' contents; a stage whose
key is unchanged is skipped on a rerun. The synthetic dataset's key holds its settings and a content hash of the
generator's own source (every file of ``microgesture/data/synth/``), so a changed generator regenerates the data
instead of reusing what the old one made.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from microgesture.atomic import write_text
from microgesture.progress import stage as stage_name

__all__ = ["digest", "is_done", "mark_done", "generator_digest", "synth_key", "stage_data", "SYNTH_DIR"]

log = logging.getLogger(__name__)
SYNTH_DIR = Path(__file__).parent / "data" / "synth"


def digest(obj: Any) -> str:
    """16 hex digits of a JSON-able object (keys sorted)."""
    return hashlib.sha1(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def is_done(stage_dir: Path, key: str) -> bool:
    """Whether ``stage_dir`` holds a finished stage of this ``key``."""
    f = stage_dir / "stage.json"
    return f.is_file() and json.loads(f.read_text()).get("key") == key


def mark_done(stage_dir: Path, key: str, **info: Any) -> None:
    """Record ``stage_dir`` as finished under ``key`` (with ``info``), atomically: the last write of a stage."""
    stage_dir.mkdir(parents=True, exist_ok=True)
    write_text(stage_dir / "stage.json", json.dumps({"key": key, "finished": time.time(), **info}, indent=1) + "\n")


def generator_digest(root: Path | None = None) -> str:
    """Content hash of the synthetic generator's source: every file under ``root`` (default :data:`SYNTH_DIR`) by
    relative path and bytes, compiled caches left out."""
    root = Path(root or SYNTH_DIR)
    h = hashlib.blake2b(digest_size=8)
    for f in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                    and p.suffix not in (".pyc", ".pyo")):
        h.update(f.relative_to(root).as_posix().encode() + b"\0")
        h.update(f.read_bytes() + b"\0")
    return h.hexdigest()


def synth_key(settings: dict) -> str:
    """The data stage's key: the generator's settings and its source (a changed generator never reuses old data)."""
    return digest({"synth": settings, "generator": generator_digest()})


def stage_data(exp, out: Path) -> Path:
    """The study's dataset: ``dataset.path``, or the synthetic benchmark generated into ``out/data`` (cached)."""
    d = exp.dataset
    if "path" in d:
        return Path(d["path"]).expanduser()
    if "synth" not in d:
        raise ValueError("dataset: give {path: DIR} or {synth: {preset: ..., seed: ...}}")
    s = {"preset": "small", "seed": exp.seed, "video": True, **(d["synth"] or {})}
    workers = int(s.pop("workers", 2))  # the files do not depend on the worker count, so it is not in the key
    stage = out / "data"
    key = synth_key(s)
    root = stage / "dataset"
    if is_done(stage, key) and root.is_dir():
        log.info("%s: cached synthetic %r dataset at %s", stage_name("data"), s["preset"], root)
        return root
    from microgesture.data.synth import generate, rendered_at
    from microgesture.progress import progress_bar

    log.info("%s: generating the synthetic benchmark (preset %s, seed %s)", stage_name("data"), s["preset"], s["seed"])
    t0 = time.time()
    if root.exists():
        shutil.rmtree(root)
    with progress_bar("data: recordings") as tick:
        preset = rendered_at(s["preset"], s["frame_size"]) if "frame_size" in s else s["preset"]
        generate(root, preset=preset, seed=int(s["seed"]), video=bool(s["video"]), workers=workers, progress=tick)
    mark_done(stage, key, seconds=time.time() - t0)
    return root
