"""``microgesture export`` (library: microgesture.export)."""

from __future__ import annotations

import typer

from microgesture.cli.common import UserError, app, console, path


@app.command("export")
def export_cmd(
    run: str = typer.Argument(..., help="run directory, model.ckpt or a Lightning checkpoint"),
    fmt: str = typer.Option("torchscript", "--format", "-f", help="torchscript or onnx"),
    out: str = typer.Option(..., "--out", "-o", help="file to write (.pt for TorchScript, .onnx for ONNX)"),
) -> None:
    """Export a skeleton or heatmap branch (test views -> logits; heatmaps drawn inside the graph)."""
    from microgesture.export import ExportError, export

    try:
        p = export(path(run), fmt=fmt, out=path(out))
    except ExportError as e:
        raise UserError(str(e)) from None
    console.print(f"exported {run} ({fmt}) -> {p}")
