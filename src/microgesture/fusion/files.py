"""``fuse_files``: load prediction files, fuse with several methods, write the results; and the CLI's helpers."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from pathlib import Path

from microgesture.atomic import write_text
from microgesture.fusion.config import WEIGHT_PRESETS, FusionConfig, FusionError
from microgesture.fusion.core import check_inputs, fuse, model_names
from microgesture.metrics import classification_report
from microgesture.predictions import Predictions, load_predictions, save_predictions

log = logging.getLogger(__name__)

def _report(p: Predictions | None) -> dict | None:
    if p is None or not (p.labels >= 0).any():
        return None
    return classification_report(p.logits, p.labels, p.classes)


def fuse_files(
    val_paths: list[str | os.PathLike] | None,
    test_paths: list[str | os.PathLike] | None,
    *,
    methods: list[str],
    out: str | os.PathLike,
    config: FusionConfig | None = None,
    names: list[str] | None = None,
    overwrite: bool = False,
    tune_on_test: bool = False,
) -> dict:
    """Load, fuse with each of ``methods``, and write to ``out``.

    Refuses an ``out`` that holds a result (``metrics.json``, ``fusion.json``, ``fused_*.npz``: a fusion's or a run's)
    unless ``overwrite``, and "val" predictions of the test split (tuning weights and temperatures on test labels)
    unless ``tune_on_test``, which is then recorded in fusion.json and logged as a warning.

    Writes ``fused_<method>_<split>.npz`` (the predictions contract), ``metrics.json`` (classification_report of every
    single model and every fusion, per split where labels exist) and ``fusion.json`` (the chosen weights, temperatures
    and notes of each method; ``primary`` = the first method). Returns the metrics dict.
    """
    if not methods:
        raise FusionError("no fusion method given")
    cfg = config or FusionConfig()
    val = [load_predictions(p) for p in val_paths] if val_paths else None
    test = [load_predictions(p) for p in test_paths] if test_paths else None
    val, test = check_inputs(val, test)
    _refuse_test_as_val(val, test, tune_on_test)
    out = Path(out)
    old = _earlier_result(out, overwrite)
    ref = val or test
    assert ref is not None
    nm = model_names(ref, names)
    metrics: dict = {"names": list(nm), "models": {}, "fusions": {}}
    for i, name in enumerate(nm):
        metrics["models"][name] = {s: r for s, ps in (("val", val), ("test", test))
                                   if ps and (r := _report(ps[i])) is not None}
    record: dict = {"primary": methods[0], "names": list(nm), "config": asdict(cfg),
                    "inputs": {"val": [p.source for p in val or []], "test": [p.source for p in test or []]},
                    "tuned_on_test": bool(tune_on_test and val), "methods": {}}
    results = [fuse(val, test, method=method, config=cfg, names=list(nm)) for method in methods]  # all, then write
    for method, res in zip(methods, results, strict=True):
        files = {}
        for split, p in (("val", res.val), ("test", res.test)):
            if p is not None:
                files[split] = str(save_predictions(out / f"fused_{method}_{split}.npz", p))
        record["methods"][method] = {**res.params, "files": files}
        metrics["fusions"][method] = {s: r for s, p in (("val", res.val), ("test", res.test))
                                      if (r := _report(p)) is not None}
    written = {Path(f) for r in record["methods"].values() for f in r["files"].values()}
    for p in old:  # an earlier result's files that this one does not replace
        if p.suffix == ".npz" and p not in written:
            p.unlink()
    write_text(out / "metrics.json", json.dumps(metrics, indent=1) + "\n")
    write_text(out / "fusion.json", json.dumps(record, indent=2, default=float) + "\n")
    for method, r in record["methods"].items():
        for note in r.get("notes", []) + ([r["val_note"]] if "val_note" in r else []):
            log.warning("%s: %s", method, note)
    log.info("wrote %s: fused_<method>_<split>.npz, metrics.json, fusion.json", out)
    return metrics


def _earlier_result(out: Path, overwrite: bool) -> list[Path]:
    """The files of a result already in ``out``; an error unless ``overwrite``."""
    old = [p for p in (out / "metrics.json", out / "fusion.json") if p.exists()] + sorted(out.glob("fused_*.npz"))
    if old and not overwrite:
        raise FusionError(f"{old[0]}: exists (a finished result in {out}); pass --overwrite to replace it, or "
                          f"choose another --out")
    return old


def _refuse_test_as_val(val: list[Predictions] | None, test: list[Predictions] | None, allowed: bool) -> None:
    """Weights and temperatures searched on test labels make the test score meaningless: refuse, unless asked."""
    for p in val or []:
        split = p.meta.get("split")
        same = bool(test) and set(p.clip_ids.tolist()) == set(test[0].clip_ids.tolist())
        if split == "test" or same:
            why = "holds predictions of the test split" if split == "test" else "holds the same clips as --test"
            if not allowed:
                raise FusionError(f"{p.source or 'predictions'}: given as --val but {why}: weights and temperatures "
                                  "would be tuned on test labels; pass the val predictions, or --tune-on-test to do "
                                  "it knowingly (recorded in fusion.json)")
            log.warning("%s: --tune-on-test: weights and temperatures are tuned on test labels; the test scores "
                        "are optimistic", p.source or "predictions")
            return


def results_table(metrics: dict, *, title: str = "fusion"):
    """A rich Table of top-1 and macro-F1 (%) per model and fusion, per split with labels."""
    from rich.table import Table

    splits = [s for s in ("val", "test")
              if any(s in r for group in ("models", "fusions") for r in metrics[group].values())]
    t = Table(title=title)
    t.add_column("model / fusion")
    for s in splits:
        t.add_column(f"{s} top-1", justify="right")
        t.add_column(f"{s} macro-F1", justify="right")
    for group in ("models", "fusions"):
        for name, r in metrics[group].items():
            cells = []
            for s in splits:
                cells += [f"{100 * r[s]['top1']:.2f}", f"{100 * r[s]['macro_f1']:.2f}"] if s in r else ["-", "-"]
            t.add_row(name if group == "models" else f"[bold]{name}[/]", *cells)
    return t


def parse_tau(text: str | None) -> float | str | None:
    """``--tau``: None, ``"fit"`` or a number."""
    if text is None or text == "fit":
        return text
    try:
        return float(text)
    except ValueError:
        raise FusionError(f"--tau: expected a number or 'fit', got {text!r}") from None


def parse_weights(text: str) -> tuple[float, ...] | str:
    """``"0.2,0.2,0.5"`` -> floats; a preset name is returned as is."""
    if text in WEIGHT_PRESETS:
        return text
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise FusionError(f"--weights: expected comma-separated numbers or a preset "
                          f"({', '.join(WEIGHT_PRESETS)}), got {text!r}") from None
