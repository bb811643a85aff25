"""``microgesture version | layouts | branches``: what is installed."""

from __future__ import annotations

from rich.table import Table

from microgesture import __version__
from microgesture.cli.common import app, show


@app.command()
def version() -> None:
    """Print microgesture's version."""
    print(__version__)


@app.command("layouts")
def layouts_cmd() -> None:
    """List the keypoint layouts."""
    from microgesture.layouts import LAYOUTS

    t = Table("name", "joints", "edges", "centre", "source")
    for name, lay in sorted(LAYOUTS.items()):
        t.add_row(name, str(lay.num_joints), str(lay.num_edges), ",".join(lay.joints[i] for i in lay.center),
                  "openpose137 subset" if lay.source is not None else "-")
    show(t)

@app.command("branches")
def branches_cmd() -> None:
    """List the registered branches (modality, model, default recipe)."""
    from microgesture.branches import BRANCHES

    t = Table("branch", "modality", "description")
    for name, b in sorted(BRANCHES.items()):
        t.add_row(name, b.modality, b.description)
    show(t)
