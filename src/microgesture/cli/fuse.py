"""``microgesture fuse`` and ``pseudo-label`` (library: microgesture.fusion, microgesture.pseudo)."""

from __future__ import annotations

import typer

from microgesture.cli.common import UserError, app, console, path, show


def _file_lists(args: list[str], keys: tuple[str, ...]) -> dict[str, list[str]]:
    """``--val a.npz b.npz --test c.npz,d.npz`` (space- or comma-separated, or repeated) -> {key: [files]}."""
    out: dict[str, list[str]] = {k: [] for k in keys}
    cur = None
    for a in args:
        if a.startswith("--"):
            key, eq, val = a.partition("=")
            if key not in keys:
                raise UserError(f"unknown option {key}")
            cur, vals = key, ([val] if eq else [])
        elif cur is None:
            raise UserError(f"unexpected argument {a!r}")
        else:
            vals = [a]
        for v in vals:
            out[cur] += [x for x in v.split(",") if x]
    return out


@app.command("fuse", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def fuse_cmd(
    ctx: typer.Context,
    out: str = typer.Option(..., "--out", help="Output directory."),
    method: str = typer.Option("temperature", help="mean|weighted|temperature|stacking; comma-separate several "
                               "(all are written and compared; the first is primary)."),
    weights: str = typer.Option(None, help="Comma-separated weights, or the preset 'mm-gesture'."),
    objective: str = typer.Option("top1", help="Weight-search objective on val: top1 or macro_f1."),
    tau: str = typer.Option(None, help="'fit' (per model, NLL on val) or a number; default fit, or 2.5 without val."),
    names: str = typer.Option(None, help="Comma-separated model names (default: meta branch or file name)."),
    step: float = typer.Option(0.05, help="Simplex grid step of the weight search."),
    stacker: str = typer.Option("logreg", help="Stacking model: logreg, or lightgbm (needs the lightgbm extra)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a result already in --out."),
    tune_on_test: bool = typer.Option(False, "--tune-on-test", help="Accept test predictions as --val (weights and "
                                      "temperatures tuned on test labels: optimistic scores; recorded)."),
) -> None:
    """Fuse predictions: --val A.npz B.npz ... --test A.npz B.npz ... (same model order in both lists)."""
    from microgesture.fusion import FusionConfig, FusionError, fuse_files, parse_tau, parse_weights, results_table
    from microgesture.predictions import PredictionsError

    files = _file_lists(ctx.args, ("--val", "--test"))
    methods = [m.strip() for m in method.split(",") if m.strip()]
    try:
        cfg = FusionConfig(weights=parse_weights(weights) if weights else None, tau=parse_tau(tau),
                           objective=objective, step=step, stacker=stacker)
        metrics = fuse_files(files["--val"] or None, files["--test"] or None, methods=methods, out=path(out),
                             config=cfg, names=names.split(",") if names else None, overwrite=overwrite,
                             tune_on_test=tune_on_test)
    except (FusionError, PredictionsError) as e:
        raise UserError(str(e)) from None
    show(results_table(metrics, title=f"fusion ({', '.join(methods)})"))


@app.command("pseudo-label")
def pseudo_label_cmd(
    predictions: str = typer.Option(..., help="Fused test predictions (.npz)."),
    dataset: str = typer.Option(..., help="Dataset directory the predictions are for."),
    out: str = typer.Option(..., help="New dataset directory (train + val + test + pseudo-labelled copies)."),
    threshold: float = typer.Option(0.65, min=0.0, max=0.999999, help="Keep clips with max probability > this."),
    per_class: float = typer.Option(0.0, min=0.0, max=1.0, help="Also keep the most confident share of the clips "
                                    "predicted as each class (class-balanced; 0 = off, AIM's rule alone)."),
    splits: str = typer.Option("test", help="Comma-separated splits to pseudo-label."),
    note: str = typer.Option("", help="Free text stored in the header and the report."),
    overwrite: bool = typer.Option(False, help="Replace --out if it exists."),
) -> None:
    """Cross-modal pseudo-labelling (AIM CMPL). Transductive: it uses the unlabelled test clips."""
    import warnings

    from rich.panel import Panel

    from microgesture.predictions import PredictionsError
    from microgesture.pseudo import REPORT_FILE, TransductiveWarning, load_report, pseudo_label, summary_table

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TransductiveWarning)  # printed below, louder
            d2 = pseudo_label(path(dataset), path(predictions), threshold=threshold, per_class=per_class,
                              out=path(out), splits=tuple(s for s in splits.split(",") if s), note=note,
                              overwrite=overwrite)
    except PredictionsError as e:
        raise UserError(str(e)) from None
    report = load_report(d2)
    console.print(Panel(report["warning"], title="transductive", style="bold yellow"))
    show(summary_table(report))
    console.print(f"wrote {d2} ({report['selected']} pseudo-labelled clips; report {d2 / REPORT_FILE})")
