"""``microgesture data`` commands: import, check, stats (CliRunner), and the error exit of ``python -m
microgesture``."""

from __future__ import annotations

import json
import subprocess
import sys

from test_importers import make_raw
from typer.testing import CliRunner

from microgesture.cli import app
from microgesture.data.format import Dataset, rewrite_clips
from microgesture.data.stats import dataset_stats, format_stats

runner = CliRunner()


def _import(tmp_path, *extra):
    raw = make_raw(tmp_path / "raw", vids=("0001", "0002", "0003"))
    res = runner.invoke(app, ["data", "import-imigue", str(raw), str(tmp_path / "ds"), *extra])
    assert res.exit_code == 0, res.output
    return raw, tmp_path / "ds"


def test_import_check_and_a_failing_check(tmp_path):
    _, ds_dir = _import(tmp_path, "--no-cut-clips")
    assert len(Dataset.open(ds_dir)) == 6
    res = runner.invoke(app, ["data", "check", str(ds_dir)])
    assert res.exit_code == 0 and "0 errors, 0 warnings" in res.output
    ds = Dataset.open(ds_dir)
    rewrite_clips(ds, [c if c.clip_id != "0003_0" else c.__class__(**{**c.__dict__, "subject": "s0001"})
                       for c in ds.clips])
    res = runner.invoke(app, ["data", "check", str(ds_dir), "--no-video"])
    assert res.exit_code == 2
    assert "error: " in res.output and "subject 's0001' is in both train (2 clips, e.g. 0001_0) and test" in res.output
    assert "1 errors, 0 warnings" in res.output


def test_stats_prints_and_draws(tmp_path):
    _, ds_dir = _import(tmp_path, "--subjects", str(tmp_path / "raw" / "subjects.csv"),
                        "--splits", str(tmp_path / "raw" / "iMiGUE_train_clips_list.txt"),
                        "--splits", str(tmp_path / "raw" / "iMiGUE_val_clips_list.txt"), "--skip-bad")
    res = runner.invoke(app, ["data", "stats", str(ds_dir), "--png", str(tmp_path / "c.png"),
                              "--json", str(tmp_path / "s.json")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    s = json.loads((tmp_path / "s.json").read_text())
    assert s == dataset_stats(ds_dir) and set(s["splits"]) == {"train", "val"}  # test clips skipped: no list given
    tr = s["splits"]["train"]
    assert tr["counts"][31] == 1 and tr["counts"][4] == 1 and sum(tr["counts"]) == 2 and tr["imbalance"] == 1.0
    assert tr["length"]["p50"] == 8 and tr["subjects"] == 1 and len(tr["empty_classes"]) == 30
    assert s["classes_without_val"] == []
    text = format_stats(s)
    assert "train       2 clips" in text and " 31 illustrative gestures" in text
    assert json.loads((ds_dir / "import_report.json").read_text())["skipped"][0]["clip_id"] == "0003_0"


def test_import_list_command(tmp_path):
    from test_importers import _list_raw

    vd, classes = _list_raw(tmp_path)
    res = runner.invoke(app, ["data", "import-list", str(tmp_path / "train.txt"), str(vd), str(tmp_path / "ds"),
                              "--classes", str(classes), "--list", f"{tmp_path / 'val.txt'}:val"])
    assert res.exit_code == 0, res.output
    assert Dataset.open(tmp_path / "ds").splits() == ["train", "val"]
    res = runner.invoke(app, ["data", "check", str(tmp_path / "ds")])
    assert res.exit_code == 0 and "0 errors" in res.output


def test_bad_raw_data_exits_2_with_the_file_and_row(tmp_path):
    raw = make_raw(tmp_path / "raw", videos=False, vids=("0001",))
    (raw / "0001" / "0001_label.csv").write_text("99,0,7\n40,8,15\n")
    proc = subprocess.run([sys.executable, "-m", "microgesture", "data", "import-imigue", str(raw),
                           str(tmp_path / "ds")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "0001_label.csv:line 2: class 40 is not an iMiGUE class" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "ds").exists()


def test_import_release_layout_with_a_subject_split_then_check(tmp_path):
    from fixtures_real import make_release

    raw = make_release(tmp_path / "raw", vids=("371", "372", "373", "374"))
    args = ["data", "import-imigue", str(raw), str(tmp_path / "ds"), "--split", "subject:0.5,0.25,0.25", "--seed", "2"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "from the original iMiGUE release" in res.output
    assert "sanitised 160 frames: 2 confidences clamped" in res.output
    assert "largest per-class share difference" in res.output
    assert Dataset.open(tmp_path / "ds").header.extra["split"]["seed"] == 2
    res = runner.invoke(app, ["data", "check", str(tmp_path / "ds")])
    assert res.exit_code == 0 and "0 errors, 0 warnings" in res.output, res.output


def test_release_without_split_exits_2_naming_the_option(tmp_path):
    from fixtures_real import make_release

    raw = make_release(tmp_path / "raw", vids=("372",))
    proc = subprocess.run([sys.executable, "-m", "microgesture", "data", "import-imigue", str(raw),
                           str(tmp_path / "ds")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--split subject:0.7,0.05,0.25" in proc.stderr and "Traceback" not in proc.stderr
