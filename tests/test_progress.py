"""Progress, quiet mode, third-party noise, CPU sizes and run loggers."""

from __future__ import annotations

import importlib.util
import logging
import sys

import pytest

from microgesture import progress
from microgesture.progress import QUIET_ENV, format_seconds, is_noise, run_child, track


def test_format_seconds():
    assert [format_seconds(s) for s in (0.4, 59, 61, 3599, 7260)] == ["0 s", "59 s", "1 min 01 s", "59 min 59 s",
                                                                       "2 h 01 min"]


def test_quiet_track_logs_one_line_per_stage(monkeypatch, caplog, capsys):
    monkeypatch.setenv(QUIET_ENV, "1")
    caplog.set_level(logging.INFO, logger="microgesture.progress")
    assert list(track(range(5), "predict test", unit="clips")) == [0, 1, 2, 3, 4]
    assert list(track([[1, 2], [3]], "predict val", unit="clips", total=3, weight=len)) == [[1, 2], [3]]
    lines = [r.getMessage() for r in caplog.records if r.name == "microgesture.progress"]
    assert len(lines) == 2
    assert lines[0].startswith("predict test: 5 clips in ") and lines[1].startswith("predict val: 3 clips in ")
    assert capsys.readouterr().err == ""  # no bar drawn


def test_terminal_draws_a_bar_with_eta(monkeypatch):
    from rich.console import Console

    monkeypatch.setenv(QUIET_ENV, "0")
    console = Console(force_terminal=True, width=100, record=True)
    monkeypatch.setattr(progress, "_console", console)
    list(track(range(3), "extract flow", unit="videos"))
    out = console.export_text()
    assert "extract flow" in out and "3/3" in out and "eta" in out


def test_quiet_is_automatic_off_a_terminal(monkeypatch):
    monkeypatch.delenv(QUIET_ENV, raising=False)
    assert progress.quiet()  # pytest captures stderr: not a terminal


def test_noise_lines_are_recognised():
    noise = ["INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n",
             "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
             "W0000 00:00:1796365265.414303   10034 inference_feedback_manager.cc:114] Feedback manager requires\n",
             "I0000 00:00:1796365265.414303   10034 gl_context.cc:357] GL version: 3.2\n"]
    kept = ["pose: 250 frames (31.0 frames/s)\n", "error: a.mp4: no frames\n",
            "E0000 00:00:1796365265.414303   10034 calculator_graph.cc:887] INTERNAL: failed\n"]
    assert all(is_noise(x) for x in noise) and not any(is_noise(x) for x in kept)


def test_run_child_drops_noise_and_keeps_the_rest(monkeypatch, capfd):
    monkeypatch.delenv(progress.VERBOSE_ENV, raising=False)
    code = ("import sys; sys.stderr.write('INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n"
            "W0000 00:00:1.5   7 x.cc:1] chatter\\npose: 10 frames\\n'); sys.exit(3)")
    assert run_child([sys.executable, "-c", code]) == 3
    err = capfd.readouterr().err
    assert "pose: 10 frames" in err and "TensorFlow" not in err and "chatter" not in err
    monkeypatch.setenv(progress.VERBOSE_ENV, "1")
    run_child([sys.executable, "-c", code])
    assert "chatter" in capfd.readouterr().err


# -- sizes ------------------------------------------------------------------------------------------------------------
def test_cpu_size_is_the_demo_entry():
    import yaml

    from microgesture.sizes import CPU_SOURCE, SizeError, cpu_sizes, size_layer

    demo = yaml.safe_load(CPU_SOURCE.read_text())["branches"]
    sizes = cpu_sizes()
    for entry in demo.values():
        assert sizes[entry["branch"]]["model"] == entry["model"]
        assert sizes[entry["branch"]]["train"]["epochs"] == entry["train"]["epochs"]
    assert size_layer("joint-dstcnn", "recipe") == {}
    with pytest.raises(SizeError, match="joint-stgcn.*no CPU-sized variant"):
        size_layer("joint-stgcn", "cpu")
    with pytest.raises(SizeError, match="expected one of"):
        size_layer("joint-dstcnn", "huge")


