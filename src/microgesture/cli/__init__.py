"""The ``microgesture`` command line. Commands are thin: each parses its arguments, calls one library function and
prints the result; one module per command group.

Errors a user can fix (bad files, mismatched ids, leaking splits) are printed as one clear message and exit code 2;
set ``MICROGESTURE_DEBUG=1`` for the traceback. Library log records (INFO and up) are shown on stderr through rich.
"""

from __future__ import annotations

import importlib
import os
import sys

from rich.markup import escape

from microgesture.cli.common import UserError, app, console, data_app

# Importing a command module registers its commands; this order is the order of ``microgesture --help``.
for _name in ("info", "fuse", "train", "extract", "data", "run", "detect", "predict", "export"):
    importlib.import_module(f"microgesture.cli.{_name}")

__all__ = ["app", "data_app", "main", "UserError"]


# Errors of input a user can fix, by class name (so that catching them imports neither torch nor PyAV). Each names its
# file; the CLI prints them as one line and exits 2.
_USER_ERRORS = {"UserError", "DatasetError", "VideoError", "PredictionsError", "FusionError", "TrainingError",
                "AcceleratorError", "LoggerError", "DetectError", "PoseError"}


def user_message(e: BaseException) -> str | None:
    """The one-line message of an error the user can fix, or None for a bug (which keeps its traceback)."""
    names = {c.__name__ for c in type(e).__mro__ if c.__module__.startswith("microgesture")}
    if names & _USER_ERRORS:
        msg = str(e)
    elif isinstance(e, OSError) and e.filename is not None and e.strerror:  # permission, missing file, a directory
        msg = f"{e.filename}: {e.strerror}"
    elif isinstance(e, FileExistsError | FileNotFoundError | PermissionError):
        msg = str(e)
    else:
        return None
    lines = [line.strip() for line in msg.splitlines() if line.strip()]
    if "Original Traceback (most recent call last):" in lines:  # re-raised by a DataLoader worker: the last line
        return lines[-1].split(f"{type(e).__name__}: ", 1)[-1]
    return "; ".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the command line (the ``microgesture`` entry point)."""
    try:
        # standalone mode: click/typer handle usage errors and --help themselves.
        app(args=argv, prog_name="microgesture")
    except Exception as e:
        msg = user_message(e)
        if msg is None or os.environ.get("MICROGESTURE_DEBUG"):
            raise
        console.print(f"[bold red]error:[/] {escape(msg)}", highlight=False, soft_wrap=True)
        sys.exit(2)
