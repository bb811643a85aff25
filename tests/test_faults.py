"""Fault cases: every bad input a user can give ends in exit 2 with ONE line that names the file and the problem
(``data check``: one line per problem), leaves no partial output and changes nothing written before; see
docs/faults.md.

Inputs are tiny (the conftest dataset, 16x16 videos, one-epoch runs), built once per module where they are only read.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import make_tiny_dataset

from microgesture.cli import main, user_message
from microgesture.data.format import Dataset, rewrite_clips

FAST = ["--set", "model.channels=[8,16]", "--set", "model.temporal_strides=[1,2]", "--set", "input.clip_len=8",
        "--set", "input.num_test_clips=1", "--set", "input.layout=mmg36", "--set", "train.batch_size=4"]


def _cli(argv: list[str], capsys) -> tuple[int, list[str]]:
    """Exit code and the error lines on stderr of ``microgesture argv`` (in process; the typer app always exits)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return e.value.code, [ln for ln in err.splitlines() if ln.startswith("error:")]


def _refused(argv, capsys, *must: str) -> str:
    """Run a command that must be refused: exit 2, one error line containing every string of ``must``."""
    code, lines = _cli(argv, capsys)
    assert code == 2 and len(lines) == 1, (code, lines)
    for m in must:
        assert m in lines[0], (m, lines[0])
    return lines[0]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """The conftest tiny dataset (read only: tests that break it work on a copy)."""
    return make_tiny_dataset(tmp_path_factory.mktemp("faults") / "tiny")


@pytest.fixture(scope="module")
def run(tiny, tmp_path_factory) -> Path:
    """A finished one-epoch run on ``tiny`` (read only)."""
    from microgesture.config import merge
    from microgesture.train import fit, resolve_config

    over = merge({"model": {"channels": [8, 16], "temporal_strides": [1, 2]},
                  "input": {"clip_len": 8, "num_test_clips": 1, "layout": "mmg36"}},
                 {"train": {"epochs": 1, "batch_size": 4}})
    out = tmp_path_factory.mktemp("faults_run") / "run"
    fit(resolve_config(branch="joint-dstcnn", dataset=str(tiny), overrides=over), out=out, progress=False)
    return out


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _edit_clips(root: Path, fn) -> None:
    ds = Dataset.open(root)
    rewrite_clips(ds, [fn(c) for c in ds.clips])


# -- datasets ---------------------------------------------------------------------------------------------------------


def _with_videos(root: Path) -> Path:
    """Give every clip of a tiny dataset a 16x16 video of its length."""
    from microgesture.data.video import write_video

    ds = Dataset.open(root)
    rng = np.random.default_rng(0)
    for c in ds.clips:
        write_video(root / "videos" / f"{c.clip_id}.mp4", rng.integers(0, 255, (c.num_frames, 16, 16, 3), np.uint8))
    _edit_clips(root, lambda c: replace(c, video_path=f"videos/{c.clip_id}.mp4"))
    return root


def _corrupt_middle(p: Path) -> None:
    b = bytearray(p.read_bytes())
    n = len(b)
    b[n // 2: n // 2 + 200] = np.random.default_rng(1).integers(0, 256, 200, np.uint8).tobytes()
    p.write_bytes(bytes(b))


def test_mid_file_corruption_is_found_by_data_check_decode(tiny, tmp_path, capsys):
    root = _with_videos(_copy(tiny, tmp_path / "ds"))
    bad = root / "videos" / "v3_0.mp4"
    _corrupt_middle(bad)
    code, _ = _cli(["data", "check", root, "--no-video"], capsys)  # existence only: passes
    assert code == 0
    code, _ = _cli(["data", "check", root], capsys)  # the header probe: still passes
    assert code == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["data", "check", str(root), "--decode"])
    out = capsys.readouterr().out
    assert e.value.code == 2
    lines = [ln for ln in out.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and str(bad) in lines[0] and "corrupt video" in lines[0], out


def test_corrupt_video_header_is_an_error_of_data_check(tiny, tmp_path, capsys):
    root = _with_videos(_copy(tiny, tmp_path / "ds"))
    bad = root / "videos" / "v0_0.mp4"
    bad.write_bytes(b"not a video" * 10)
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["data", "check", str(root)])
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("error:")]
    assert e.value.code == 2 and len(lines) == 1 and str(bad) in lines[0] and "cannot read video" in lines[0]


