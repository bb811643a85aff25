"""``microgesture predict`` (library: microgesture.api)."""

from __future__ import annotations

from pathlib import Path

import typer

from microgesture.cli.common import FLIP_TEST, TEST_CLIPS, TEST_CROPS, UserError, app, console, path, test_views


@app.command("predict")
def predict_cmd(
    run: str = typer.Argument(..., help="run directory, model.ckpt or a Lightning checkpoint"),
    inputs: list[str] = typer.Argument(..., help="videos, pose .npz files (microgesture pose), or one dataset "
                                                 "directory (with --split)"),
    out: str = typer.Option(..., "--out", "-o", help="CSV to write: id, [label], prediction, one column per class"),
    split: str = typer.Option("test", "--split", help="the dataset split to predict, when INPUT is a dataset"),
    test_clips: int = TEST_CLIPS,
    flip_test: bool | None = FLIP_TEST,
    test_crops: int = TEST_CROPS,
) -> None:
    """Class probabilities of videos, skeleton files or a dataset split, with the run's own test pipeline (or other
    test views: --test-clips, --flip-test, --test-crops)."""
    import numpy as np

    from microgesture.api import PredictError, load, write_probs_csv

    try:
        model = load(path(run), test_views=test_views(test_clips, flip_test, test_crops))
        if len(inputs) == 1 and Path(inputs[0]).is_dir():
            p = model.predict_dataset(path(inputs[0]), split)
            probs, ids, labels = p.probs(), list(p.clip_ids), [int(v) for v in p.labels]
            labels = labels if any(v >= 0 for v in labels) else None
        else:
            rows = model.predict_many([path(x) for x in inputs])
            probs = np.array([[r[c] for c in model.classes] for r in rows])
            ids, labels = [Path(x).stem for x in inputs], None
    except (PredictError, KeyError) as e:
        raise UserError(str(e).strip("'\"")) from None
    write_probs_csv(path(out), ids, probs, model.classes, labels=labels)
    console.print(f"{len(ids)} predictions ({model.branch}) -> {out}")