def test_advice_only_for_gpu_recipes_on_a_cpu():
    from microgesture.sizes import cpu_advice, is_cpu_sized, size_layer
    from microgesture.train import resolve_config

    recipe = resolve_config(branch="joint-dstcnn")
    small = resolve_config(branch="joint-dstcnn", file_cfg=size_layer("joint-dstcnn", "cpu"))
    assert not is_cpu_sized(recipe) and is_cpu_sized(small)
    line = cpu_advice(recipe, on_gpu=False)(900.0)
    assert "sized for GPUs" in line and "--size cpu" in line and "docs/cost.md" in line
    assert cpu_advice(small, on_gpu=False) is None and cpu_advice(recipe, on_gpu=True) is None
    stgcn = cpu_advice(resolve_config(branch="joint-stgcn"), on_gpu=False)
    assert stgcn(60.0) is None and "train.epochs" in stgcn(3600.0)


# -- loggers ----------------------------------------------------------------------------------------------------------
def test_logger_choice(tmp_path, monkeypatch):
    import importlib.util

    from microgesture import loggers
    from microgesture.loggers import LoggerError, check_logger, make_loggers

    assert check_logger("csv") == "csv"
    with pytest.raises(LoggerError, match="expected one of"):
        check_logger("neptune")
    real = importlib.util.find_spec
    monkeypatch.setattr(loggers.importlib.util, "find_spec", lambda n: None if n == "wandb" else real(n))
    with pytest.raises(LoggerError, match="wandb package is not installed"):
        check_logger("wandb")
    names = [type(x).__name__ for x in make_loggers("csv", tmp_path / "run")]
    assert names == ["CSVLogger"]
    if real("tensorboard") is not None:
        assert check_logger(None) == "tensorboard"
        assert [type(x).__name__ for x in make_loggers(None, tmp_path / "run", params={"a": {"b": 1}})] == \
            ["CSVLogger", "TensorBoardLogger"]


# -- a short train and a prediction, output captured -------------------------------------------------------------------
TINY_JOINT = """
input: {layout: mmg36, clip_len: 8, num_test_clips: 1}
model: {channels: [8, 8], temporal_strides: [1, 2]}
loss: {semantic_weight: 0.0}
train: {epochs: 2, batch_size: 4}
"""


def _cli(*args: str, env: dict | None = None):
    import os
    import subprocess

    e = {k: v for k, v in os.environ.items() if k not in (QUIET_ENV, progress.VERBOSE_ENV)}
    return subprocess.run([sys.executable, "-m", "microgesture", *args], capture_output=True, text=True,
                          env={**e, "OMP_NUM_THREADS": "1", **(env or {})}, timeout=600)