def test_empty_dataset_fails_data_check(tiny, tmp_path, capsys):
    root = _copy(tiny, tmp_path / "ds")
    _edit_clips(root, lambda c: c)
    ds = Dataset.open(root)
    rewrite_clips(ds, [])
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["data", "check", str(root)])
    out = capsys.readouterr().out
    assert e.value.code == 2 and "clips.csv: no clips: the dataset is empty" in out


@pytest.mark.parametrize("value", ["-0.1", "1.5", "1", "abc", "nan"])
def test_import_imigue_refuses_a_bad_min_confidence(value, tmp_path, capsys):
    """Checked before anything is read or written: one line naming the option and its range, exit 2."""
    raw = tmp_path / "raw"
    raw.mkdir()
    out = tmp_path / "out"
    _refused(["data", "import-imigue", raw, out, "--min-confidence", value], capsys, "--min-confidence", repr(value),
             "[0, 1)")
    assert not out.exists()


# -- fusion -----------------------------------------------------------------------------------------------------------


def test_fuse_refuses_test_predictions_as_val(run, tmp_path, capsys):
    test = run / "preds_test.npz"
    _refused(["fuse", "--val", test, "--test", test, "--method", "mean", "--out", tmp_path / "f"], capsys,
             str(test), "holds predictions of the test split", "--tune-on-test")
    assert not (tmp_path / "f").exists()
    code, _ = _cli(["fuse", "--val", test, "--test", test, "--method", "temperature", "--out", tmp_path / "g",
                    "--tune-on-test"], capsys)
    assert code == 0 and json.loads((tmp_path / "g/fusion.json").read_text())["tuned_on_test"] is True


def test_fuse_never_overwrites_a_finished_result(run, tmp_path, capsys):
    out = _copy(run, tmp_path / "run")  # fusing into a run directory: its metrics.json is a finished result
    before = _snapshot(out)
    args = ["fuse", "--val", run / "preds_val.npz", "--test", run / "preds_test.npz", "--method", "mean", "--out", out]
    _refused(args, capsys, str(out / "metrics.json"), "exists", "--overwrite")
    assert _snapshot(out) == before
    code, _ = _cli([*args, "--overwrite"], capsys)
    assert code == 0 and "fusions" in json.loads((out / "metrics.json").read_text())


def test_fuse_predictions_whose_ids_do_not_match(run, tmp_path, capsys):
    _refused(["fuse", "--val", run / "preds_val.npz", run / "preds_test.npz", "--method", "mean",
              "--out", tmp_path / "f"], capsys, str(run / "preds_test.npz"), "lacks clip")
    assert not (tmp_path / "f").exists()


# -- studies ----------------------------------------------------------------------------------------------------------


def _study(tmp_path: Path, root: Path, **extra) -> Path:
    import yaml

    d = {"name": "s", "dataset": {"path": str(root)},
         "branches": {"a": {"branch": "joint-dstcnn", "model": {"channels": [8, 16], "temporal_strides": [1, 2]},
                            "input": {"clip_len": 8, "num_test_clips": 1, "layout": "mmg36"},
                            "train": {"epochs": 1, "batch_size": 4}}},
         "fusion": {"methods": ["mean"]}, "report": False, **extra}
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


def test_study_without_its_dataset_writes_nothing(tmp_path, capsys):
    out = tmp_path / "runs" / "aim"
    _refused(["run", "aim", "-o", out], capsys, "data/imigue/dataset.json: not found", "import")
    assert not out.exists()


@pytest.mark.parametrize("section, value, word", [
    ("fusion", {"methods": ["mean"], "objectve": "top1"}, "objectve"),
    ("fusion", {"methods": ["meen"]}, "meen"),
    ("pseudo_label", {"enabled": True, "treshold": 0.9}, "treshold"),
    ("dataset", {"path": "x", "synht": {}}, "synht"),
    ("dataset", {"synth": {"preset": "tiny", "vidoe": False}}, "vidoe"),
])
def test_study_section_typos_fail(tiny, tmp_path, capsys, section, value, word):
    f = _study(tmp_path, tiny, **{section: value})
    _refused(["run", f, "-o", tmp_path / "out"], capsys, str(f), word)
    assert not (tmp_path / "out").exists()


def test_study_cache_keys_hash_the_skeleton_contents(tiny, tmp_path):
    from microgesture.fingerprint import dataset_fingerprint

    root = _copy(tiny, tmp_path / "ds")
    a = dataset_fingerprint(root)
    store = np.load(root / "skeletons.npy")
    store[5, 3, 0] += 1.0  # re-extracted poses: same frame counts, same file size, other values
    np.save(root / "skeletons.npy", store)
    assert dataset_fingerprint(root) != a


