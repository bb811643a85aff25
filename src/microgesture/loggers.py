"""Where a run's curves go (``microgesture train --logger``): always ``OUT/logs/metrics.csv``, plus TensorBoard
(``OUT/tb``, the default), Weights & Biases or MLflow through Lightning's loggers when their package is installed.

W&B and MLflow are configured by their own environment variables (``WANDB_PROJECT``, ``WANDB_MODE=offline``,
``MLFLOW_TRACKING_URI``, ...); without a tracking URI, MLflow writes ``OUT/mlruns``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

__all__ = ["LOGGERS", "LoggerError", "check_logger", "make_loggers"]

# logger name -> the package it needs
LOGGERS = {"tensorboard": "tensorboard", "csv": None, "wandb": "wandb", "mlflow": "mlflow"}


class LoggerError(ValueError):
    """An unknown logger, or one whose package is not installed; printed as one line by the CLI."""


def _installed(package: str | None) -> bool:
    return package is None or importlib.util.find_spec(package) is not None


def check_logger(kind: str | None) -> str:
    """The logger to use: ``kind``, or TensorBoard when installed (else csv) for None. Raises :class:`LoggerError`
    for an unknown name or a missing package."""
    if kind is None or kind == "":
        return "tensorboard" if _installed("tensorboard") else "csv"
    if kind not in LOGGERS:
        raise LoggerError(f"--logger {kind!r}: expected one of {', '.join(LOGGERS)}")
    if not _installed(LOGGERS[kind]):
        raise LoggerError(f"--logger {kind}: the {LOGGERS[kind]} package is not installed (pip install "
                          f"{LOGGERS[kind]}), or choose --logger csv")
    return kind


def _flat(d: dict, prefix: str = "") -> dict:
    out: dict = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v if isinstance(v, int | float | str | bool) or v is None else str(v)
    return out


def make_loggers(kind: str | None, out: str | Path, *, params: dict | None = None) -> list:
    """Lightning loggers for a run directory: the CSV logger and the one ``kind`` names (see :func:`check_logger`);
    ``params`` (the resolved config) is recorded as the run's hyperparameters."""
    from lightning.pytorch import loggers as pl_loggers

    kind = check_logger(kind)
    out = Path(out)
    loggers: list = [pl_loggers.CSVLogger(save_dir=str(out), name="logs", version="")]
    if kind == "tensorboard":
        loggers.append(pl_loggers.TensorBoardLogger(save_dir=str(out), name="tb", version="", default_hp_metric=False))
    elif kind == "wandb":
        loggers.append(pl_loggers.WandbLogger(save_dir=str(out), name=out.name,
                                              project=os.environ.get("WANDB_PROJECT", "microgesture")))
    elif kind == "mlflow":
        loggers.append(pl_loggers.MLFlowLogger(experiment_name=os.environ.get("MLFLOW_EXPERIMENT_NAME", "microgesture"),
                                               run_name=out.name, tracking_uri=os.environ.get("MLFLOW_TRACKING_URI"),
                                               save_dir=str(out / "mlruns")))
    if params:
        flat = _flat(params)
        for lg in loggers[1:]:
            lg.log_hyperparams(flat)
    return loggers
