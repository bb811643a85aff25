"""``microgesture run | demo``: whole studies (library: microgesture.runner)."""

from __future__ import annotations

import typer

from microgesture.cli.common import UserError, app, path, show


@app.command("run")
def run_cmd(
    experiment: str = typer.Argument(..., help="experiment YAML, or a shipped name: demo, aim, mm_gesture"),
    out: str = typer.Option("", "--out", "-o", help="study directory (default runs/<name>)"),
    set_: list[str] = typer.Option(None, "--set", help="override, e.g. --set branch_overrides.train.epochs=2"),
    smoke: bool = typer.Option(False, "--smoke", help="instead: each branch at full size, 2 steps + 1 prediction "
                                                      "on a generated iMiGUE-shaped dataset (microgesture.smoke)"),
    only: str = typer.Option("", "--only", help="with --smoke: these branches (comma-separated)"),
) -> None:
    """Run a whole study: branches, fusion, pseudo-labelling if asked, report. Reruns skip finished stages."""
    from microgesture.config import parse_overrides
    from microgesture.runner import load_experiment, run_experiment

    try:
        exp = load_experiment(experiment, parse_overrides(set_))
    except ValueError as e:
        raise UserError(str(e)) from None
    if smoke:
        from microgesture.smoke import run_smoke, smoke_table

        try:
            rows = run_smoke(experiment, path(out or f"runs/{exp.name}-smoke"), names=only.split(",") if only else None)
        except KeyError as e:
            raise UserError(str(e).strip("'\"")) from None
        show(smoke_table(rows, title=f"{exp.name}: smoke at full size"))
        return
    try:
        summary = run_experiment(exp, out=path(out or f"runs/{exp.name}"))
    except ValueError as e:  # a branch config that does not resolve (found before anything is written)
        raise UserError(str(e)) from None
    _print_summary(summary)


@app.command("demo")
def demo_cmd(
    out: str = typer.Option("runs/demo", "--out", "-o"),
    preset: str = typer.Option("small", "--preset", help="synthetic preset: tiny, small or full"),
    seed: int = typer.Option(0, "--seed"),
    set_: list[str] = typer.Option(None, "--set", help="override the demo config, as for `microgesture run`"),
) -> None:
    """Generate the synthetic benchmark and run the demo study (configs/demo.yaml) end to end."""
    from microgesture.config import merge, parse_overrides
    from microgesture.runner import load_experiment, run_experiment

    over = merge({"seed": seed, "dataset": {"synth": {"preset": preset, "seed": seed}}}, parse_overrides(set_))
    exp = load_experiment("demo", over)
    summary = run_experiment(exp, out=path(out))
    _print_summary(summary)


def _print_summary(summary: dict) -> None:
    from microgesture.runner import summary_table

    show(summary_table(summary))
    if summary.get("pseudo_selected") == 0:
        show("[yellow]pseudo-labelling selected no test clip: nothing was retrained; no +pl rows[/]")
    if summary.get("transductive"):
        show("[yellow]rows marked +pl used pseudo-labelled test clips in training: transductive[/]")
    show(f"wall time {summary['seconds']:.0f} s; report: {', '.join(summary.get('report', []))}")