def test_train_and_predict_show_progress_and_the_estimate(tmp_path):
    from conftest import make_tiny_dataset

    ds = make_tiny_dataset(tmp_path / "ds")
    (tmp_path / "tiny.yaml").write_text(TINY_JOINT)
    # stderr is a pipe here: quiet automatically, one line per stage and no bar redraws
    r = _cli("train", "-d", str(ds), "-b", "joint-dstcnn", "-c", str(tmp_path / "tiny.yaml"), "-o",
             str(tmp_path / "run"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "run" / "logs" / "metrics.csv").is_file()
    if importlib.util.find_spec("tensorboard") is not None:  # the default logger when installed (make install)
        assert list((tmp_path / "run" / "tb").glob("events.out.tfevents.*"))
    err = r.stderr.splitlines()
    assert "\r" not in r.stderr and "━" not in r.stderr  # no bars in a log
    starts = [x for x in err if x.startswith("INFO train: joint-dstcnn, 2 epoch(s) x 3 steps of 4 clips on cpu")]
    estimate = [x for x in err if " estimate: this run takes ~" in x]
    assert len(starts) == 1 and estimate, r.stderr
    # not the CPU-sized variant, on a CPU: one warning line with the estimate and the way to make it smaller
    assert estimate[0].startswith("WARNING estimate:") and "--size cpu" in estimate[0]
    assert "prediction of 18 clips x 2 view(s)" in estimate[0]  # train, val, test; flip_test doubles the view
    assert sum(x.startswith("INFO train: 2 epoch(s) in ") for x in err) == 1
    for split, n in (("train", 12), ("val", 3), ("test", 3)):
        assert sum(x.startswith(f"INFO predict {split} (2 views): {n} clips in ") for x in err) == 1, r.stderr
    assert not [x for x in err if "GPU available" in x or "Tip" in x or "LeafSpec" in x], r.stderr

    r = _cli("--quiet", "predict", str(tmp_path / "run"), str(ds), "--split", "test", "-o", str(tmp_path / "p.csv"))
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert [x for x in lines if x.startswith("INFO predict test: 3 clips in ")] and len(lines) == 2, r.stderr
    assert lines[1].startswith("3 predictions (joint-dstcnn)")


def test_estimate_scales_predictions_by_the_views_validation_lacked():
    """With train.val_views a validated clip costs 1 view and a predicted one 12: the clock's clip time, measured on
    validation, is scaled by 12 for the prediction passes only."""
    from microgesture.clock import Estimate

    e = Estimate(step_s=1.0, clip_s=0.1, clip_measured=True, steps_left=10, val_clips_left=20, predict_clips=30,
                 predict_scale=12.0)
    assert e.train_s == pytest.approx(10.0) and e.val_s == pytest.approx(2.0) and e.predict_s == pytest.approx(36.0)
    assert Estimate(step_s=1.0, clip_s=0.1, clip_measured=True, steps_left=0, val_clips_left=0,
                    predict_clips=30).predict_s == pytest.approx(3.0)


def test_missing_logger_package_is_one_line_exit_2(tmp_path):
    from conftest import make_tiny_dataset

    ds = make_tiny_dataset(tmp_path / "ds", n_per_class=2)
    r = _cli("train", "-d", str(ds), "-o", str(tmp_path / "run"), "--logger", "neptune")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--logger 'neptune'" in r.stderr, r.stderr
    assert not (tmp_path / "run").exists()
    r = _cli("train", "-d", str(ds), "-o", str(tmp_path / "run"), "-b", "joint-stgcn", "--size", "cpu")
    assert r.returncode == 2 and "no CPU-sized variant" in r.stderr, r.stderr


def test_study_stages_are_numbered():
    from microgesture.progress import begin_stages, stage

    assert stage("fusion") == "fusion"  # outside a study
    begin_stages(3)
    assert [stage(n) for n in ("data", "branches/joint", "fusion")] == [
        "[1/3, 2 left] data", "[2/3, 1 left] branches/joint", "[3/3, 0 left] fusion"]
    begin_stages(0)


def test_third_party_noise_is_silenced_unless_kept(monkeypatch):
    import warnings

    from microgesture.progress import silence_third_party

    for var in ("TF_CPP_MIN_LOG_LEVEL", "GLOG_minloglevel", "ABSL_MIN_LOG_LEVEL"):
        monkeypatch.delenv(var, raising=False)
    import lightning.pytorch  # noqa: F401 - importing it sets its loggers to INFO: silencing comes after

    lg = logging.getLogger("lightning.pytorch")
    monkeypatch.setattr(lg, "level", logging.INFO)
    with warnings.catch_warnings():
        silence_third_party(keep=True)
        assert lg.level == logging.INFO and "TF_CPP_MIN_LOG_LEVEL" not in __import__("os").environ
        silence_third_party(keep=False)
        assert lg.level == logging.WARNING and __import__("os").environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
