"""Progress of long work, one style for every command.

Library calls that take more than a few seconds wrap their loop in :func:`track` (or report ``tick(done, total)``
through :func:`progress_bar`). On a terminal that draws a rich bar with elapsed time and ETA on stderr. In quiet mode
(``microgesture --quiet``, and automatically when stderr is not a terminal: CI, ``> log 2>&1``) no bar is drawn and
each stage logs one line when it ends (``predict test: 340 clips in 12 s``), so logs hold no bar redraws.

Training reports through :class:`microgesture.clock.RunClock`, a Lightning callback that shows the whole run (epochs,
validation and the prediction passes after it) with an ETA, and logs an estimate of the whole run measured on its
first steps (see :mod:`microgesture.sizes` for the advice when a GPU recipe runs on a CPU).

:func:`silence_third_party` quiets other libraries' log noise (Lightning's tips and device lines, its
"possible user" warnings, TF-Lite / absl in MediaPipe); ``microgesture --verbose`` keeps it. Our own warnings stay.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

__all__ = ["progress_bar", "track", "set_mode", "quiet", "verbose", "silence_third_party", "format_seconds",
           "begin_stages", "stage", "run_child", "is_noise", "QUIET_ENV", "VERBOSE_ENV"]

log = logging.getLogger(__name__)
T = TypeVar("T")
# The CLI's choices travel to child processes (pose environment, DDP workers) through the environment.
QUIET_ENV, VERBOSE_ENV = "MICROGESTURE_QUIET", "MICROGESTURE_VERBOSE"
_console = Console(stderr=True)


def set_mode(*, quiet_: bool | None = None, verbose_: bool | None = None) -> None:
    """Set quiet (no bars, one line per stage) and verbose (third-party logs kept) for this process and its
    children; None leaves a setting as it is (quiet defaults to "stderr is not a terminal")."""
    for env, value in ((QUIET_ENV, quiet_), (VERBOSE_ENV, verbose_)):
        if value is not None:
            os.environ[env] = "1" if value else "0"


def quiet() -> bool:
    """True when bars must not be drawn: asked for, or stderr is not a terminal."""
    v = os.environ.get(QUIET_ENV)
    if v is not None and v != "":
        return v == "1"
    return not _console.is_terminal


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV) == "1"


def format_seconds(s: float) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 07 min``."""
    s = max(0.0, float(s))
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


def _columns() -> tuple:
    return (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("eta"), TimeRemainingColumn())


@contextmanager
def progress_bar(description: str, *, unit: str = "", console: Console | None = None
                 ) -> Iterator[Callable[[int, int], None]]:
    """``with progress_bar("data") as tick: work(progress=tick)``; ``tick(done, total)`` moves the bar.

    Quiet mode draws nothing and logs ``description: N unit in T`` once, when the block ends without an error.
    """
    state = {"done": 0, "total": 0}
    t0 = time.perf_counter()
    if quiet():
        def tick(done: int, total: int) -> None:
            state["done"], state["total"] = done, total

        yield tick
        n = f"{state['done']} {unit}".strip() if state["done"] else "done"
        log.info("%s: %s in %s", description, n, format_seconds(time.perf_counter() - t0))
        return
    with Progress(*_columns(), console=console or _console, transient=False) as bar:
        task = bar.add_task(description, total=None)

        def tick(done: int, total: int) -> None:  # noqa: F811 - the bar's own tick
            bar.update(task, completed=done, total=total)

        yield tick


def track(items: Iterable[T], description: str, *, total: int | None = None, unit: str = "",
          weight: Callable[[T], int] | None = None) -> Iterator[T]:
    """Iterate ``items`` with a bar (or one line in quiet mode). ``weight(item)`` counts an item as several
    (a batch as its clips); ``total`` is then the sum of the weights."""
    if total is None:
        total = len(items) if hasattr(items, "__len__") else 0  # type: ignore[arg-type]
    with progress_bar(description, unit=unit) as tick:
        done = 0
        tick(0, total)
        for item in items:
            yield item
            done += weight(item) if weight else 1
            tick(done, max(total, done))


def silence_third_party(*, keep: bool | None = None) -> None:
    """Quiet other libraries' noise unless ``keep`` (default: :func:`verbose`): Lightning's INFO lines ("GPU
    available: False", "💡 Tip: ...", "LOCAL_RANK"), its PossibleUserWarning (few workers, logging interval), and
    TensorFlow-Lite / absl / glog lines of child processes (MediaPipe reads these variables at start-up)."""
    if verbose() if keep is None else keep:
        return
    # Lightning sets its loggers to INFO when it is imported, so this runs again once it is (RunClock calls it); it is
    # not imported here, to keep torch out of commands that do not need it.
    for name in ("lightning.pytorch", "lightning.fabric", "lightning", "pytorch_lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "2")
    # Lightning's advice to use `litlogger` / `litmodels`, printed on every fit
    warnings.filterwarnings("ignore", message=r".*(litlogger|litmodels|LitLogger).*")
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")  # Lightning vs new torch
    if "lightning.fabric" in sys.modules:
        from lightning.fabric.utilities.warnings import PossibleUserWarning

        warnings.filterwarnings("ignore", category=PossibleUserWarning)


# Lines of MediaPipe's TF-Lite and absl/glog logging; absl's C++ log writes them before any flag or variable is read,
# so they are dropped from the child's stderr instead. Errors (E...) and fatal (F...) lines are kept.
_NOISE = re.compile(r"^(INFO: (Created|Initialized) TensorFlow Lite|WARNING: All log messages before absl::"
                    r"InitializeLog|[IW]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\])")


def is_noise(line: str) -> bool:
    """True for a third-party log line that :func:`run_child` drops (unless verbose)."""
    return bool(_NOISE.match(line))


def run_child(cmd: list[str], *, env: dict | None = None) -> int:
    """Run ``cmd`` with its stdout ours and its stderr forwarded line by line as it comes, less third-party noise
    (:func:`is_noise`) unless verbose; returns the exit code."""
    if verbose():
        return subprocess.run(cmd, env=env).returncode
    with subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True, errors="replace", bufsize=1) as p:
        for line in p.stderr:  # type: ignore[union-attr]
            if not is_noise(line):
                sys.stderr.write(line)
                sys.stderr.flush()
    return p.returncode


_stages = {"done": 0, "total": 0}


def begin_stages(total: int) -> None:
    """Start counting the stages of a study (data, each branch, fusion, ...): :func:`stage` numbers them."""
    _stages.update(done=0, total=total)


def stage(name: str) -> str:
    """``[3/8, 5 left] name`` for the next stage of a study begun with :func:`begin_stages`; ``name`` outside one."""
    if not _stages["total"]:
        return name
    _stages["done"] = min(_stages["done"] + 1, _stages["total"])
    k, n = _stages["done"], _stages["total"]
    return f"[{k}/{n}, {n - k} left] {name}"
