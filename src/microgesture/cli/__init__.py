"""The ``microgesture`` command line. Commands are thin: each parses its arguments, calls one library function and
prints the result; one module per command group.

Errors a user can fix (bad files, mismatched ids, leaking splits) are printed as one clear message and exit code 2;
set ``MICROGESTURE_DEBUG=1`` for the traceback. Library log records (INFO and up) are shown on stderr through rich.
"""

from __future__ import annotations

import importlib
import os
import sys

from microgesture.cli.common import UserError, app, console, data_app, setup_logging

# Importing a command module registers its commands; this order is the order of ``microgesture --help``.
for _name in ("info", "fuse", "train", "extract", "data", "run", "detect", "predict", "export"):
    importlib.import_module(f"microgesture.cli.{_name}")

__all__ = ["app", "data_app", "main", "UserError"]


def main(argv: list[str] | None = None) -> None:
    """Run the command line (the ``microgesture`` entry point)."""
    from microgesture.data.format import DatasetError

    setup_logging()
    try:
        # standalone mode: click/typer handle usage errors and --help themselves.
        app(args=argv, prog_name="microgesture")
    except (UserError, DatasetError, FileExistsError, FileNotFoundError) as e:
        if os.environ.get("MICROGESTURE_DEBUG"):
            raise
        console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        sys.exit(2)
