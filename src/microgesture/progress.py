"""One progress bar style for long library calls that report ``progress(done, total)`` (synthetic generation,
extraction): a rich bar on stderr, which rich turns into plain lines when stderr is not a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

__all__ = ["progress_bar"]


@contextmanager
def progress_bar(description: str, *, console: Console | None = None) -> Iterator[Callable[[int, int], None]]:
    """``with progress_bar("data") as tick: work(progress=tick)``; ``tick(done, total)`` moves the bar."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("eta"), TimeRemainingColumn())
    with Progress(*columns, console=console or Console(stderr=True), transient=False) as bar:
        task = bar.add_task(description, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield tick
