"""``microgesture extract`` (library: microgesture.extract)."""

from __future__ import annotations

import typer

from microgesture.cli.common import UserError, app, path


@app.command("extract")
def extract_cmd(
    modality: str = typer.Argument(..., help="taylor, flow or depth."),
    dataset: str = typer.Argument(..., help="Dataset directory; videos go to DATASET/<modality>/<clip_id>.mp4."),
    shard: str = typer.Option("0/1", help="I/N: do clips k with k % N == I (0-based), for cluster job arrays."),
    device: str = typer.Option("cpu", help="cpu or cuda (Taylor, RAFT flow, depth; DIS is CPU only)."),
    workers: int = typer.Option(1, min=1, help="Processes for this shard."),
    merge: bool = typer.Option(False, "--merge", help="Only rebuild the <modality>_path column from the files on "
                               "disk and summarise the shard reports (after a job array)."),
    overwrite: bool = typer.Option(False, help="Redo clips whose output exists (all shards, to change settings)."),
    crf: int = typer.Option(23, help="H.264 quality of the outputs (lower = larger, better)."),
    terms: int = typer.Option(None, help="Taylor: number of terms K (3)."),
    window: int = typer.Option(None, help="Taylor: window L in frames (6)."),
    scale: str = typer.Option(None, help="Taylor: 'frame' (one factor per output frame, MM-Gesture) or 'channel'."),
    gray: str = typer.Option(None, help="Taylor: 'uint8' (OpenCV's 8-bit gray, MM-Gesture) or 'float' (unrounded)."),
    method: str = typer.Option(None, help="Flow: dis (CPU, default), raft_small or raft_large."),
    preset: str = typer.Option(None, help="Flow: DIS preset ultrafast, fast or medium (medium)."),
    weights: str = typer.Option(None, help="Flow: RAFT weights, DEFAULT (torchvision download) or a local .pth."),
    max_flow: str = typer.Option(None, help="Flow: colour scale, 'frame' (default, MM-Gesture), 'clip' or pixels."),
    model: str = typer.Option(None, help="Depth: Hugging Face id or local directory (Depth-Anything-V2-Small-hf)."),
    input_size: int = typer.Option(None, help="Depth: short side fed to the model (518)."),
    batch_size: int = typer.Option(None, help="Depth / RAFT: frames per forward pass."),
) -> None:
    """Extract a derived video modality for every clip; resumable. Exit 1 if a clip failed (--merge: is missing)."""
    from microgesture.extract import MODALITIES
    from microgesture.extract.runner import ExtractError, RunConfig, make_config, parse_shard, run_extraction
    from microgesture.extract.runner import merge as merge_shards

    if modality not in MODALITIES:
        raise UserError(f"unknown modality {modality!r}; choose one of {', '.join(MODALITIES)}")
    if merge:
        if merge_shards(path(dataset), modality).missing:
            raise typer.Exit(1)
        return
    try:
        mf = max_flow if max_flow in (None, "clip", "frame") else float(max_flow)
    except ValueError:
        raise UserError(f"--max-flow: expected pixels, 'clip' or 'frame', got {max_flow!r}") from None
    try:
        i, n = parse_shard(shard)
        cfg = make_config(modality, device=device, terms=terms, window=window, scale=scale, gray=gray, method=method,
                          preset=preset, weights=weights, max_flow=mf, model=model, input_size=input_size,
                          batch_size=batch_size)
        rep = run_extraction(path(dataset), modality, cfg,
                             RunConfig(shard=i, num_shards=n, workers=workers, overwrite=overwrite, crf=crf))
    except ExtractError as e:
        raise UserError(str(e)) from None
    if rep.failed:
        raise typer.Exit(1)
