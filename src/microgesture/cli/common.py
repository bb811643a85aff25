"""What every command module shares: the typer apps, the stderr console, user errors, path and table helpers."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

app = typer.Typer(no_args_is_help=True, add_completion=False, help="microgesture: micro-gesture recognition toolkit.")
data_app = typer.Typer(no_args_is_help=True, add_completion=False, help="Datasets: import, synthesise, check, stats.")
app.add_typer(data_app, name="data")
console = Console(stderr=True, soft_wrap=True)  # messages and logs, unwrapped; tables and results go to stdout


class UserError(Exception):
    """An error caused by the user's input; printed without a traceback."""


def path(p: str) -> Path:
    return Path(p).expanduser()


def opt_path(p: str | None) -> Path | None:
    return path(p) if p else None


def size(text: str | None, flag: str) -> tuple[int, int] | None:
    """``"1280x720"`` -> (1280, 720); None for an empty value."""
    if not text:
        return None
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise UserError(f"{flag} {text!r}: expected WxH, e.g. 1280x720") from None
    return w, h


# Test views other than the run's, for `evaluate` and `predict` (microgesture.train.resolve.TEST_VIEW_KEYS)
TEST_CLIPS = typer.Option(0, "--test-clips", min=0, help="temporal views per clip (0: the run's)")
FLIP_TEST = typer.Option(None, "--flip-test/--no-flip-test", help="add each view's mirrored copy (flip TTA); "
                                                                   "default: the run's")
TEST_CROPS = typer.Option(0, "--test-crops", min=0, help="spatial crops per view, RGB (0: the run's)")


def test_views(test_clips: int, flip_test: bool | None, test_crops: int) -> dict | None:
    """The ``test_views`` of :func:`microgesture.train.load_checkpoint` from the options above; None: the run's."""
    views = {"num_test_clips": test_clips or None, "flip_test": flip_test, "test_crops": test_crops or None}
    return {k: v for k, v in views.items() if v is not None} or None


def show(renderable) -> None:
    """Print a result (a table) to stdout."""
    Console().print(renderable)


def print_metrics(metrics: dict, *, title: str) -> None:
    """A table of the classification metrics of each split present in ``metrics``."""
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
    show(t)


class _Stderr:
    """Whatever ``sys.stderr`` is when a record is written (pytest and CliRunner swap it; a handler holding the
    stream it was made with writes to a closed file)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def setup_logging(level: int = logging.INFO) -> Callable[[], None]:
    """Show the library's log records (``microgesture.*``, INFO and up) and others' warnings on the stderr console.

    Installed on the root logger (so pytest's caplog and other handlers keep working), once however often it is
    called; returns the function that removes it again (a no-op when it was there already), which the app calls when
    a command ends, so a process that runs commands in-process (tests, notebooks) does not keep printing logs.
    """
    root = logging.getLogger()
    logging.getLogger("microgesture").setLevel(level)
    if any(getattr(h, "_microgesture", False) for h in root.handlers):
        return lambda: None
    old_level = root.level
    if console.is_terminal:
        handler: logging.Handler = RichHandler(console=console, show_time=False, show_path=False, markup=False,
                                               rich_tracebacks=False, keywords=[])
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:  # logs and CI: one unwrapped line per record
        handler = logging.StreamHandler(_Stderr())
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler._microgesture = True
    root.addHandler(handler)
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)

    def remove() -> None:
        root.removeHandler(handler)
        root.setLevel(old_level)

    return remove


@app.callback()
def _setup(
    ctx: typer.Context,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bars: one line per stage (automatic when "
                                                            "stderr is not a terminal)"),
    verbose: bool = typer.Option(False, "--verbose", help="keep other libraries' log lines (Lightning, TF-Lite)"),
) -> None:
    """microgesture: micro-gesture recognition toolkit."""
    from microgesture.progress import set_mode, silence_third_party

    set_mode(quiet_=True if quiet else None, verbose_=verbose)
    silence_third_party()
    ctx.call_on_close(setup_logging())  # the handler lives as long as the command