def test_study_whose_pseudo_labelling_selects_nothing_does_not_retrain(tiny, tmp_path):
    from microgesture.runner import load_experiment, run_experiment, summary_rows

    exp = load_experiment(_study(tmp_path, tiny, pseudo_label={"enabled": True, "threshold": 0.999999}))
    s = run_experiment(exp, out=tmp_path / "out")
    assert s["pseudo_selected"] == 0 and not s["transductive"] and "metrics_final" not in s
    assert not any("+pl" in r[1] for r in summary_rows(s)) and not (tmp_path / "out/retrain").exists()


# -- data synth -------------------------------------------------------------------------------------------------------


def test_killed_synth_leaves_nothing_after_the_next_run(tmp_path, capsys):
    dead = 2 ** 22 + 12345  # above the default pid_max of 2^22: no such process
    stale = tmp_path / f".ds.tmp-{dead}"
    (stale / "videos").mkdir(parents=True)
    (stale / "clips.csv").write_text("partial")
    code, _ = _cli(["data", "synth", tmp_path / "ds", "--preset", "tiny", "--no-video"], capsys)
    assert code == 0 and not stale.exists() and (tmp_path / "ds/dataset.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_synth_into_an_existing_dataset_is_refused(tiny, tmp_path, capsys):
    root = _copy(tiny, tmp_path / "ds")
    before = _snapshot(root)
    _refused(["data", "synth", root, "--preset", "tiny", "--no-video"], capsys, str(root), "--overwrite")
    assert _snapshot(root) == before


# -- errors in general ------------------------------------------------------------------------------------------------


def test_os_errors_are_one_line_naming_the_file(run, tmp_path, capsys):
    assert user_message(PermissionError(13, "Permission denied", "/x/model.ckpt")) == "/x/model.ckpt: Permission denied"
    assert user_message(RuntimeError("a bug")) is None  # bugs keep their traceback
    blocker = tmp_path / "file"
    blocker.write_text("")
    _refused(["fuse", "--val", run / "preds_val.npz", "--test", run / "preds_test.npz", "--method", "mean",
              "--out", blocker / "sub"], capsys, str(blocker))


@pytest.mark.parametrize("setting, word", [("train.epochs=abc", "expected an integer, got 'abc'"),
                                           ("train.epochs=0", "at least 1")])
def test_bad_numbers_in_the_config_are_refused_before_a_run_directory_exists(tiny, tmp_path, capsys, setting, word):
    out = tmp_path / "run"
    _refused(["train", "-d", tiny, "-o", out, *FAST, "--set", setting], capsys, "train.epochs", word)
    assert not out.exists()


# -- training ---------------------------------------------------------------------------------------------------------


def _fit(root: Path, out: Path, **over):
    from microgesture.config import merge
    from microgesture.train import fit, resolve_config

    base = {"model": {"channels": [8, 16], "temporal_strides": [1, 2]},
            "input": {"clip_len": 8, "num_test_clips": 1, "layout": "mmg36"}, "train": {"epochs": 1, "batch_size": 4}}
    kw = {k: over.pop(k) for k in ("resume", "stop_after_epoch", "overwrite") if k in over}
    return fit(resolve_config(branch="joint-dstcnn", dataset=str(root), overrides=merge(base, over)), out=out,
               progress=False, **kw)


def test_last_checkpoint_is_the_last_epoch_even_on_a_plateau(tiny, tmp_path):
    import torch

    # lr 0: val top-1 never improves after the first epoch, so "best" stays at epoch 0
    _fit(tiny, tmp_path / "run", train={"epochs": 3, "batch_size": 4}, optim={"lr": 0.0})
    ck = tmp_path / "run/checkpoints"
    assert torch.load(ck / "last.ckpt", weights_only=True)["epoch"] == 2
    assert torch.load(ck / "best.ckpt", weights_only=True)["epoch"] == 0
    assert sorted(p.name for p in ck.iterdir()) == ["best.ckpt", "last.ckpt"]


def test_train_into_an_existing_run_is_refused_and_overwrite_replaces_it(tiny, run, tmp_path, capsys):
    out = _copy(run, tmp_path / "run")
    before = _snapshot(out)
    args = ["train", "-d", tiny, "-o", out, *FAST, "--set", "train.epochs=1", "--seed", "3"]
    _refused(args, capsys, str(out), "finished run", "--overwrite", "--resume")
    assert _snapshot(out) == before
    code, _ = _cli([*args, "--overwrite"], capsys)
    assert code == 0
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    assert "seed: 3" in (out / "config.yaml").read_text()
    assert (out / "model.ckpt").read_bytes() != before["model.ckpt"]


@pytest.mark.parametrize("setting, diff", [(["--seed", "1"], "seed 0 -> 1"),
                                           (["--set", "optim.lr=0.5"], "optim.lr 0.001 -> 0.5")])
def test_resume_with_another_config_is_refused(tiny, run, tmp_path, capsys, setting, diff):
    out = _copy(run, tmp_path / "run")
    before = _snapshot(out)
    _refused(["train", "-d", tiny, "-o", out, *FAST, "--set", "train.epochs=1", *setting, "--resume"], capsys,
             str(out / "config.yaml"), "config differs", diff)
    assert _snapshot(out) == before


def test_resume_on_changed_data_is_refused(tiny, tmp_path, capsys):
    root = _copy(tiny, tmp_path / "ds")
    _fit(root, tmp_path / "run", train={"epochs": 2, "batch_size": 4}, stop_after_epoch=1)
    store = np.load(root / "skeletons.npy")
    store[0, 0, 0] += 1
    np.save(root / "skeletons.npy", store)
    _refused(["train", "-d", root, "-o", tmp_path / "run", *FAST, "--set", "train.epochs=2", "--resume"], capsys,
             str(root), "contents changed")


def test_logs_keep_their_history_across_a_resume(tiny, tmp_path):
    import csv

    out = tmp_path / "run"
    _fit(tiny, out, train={"epochs": 3, "batch_size": 4}, stop_after_epoch=1)
    rows = lambda: list(csv.DictReader(open(out / "logs/metrics.csv")))  # noqa: E731
    first = rows()
    assert first and {r["epoch"] for r in first} == {"0"}
    _fit(tiny, out, train={"epochs": 3, "batch_size": 4}, resume=True)
    after = rows()
    assert {r["epoch"] for r in after} == {"0", "1", "2"}
    assert [r["step"] for r in after[:len(first)]] == [r["step"] for r in first]
    assert not (out / "logs/.metrics-history.csv").exists()


def test_corrupt_video_is_named_before_training_starts(tiny, tmp_path, capsys):
    root = _with_videos(_copy(tiny, tmp_path / "ds"))
    bad = root / "videos" / "v7_0.mp4"
    _corrupt_middle(bad)
    out = tmp_path / "run"
    _refused(["train", "-d", root, "-b", "rgb-r2plus1d", "-o", out], capsys, str(bad), "corrupt video", "v7_0")
    assert not out.exists()


@pytest.mark.parametrize("breakage, words", [
    ("label", ("clips.csv", "label 7 is outside")),
    ("nan", ("skeletons.npy", "non-finite value")),
    ("leak", ("clips.csv", "is in both train")),
])
def test_bad_datasets_are_refused_before_a_run_directory_exists(tiny, tmp_path, capsys, breakage, words):
    root = _copy(tiny, tmp_path / "ds")
    if breakage == "label":
        _edit_clips(root, lambda c: replace(c, label=7) if c.clip_id == "v1_0" else c)
    elif breakage == "nan":
        store = np.load(root / "skeletons.npy")
        store[3, 2, 0] = np.nan
        np.save(root / "skeletons.npy", store)
    else:
        _edit_clips(root, lambda c: replace(c, subject="train0") if c.split == "test" else c)
    out = tmp_path / "run"
    _refused(["train", "-d", root, "-o", out, *FAST], capsys, *words)
    assert not out.exists()


def test_gpu_without_a_gpu_is_refused(tiny, tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    _refused(["train", "-d", tiny, "-o", tmp_path / "run", *FAST, "--accelerator", "gpu"], capsys,
             "accelerator", "no CUDA GPU")
    assert not (tmp_path / "run").exists()


def test_a_file_that_is_not_a_checkpoint_is_named(tiny, tmp_path, capsys):
    bad = tmp_path / "model.ckpt"
    bad.write_bytes(b"\x80\x04garbage" * 20)
    _refused(["evaluate", bad, "-d", tiny], capsys, str(bad), "not a readable checkpoint")
    _refused(["train", "-d", tiny, "-o", tmp_path / "run", *FAST, "--init-from", bad], capsys, str(bad))
    assert not (tmp_path / "run").exists()


def test_a_test_view_the_branch_does_not_have_is_named(tiny, run, tmp_path, capsys):
    out = tmp_path / "e.npz"
    _refused(["evaluate", run, "-d", tiny, "--test-crops", "3", "--out", out], capsys, "model.ckpt", "test_crops",
             "joint-dstcnn", "num_test_clips, flip_test")
    assert not out.exists()


def test_validation_views_the_branch_does_not_have_are_named(tiny, tmp_path, capsys):
    _refused(["train", "-d", tiny, "-o", tmp_path / "run", *FAST, "--set", "train.val_views={test_crops: 1}"],
             capsys, "train.val_views", "test_crops", "joint-dstcnn")
    assert not (tmp_path / "run").exists()


def test_a_test_view_value_the_run_cannot_take_is_named(tmp_path, capsys):
    """3 spatial crops need the uncropped, resized frame (input.resize_short): a run on skeleton crops refuses them
    in one line naming its checkpoint, before any prediction."""
    from microgesture.train.resolve import TrainingError, resolve_config, with_test_views

    cfg = resolve_config(branch="rgb-r2plus1d", dataset="", overrides={"input": {"crop": "skeleton"}})
    with pytest.raises(TrainingError, match=r"model\.ckpt: test_crops must be 1 or 3 \(3 needs resize_short\)"):
        with_test_views(cfg, {"test_crops": 3}, tmp_path / "model.ckpt")
    assert with_test_views(cfg, {"flip_test": False}, tmp_path / "model.ckpt").input["flip_test"] is False


def test_evaluate_on_labels_the_checkpoint_cannot_hold(tiny, run, tmp_path, capsys):
    root = _copy(tiny, tmp_path / "ds")
    _edit_clips(root, lambda c: replace(c, label=9) if c.split == "test" and c.clip_id == "v5_0" else c)
    out = tmp_path / "e.npz"
    _refused(["evaluate", run, "-d", root, "--out", out], capsys, "label 9", "v5_0")
    assert not out.exists()


# -- detection off its domain -----------------------------------------------------------------------------------------


def test_domain_warning_signs():
    from microgesture.detect.domain import UPPER_BODY, domain_warning

    kp = np.zeros((50, 137, 3), np.float32)
    kp[:, list(UPPER_BODY), 2] = 0.9
    probs = np.tile([[0.9, 0.05, 0.05]], (10, 1))
    assert domain_warning(kp, probs, np.ones(10, bool), level=0.5) is None
    assert "no person in 70%" in domain_warning(kp, probs, np.arange(10) < 3, level=None)
    few = kp.copy()
    few[:, list(UPPER_BODY)[3:], 2] = 0  # 3 of 13 upper-body joints
    assert "23% of the upper-body joints" in domain_warning(few, probs, None, level=None)
    assert "window scores are low" in domain_warning(kp, probs * 0.5, None, level=0.6)


def test_detect_on_footage_without_a_seated_person_says_so_once(run, tmp_path, capsys):
    from microgesture.pose import PoseResult

    kp = np.zeros((100, 137, 3), np.float32)
    kp[:, 0, :] = (160, 40, 0.9)  # a head now and then, no upper body
    kp[::3, 0, 2] = 0
    src = PoseResult(keypoints=kp, fps=25.0, frame_size=(320, 180), backend="openpose-json").save(tmp_path / "s.npz")
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["detect", str(src), "-m", str(run), "-o", str(tmp_path / "ev.csv")])
    err = capsys.readouterr().err
    assert e.value.code == 0 and sum("training domain" in ln for ln in err.splitlines()) == 1, err
    rec = json.loads((tmp_path / "ev.json").read_text())
    assert "does not look like the training domain" in rec["domain_warning"]


def test_a_run_that_fails_before_its_first_checkpoint_leaves_nothing(tiny, tmp_path, capsys):
    root = _with_videos(_copy(tiny, tmp_path / "ds"))
    for c in Dataset.open(root).clips:
        _corrupt_middle(root / c.video_path)
    out = tmp_path / "run"  # --no-check: the corruption is met mid-epoch
    _refused(["train", "-d", root, "-b", "rgb-r2plus1d", "-o", out, "--no-check", "--set", "model.pretrained=",
              "--set", "train.batch_size=2", "--set", "train.epochs=1"], capsys, ".mp4", "decoding failed")
    assert not out.exists()
