"""Export to TorchScript and ONNX: the dense heatmap renderer equals PoseC3D's, exported logits equal eager ones on the
test views (max abs difference <= 1e-4), and the exported skeleton model drives offline and online detection."""

import numpy as np
import pytest
import torch

from microgesture.data.format import Dataset
from microgesture.export import DenseHeatmaps, ExportError, export, load_exported
from microgesture.inputs.heatmaps import render_heatmaps
from microgesture.layouts import get_layout

TOL = 1e-4
RUNS = {
    "joint-dstcnn": {"model": {"channels": [8, 16], "temporal_strides": [1, 2]},
                     "input": {"clip_len": 8, "num_test_clips": 2, "layout": "mmg36"}},
    "heatmap-posec3d-joint": {"model": {"base_channels": 4, "stage_blocks": [1, 1, 1]},
                              "input": {"clip_len": 8, "size": 24, "resize": 28, "num_test_clips": 2}},
    "heatmap-posec3d-limb": {"model": {"base_channels": 4, "stage_blocks": [1, 1, 1]},
                             "input": {"clip_len": 8, "size": 24, "resize": 28, "num_test_clips": 2}},
}
LOOP = {"train": {"epochs": 1, "batch_size": 4, "limit_train_batches": 2, "predict_train": False}}
FORMATS = ["torchscript", "onnx"]



@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from conftest import make_tiny_dataset

    from microgesture.config import merge
    from microgesture.train import fit, resolve_config

    root = tmp_path_factory.mktemp("export")
    ds = make_tiny_dataset(root / "tiny")
    for name, over in RUNS.items():
        fit(resolve_config(branch=name, dataset=str(ds), overrides=merge(over, LOOP)), out=root / name,
            progress=False)
    return root


@pytest.mark.parametrize("limbs", [False, True])
def test_dense_renderer_equals_posec3d(limbs):
    rng = np.random.default_rng(1)
    kp = torch.from_numpy(rng.uniform(-4, 33, (2, 5, 36, 2)).astype(np.float32))  # some joints off the canvas
    sc = torch.from_numpy(rng.uniform(0, 1, (2, 5, 36)).astype(np.float32))
    sc[0, 0, :6] = 0.0  # missing joints
    sc[0, 1, 6] = 5e-4  # under PoseC3D's EPS
    kp[1, 2, 4] = kp[1, 2, 3] + 0.4  # a limb shorter than 1 px (mmg36 has 3-4 as an edge): drawn as a point
    kp[1, 3, 7, 0] = float("nan")
    edges = get_layout("mmg36").edges if limbs else None
    ref = render_heatmaps(kp, sc, 29, 0.7, edges)
    dense = DenseHeatmaps(size=29, sigma=0.7, edges=edges)(torch.cat([kp, sc[..., None]], -1))
    assert dense.shape == ref.shape and ref.max() > 0.5
    assert (dense - ref).abs().max() <= 1e-5


def _views(run, ds, clips):
    from microgesture.train import load_checkpoint

    module = load_checkpoint(run)
    return module, np.stack([module.pipeline.test_sample(ds, c)[module.pipeline.key] for c in clips])


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("branch", list(RUNS))
def test_exported_equals_eager(runs, tmp_path, branch, fmt):
    if fmt == "onnx":
        pytest.importorskip("onnx")
        pytest.importorskip("onnxruntime")
    from microgesture.predictions import load_predictions

    out = export(runs / branch, fmt=fmt, out=tmp_path / f"m.{'onnx' if fmt == 'onnx' else 'pt'}")
    ds = Dataset.open(runs / "tiny")
    clips = ds.split("test")
    module, views = _views(runs / branch, ds, clips)
    flat = torch.from_numpy(views.reshape(-1, *views.shape[2:]))
    with torch.no_grad():
        eager = module.model(module.pipeline.to_model_input({module.pipeline.key: flat}, train=False)).numpy()
    m = load_exported(out)
    assert m.classes == module.classes and m.key == module.pipeline.key
    got = m.logits(flat.numpy())  # batch size other than the export example's: the batch axis is dynamic
    assert got.shape == eager.shape and np.abs(got - eager).max() <= TOL
    ref = load_predictions(runs / branch / "preds_test.npz")
    assert np.abs(m.predict_views(views) - ref.logits).max() <= TOL  # views averaged as the run does


def test_exported_skeleton_model_drives_detection(runs, tmp_path):
    from test_detect import random_skeleton

    from microgesture.detect import DetectConfig, detect
    from microgesture.online import OnlineDetector

    out = export(runs / "joint-dstcnn", fmt="torchscript", out=tmp_path / "m.pt")
    skel = random_skeleton(80, seed=3)
    cfg = DetectConfig(window=1.0, stride=0.3, smooth=3, min_score=0.0, background=())
    eager = detect(runs / "joint-dstcnn", skel, fps=10.0, config=cfg)
    exported = load_exported(out)
    got = detect(exported, skel, fps=10.0, config=cfg)
    assert np.abs(got.probs - eager.probs).max() <= TOL and got.probs.any()
    assert [(e.start, e.end, e.label) for e in got.events] == [(e.start, e.end, e.label) for e in eager.events]
    live = OnlineDetector(exported, fps=10.0, config=cfg)
    online = [e for kp in skel for e in live.push(kp)] + live.flush()
    assert [(e.start, e.end, e.label) for e in online] == [(e.start, e.end, e.label) for e in eager.events]


def test_errors_are_named(runs, tmp_path):
    with pytest.raises(ExportError, match="--format must be one of"):
        export(runs / "joint-dstcnn", fmt="tflite", out=tmp_path / "m")
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ExportError, match="junk.pt: not a TorchScript file"):
        load_exported(tmp_path / "junk.pt")
    with pytest.raises(ExportError, match="missing.pt: exported model not found"):
        load_exported(tmp_path / "missing.pt")


def test_export_command(runs, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "model.onnx"
    res = subprocess.run([sys.executable, "-m", "microgesture", "export", str(runs / "joint-dstcnn"), "--format",
                          "torchscript", "-o", str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert load_exported(out).classes == ("class0", "class1", "class2")  # read by content, whatever the suffix
    res = subprocess.run([sys.executable, "-m", "microgesture", "export", str(runs / "joint-dstcnn"), "--format",
                          "tflite", "-o", str(tmp_path / "m")], capture_output=True, text=True)
    assert res.returncode == 2 and "--format must be one of torchscript, onnx" in res.stderr
