"""Atomic writes: a file or a directory appears whole under its final name, or not at all.

Everything a command writes goes through here, so a killed or failing command never leaves a half-written result,
and a reader never sees one. The temporary is a hidden sibling (same file system, so the rename is atomic) named
``.<stem>.tmp-<pid><suffix>``; :func:`sweep` removes those of processes that died before they could clean up.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_dir", "write_text", "write_json", "temp_sibling", "sweep"]


def temp_sibling(path: str | os.PathLike) -> Path:
    """The temporary name for ``path``: hidden, beside it, tagged with this process id, same suffix.

    The suffix is kept last because some writers append one when it is missing (``np.savez`` adds ``.npz``).
    """
    path = Path(path)
    return path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary file path to write; on success it replaces ``path``, on an exception it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh temporary directory; on success it takes the place of ``path`` (an old one is removed).

    The caller decides beforehand whether replacing an existing ``path`` is allowed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        if path.exists():
            # Two renames, so ``path`` is never missing a whole dataset's worth of time; the old copy goes last.
            trash = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, trash)
            os.replace(tmp, path)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json(path: str | os.PathLike, obj: object) -> Path:
    """Write ``obj`` as indented JSON (with a final newline) atomically."""
    return write_text(path, json.dumps(obj, indent=2, default=str) + "\n")


_TEMP = re.compile(r"^\.(?P<stem>.+)\.(?:tmp|old)-(?P<pid>\d+)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep(directory: str | os.PathLike) -> list[Path]:
    """Remove the temporaries in ``directory`` left by processes that no longer run; return what was removed."""
    directory = Path(directory)
    removed = []
    if not directory.is_dir():
        return removed
    for p in directory.iterdir():
        m = _TEMP.match(p.name)
        if m and int(m["pid"]) != os.getpid() and not _alive(int(m["pid"])):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(p)
    return removed
