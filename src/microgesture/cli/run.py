"""``microgesture run | demo``: whole studies (library: microgesture.runner)."""

from __future__ import annotations

import typer

from microgesture.cli.common import UserError, app, path, show

SIZE_HELP = ("cpu: every branch at its CPU-sized variant (the demo's sizes; docs/cost.md); recipe: every branch at "
             "its recipe; default: as the study says")
LOGGER_HELP = ("every branch's logger: tensorboard (default when installed), csv, wandb or mlflow; logs/metrics.csv is "
               "always written")


@app.command("run")
def run_cmd(
    experiment: str = typer.Argument(..., help="experiment YAML, or a shipped name: demo, aim, mm_gesture"),
    out: str = typer.Option("", "--out", "-o", help="study directory (default runs/<name>)"),
    set_: list[str] = typer.Option(None, "--set", help="override, e.g. --set branch_overrides.train.epochs=2"),
    smoke: bool = typer.Option(False, "--smoke", help="instead: each branch at full size, 2 steps + 1 prediction "
                                                      "on a generated iMiGUE-shaped dataset (microgesture.smoke)"),
    only: str = typer.Option("", "--only", help="with --smoke: these branches (comma-separated)"),
    size: str = typer.Option("", "--size", help=SIZE_HELP),
    logger: str = typer.Option(None, "--logger", help=LOGGER_HELP),
) -> None:
    """Run a whole study: branches, fusion, pseudo-labelling if asked, report. Reruns skip finished stages."""
    from microgesture.config import parse_overrides
    from microgesture.runner import load_experiment

    try:
        exp = load_experiment(experiment, _with_size(parse_overrides(set_), size))
    except ValueError as e:
        raise UserError(str(e)) from None
    if smoke:
        from microgesture.smoke import run_smoke, smoke_table

        try:
            rows = run_smoke(exp, path(out or f"runs/{exp.name}-smoke"), names=only.split(",") if only else None)
        except KeyError as e:
            raise UserError(str(e).strip("'\"")) from None
        except ValueError as e:  # --size cpu on a branch without a CPU-sized variant
            raise UserError(str(e)) from None
        show(smoke_table(rows, title=f"{exp.name}: smoke at full size"))
        return
    _run(exp, path(out or f"runs/{exp.name}"), logger)


@app.command("demo")
def demo_cmd(
    out: str = typer.Option("runs/demo", "--out", "-o"),
    preset: str = typer.Option("small", "--preset", help="synthetic preset: tiny, small or full"),
    seed: int = typer.Option(0, "--seed"),
    set_: list[str] = typer.Option(None, "--set", help="override the demo config, as for `microgesture run`"),
    size: str = typer.Option("", "--size", help="recipe: the branches at their recipes' sizes (for a GPU); cpu: as the "
                                                "demo is (its default)"),
    logger: str = typer.Option(None, "--logger", help=LOGGER_HELP),
) -> None:
    """Generate the synthetic benchmark and run the demo study (configs/demo.yaml) end to end."""
    from microgesture.config import merge, parse_overrides
    from microgesture.runner import load_experiment

    over = merge({"seed": seed, "dataset": {"synth": {"preset": preset, "seed": seed}}}, parse_overrides(set_))
    try:
        exp = load_experiment("demo", _with_size(over, size))
    except ValueError as e:
        raise UserError(str(e)) from None
    _run(exp, path(out), logger)


def _with_size(over: dict, size: str) -> dict:
    return {**over, "size": size} if size else over


def _run(exp, out, logger: str | None) -> None:
    from microgesture.runner import run_experiment

    try:
        summary = run_experiment(exp, out=out, logger=logger)
    except ValueError as e:  # a branch config that does not resolve (found before anything is written)
        raise UserError(str(e)) from None
    _print_summary(summary)


def _print_summary(summary: dict) -> None:
    from microgesture.runner import summary_table

    show(summary_table(summary))
    if summary.get("pseudo_selected") == 0:
        show("[yellow]pseudo-labelling selected no test clip: nothing was retrained; no +pl rows[/]")
    if summary.get("transductive"):
        show("[yellow]rows marked +pl used pseudo-labelled test clips in training: transductive[/]")
    show(f"wall time {summary['seconds']:.0f} s; report: {', '.join(summary.get('report', []))}")
