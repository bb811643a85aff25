"""``microgesture train | evaluate`` (library: microgesture.train)."""

from __future__ import annotations

import typer

from microgesture.cli.common import (
    FLIP_TEST,
    TEST_CLIPS,
    TEST_CROPS,
    UserError,
    app,
    path,
    print_metrics,
    show,
    test_views,
)


@app.command("train")
def train_cmd(
    dataset: str = typer.Option("", "--dataset", "-d", help="microgesture dataset directory (--smoke: default a "
                                                            "generated iMiGUE-shaped one)"),
    branch: str = typer.Option("joint-dstcnn", "--branch", "-b", help="branch name (see `microgesture branches`)"),
    out: str = typer.Option("", "--out", "-o", help="run directory to write (--smoke: default runs/BRANCH-smoke)"),
    config: str = typer.Option("", "--config", "-c", help="YAML config (sections: input, model, optim, schedule, "
                                                          "loss, train)"),
    set_: list[str] = typer.Option(None, "--set", help="override, e.g. --set train.epochs=5 --set input.layout=mmg36"),
    seed: int = typer.Option(None, "--seed", help="random seed (default: config's, else 0)"),
    resume: bool = typer.Option(False, "--resume", help="continue from OUT/checkpoints/last.ckpt (same config and "
                                "data only)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace the run already in OUT"),
    init_from: str = typer.Option("", "--init-from", help="checkpoint or run dir to transfer weights from"),
    devices: str = typer.Option("", "--devices", help="Lightning devices, e.g. 8 (GPUs)"),
    strategy: str = typer.Option("", "--strategy", help="Lightning strategy, e.g. ddp"),
    accelerator: str = typer.Option("", "--accelerator", help="cpu, gpu or auto"),
    no_check: bool = typer.Option(False, "--no-check", help="skip the dataset check (not recommended)"),
    size: str = typer.Option("recipe", "--size", help="recipe (the branch's, sized for GPUs) or cpu (the demo's "
                                                      "sizes; docs/cost.md)"),
    logger: str = typer.Option(None, "--logger", help="tensorboard (default when installed), csv, wandb or mlflow; "
                                                      "logs/metrics.csv is always written"),
    smoke: bool = typer.Option(False, "--smoke", help="instead: the branch at its configured size for 2 steps + 1 "
                                                      "prediction pass on a generated iMiGUE-shaped dataset, timed "
                                                      "(microgesture.smoke)"),
) -> None:
    """Train one branch; writes config, checkpoints, metrics.json and predictions for every split.

    Logs an estimate of the whole run (training and prediction) on this machine after its first steps."""
    from microgesture.config import load_yaml, merge, parse_overrides
    from microgesture.sizes import size_layer
    from microgesture.train import TrainingError, fit, resolve_config

    try:
        over = parse_overrides(set_)
        loop = {k: v for k, v in {"devices": devices, "strategy": strategy, "accelerator": accelerator}.items() if v}
        if loop:
            over = merge(over, {"train": loop})
        if init_from:
            over["init_from"] = init_from
        file_cfg = load_yaml(config) if config else {}
        # --size sits between the branch's recipe and the config file: the file and --set still override it
        file_cfg = merge(size_layer(over.get("branch") or file_cfg.get("branch") or branch, size), file_cfg)
        if smoke:
            return _smoke(over.pop("branch", None) or file_cfg.pop("branch", None) or branch, merge(file_cfg, over),
                          out=out, accelerator=accelerator or "auto", dataset=dataset)
        missing = [o for o, v in (("--dataset", dataset), ("--out", out)) if not v]
        if missing:
            raise UserError(f"train needs {' and '.join(missing)} (or --smoke)")
        cfg = resolve_config(branch=branch, dataset=dataset, file_cfg=file_cfg, overrides=over, seed=seed)
        metrics = fit(cfg, out=path(out), resume=resume, overwrite=overwrite, check=not no_check, logger=logger)
    except (TrainingError, KeyError, ValueError) as e:
        raise UserError(str(e).strip("'\"") if isinstance(e, KeyError) else str(e)) from None
    print_metrics(metrics, title=f"{cfg.branch} -> {out}")


def _smoke(branch: str, sections: dict, *, out: str, accelerator: str, dataset: str) -> None:
    """``train --smoke``: one branch, as configured (recipe, --size, --config, --set), through microgesture.smoke, on
    ``dataset`` when given, else on a generated iMiGUE-shaped one."""
    from microgesture.smoke import run_smoke_specs, smoke_spec, smoke_table
    from microgesture.train import resolve_config

    spec = smoke_spec({**sections, "branch": branch})
    resolve_config(branch=branch, overrides={k: v for k, v in spec.items() if k != "branch"})  # a typo fails here
    rows = run_smoke_specs({branch: spec}, path(out or f"runs/{branch}-smoke"), study="train", accelerator=accelerator,
                           dataset=path(dataset) if dataset else None)
    show(smoke_table(rows, title=f"{branch}: smoke at its configured size"))
    if rows[0].status != "ok":
        raise UserError(f"smoke of {branch}: {rows[0].status}")


@app.command("evaluate")
def evaluate_cmd(
    checkpoint: str = typer.Argument(..., help="model.ckpt, a Lightning checkpoint, or a run directory"),
    dataset: str = typer.Option(..., "--dataset", "-d"),
    split: str = typer.Option("test", "--split"),
    out: str = typer.Option("", "--out", "-o", help="predictions .npz to write"),
    test_clips: int = TEST_CLIPS,
    flip_test: bool | None = FLIP_TEST,
    test_crops: int = TEST_CROPS,
) -> None:
    """Predict a split with the checkpoint's own test pipeline and print its metrics. The test views can differ from
    the run's (--test-clips, --flip-test, --test-crops): the weights stay the checkpoint's."""
    from microgesture.train import TrainingError, evaluate

    views = test_views(test_clips, flip_test, test_crops)
    try:
        rep = evaluate(checkpoint, dataset=dataset, split=split, out=path(out) if out else None, test_views=views)
    except (TrainingError, KeyError) as e:
        raise UserError(str(e).strip("'\"") if isinstance(e, KeyError) else str(e)) from None
    shown = "".join(f", {k}={v}" for k, v in (views or {}).items())
    print_metrics({split: rep}, title=f"{checkpoint} on {dataset}:{split}{shown}")
