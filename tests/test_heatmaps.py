"""microgesture.inputs.heatmaps: PoseC3D's maths (golden pyskl output), flips, skips, persons, chunking, no autograd."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from microgesture.inputs import heatmaps
from microgesture.inputs.geometry import flip_keypoints, flip_volume
from microgesture.inputs.heatmaps import render_heatmaps
from microgesture.layouts import get_layout

ROOT = Path(__file__).resolve().parents[1]
# CI clones the repo with shared/ beside it; a checkout may also carry shared/ inside.
GOLDEN = next((p for p in (ROOT.parent / "shared" / "golden", ROOT / "shared" / "golden")
               if (p / "posec3d_heatmaps.npz").is_file()), None)  # fmt: skip
MMG36 = get_layout("mmg36")


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    if GOLDEN is None:
        pytest.skip("shared/golden/posec3d_heatmaps.npz (pyskl's output) is not beside the repo")
    with np.load(GOLDEN / "posec3d_heatmaps.npz") as z:
        return {k: z[k] for k in z.files}


def _clip(rng: np.random.Generator, t: int = 4, v: int = 36, size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    kp = torch.from_numpy(rng.uniform(-2, size + 2, size=(t, v, 2)).astype(np.float32))
    sc = torch.from_numpy(rng.uniform(0.2, 1.0, size=(t, v)).astype(np.float32))
    return kp, sc


@pytest.mark.parametrize("sigma", [0.6, 1.0])
@pytest.mark.parametrize("kind", ["joint", "limb"])
def test_matches_pyskl_golden(golden, kind, sigma):
    kp, sc = torch.from_numpy(golden["keypoints"]), torch.from_numpy(golden["scores"])
    edges = golden["edges"] if kind == "limb" else None
    out = render_heatmaps(kp, sc, (int(golden["height"]), int(golden["width"])), sigma, edges)
    want = golden[f"{kind}_sigma{sigma}"]  # (T, C, H, W)
    assert out.shape == (want.shape[1], want.shape[0], *want.shape[2:])
    np.testing.assert_allclose(out.transpose(0, 1).numpy(), want, rtol=0, atol=1e-4)
    assert want.max() > 0.9  # the comparison is not between two empty volumes


def test_golden_edges_are_mmg36(golden):
    assert [tuple(e) for e in golden["edges"].tolist()] == list(MMG36.edges)


@pytest.mark.parametrize("kind", ["joint", "limb"])
def test_flip_of_volume_is_volume_of_flipped_keypoints(rng, kind):
    kp, sc = _clip(rng)
    size, sigma = 32, 0.6
    edges, perm = (None, MMG36.joint_flip) if kind == "joint" else (MMG36.edges, MMG36.edge_flip)
    vol = render_heatmaps(kp, sc, size, sigma, edges)
    fkp, fsc = flip_keypoints(kp, sc, width=size, joint_flip=MMG36.joint_flip, convention="pixel")
    mirrored = flip_volume(vol, perm)
    drawn = render_heatmaps(fkp, fsc, size, sigma, edges)
    both = (mirrored > 0) & (drawn > 0)
    assert both.sum() > 1000
    torch.testing.assert_close(mirrored[both], drawn[both], rtol=0, atol=1e-5)
    # Elsewhere only the edge of a truncated +-3 sigma window can differ (PoseC3D's int() is not mirror-symmetric).
    assert (mirrored - drawn).abs().max() <= math.exp(-4.5) + 1e-6
    assert (mirrored - drawn).abs().max() > 0  # ...and it does: the truncation is real


def test_points_outside_the_canvas_draw_nothing():
    kp = torch.tensor([[[-5.0, 10.0], [70.0, 20.0], [10.0, -4.0], [20.0, 61.0], [-2.9, 5.0], [40.0, -3.0]]])
    sc = torch.ones(1, 6)
    assert render_heatmaps(kp, sc, 56, 0.6).abs().sum() == 0
    assert render_heatmaps(kp, sc, 56, 0.6, [(0, 4), (2, 5)]).abs().sum() == 0  # limbs beside the canvas too
    assert render_heatmaps(kp, sc, 56, 0.6, [(0, 1)]).max() == 1  # ...but a limb across it is drawn


def test_window_truncates_toward_zero():
    # int(-2.3 + 1.8) == 0, so PoseC3D still draws column 0 for a point 2.3 px left of the canvas.
    out = render_heatmaps(torch.tensor([[[-2.3, 5.0]]]), torch.ones(1, 1), 16, 0.6)[0, 0]
    assert out[5, 0] == pytest.approx(math.exp(-(2.3**2) / (2 * 0.36)), rel=1e-5)
    assert (out > 0).sum() == 4  # one column, rows int(5 - 1.8) .. int(5 + 1.8) = 3..6


def test_peak_and_amplitude():
    kp = torch.tensor([[[20.0, 30.0], [10.0, 10.0], [10.0, 40.0]]])
    sc = torch.tensor([[0.7, 0.9, 0.4]])
    joints = render_heatmaps(kp, sc, 56, 0.6)[:, 0]
    assert joints[0, 30, 20] == pytest.approx(0.7) and joints[0].argmax() == 30 * 56 + 20
    limb = render_heatmaps(kp, sc, 56, 0.6, [(1, 2)])[0, 0]
    assert limb[25, 10] == pytest.approx(0.4)  # on the segment: amplitude min(0.9, 0.4)
    assert limb[25, 11] == pytest.approx(0.4 * math.exp(-1 / 0.72), rel=1e-5)  # 1 px beside it
    assert limb[25, 12] == 0  # outside the window int(10 + 1.8) = 11


def test_low_scores_are_skipped():
    kp = torch.tensor([[[10.0, 10.0], [20.0, 20.0], [30.0, 30.0]]])
    sc = torch.tensor([[9e-4, 1e-3, 0.5]])
    joints = render_heatmaps(kp, sc, 40, 0.6)
    assert joints[0].abs().sum() == 0 and joints[1].max() > 0 and joints[2].max() > 0
    limbs = render_heatmaps(kp, sc, 40, 0.6, [(0, 2), (1, 2)])
    assert limbs[0].abs().sum() == 0 and limbs[1].max() == pytest.approx(1e-3)


def test_short_limb_is_a_point_of_the_first_joint():
    kp = torch.tensor([[[10.0, 10.0], [10.5, 10.5]]])
    sc = torch.tensor([[0.3, 0.8]])
    limb = render_heatmaps(kp, sc, 24, 0.6, [(0, 1)])
    point = render_heatmaps(kp[:, :1], sc[:, :1], 24, 0.6)
    torch.testing.assert_close(limb, point)


def test_no_autograd_and_deterministic(rng):
    kp, sc = _clip(rng)
    kp.requires_grad_(True)
    sc.requires_grad_(True)
    a = render_heatmaps(kp, sc, 32, 0.6, MMG36.edges)
    b = render_heatmaps(kp, sc, 32, 0.6, MMG36.edges)
    assert not a.requires_grad and a.grad_fn is None
    assert torch.equal(a, b)


def test_shapes_dtypes_and_out(rng):
    kp, sc = _clip(rng, t=3, v=5, size=16)
    batch_kp, batch_sc = kp.expand(2, 3, 3, 5, 2), sc.expand(2, 3, 3, 5)
    out = render_heatmaps(batch_kp, batch_sc, (16, 20), 0.6)
    assert out.shape == (2, 3, 5, 3, 16, 20) and out.dtype == torch.float32
    torch.testing.assert_close(out[1, 2], render_heatmaps(kp, sc, (16, 20), 0.6))
    assert render_heatmaps(kp.double(), sc.double(), 16).dtype == torch.float64
    half = render_heatmaps(kp.half(), sc.half(), 16)
    assert half.dtype == torch.float16 and half.max() > 0.1
    buf = torch.full((2, 3, 5, 3, 16, 20), 7.0)
    assert render_heatmaps(batch_kp, batch_sc, (16, 20), 0.6, out=buf) is buf
    torch.testing.assert_close(buf, out)
    with pytest.raises(ValueError, match="scores"):
        render_heatmaps(kp, sc[:, :4], 16)
    with pytest.raises(ValueError, match="edges"):
        render_heatmaps(kp, sc, 16, edges=[(0, 5)])


def test_persons_are_max_merged(rng):
    (kp1, sc1), (kp2, sc2) = _clip(rng), _clip(rng)
    both = render_heatmaps(torch.stack([kp1, kp2]), torch.stack([sc1, sc2]), 32, 0.6, MMG36.edges, persons=True)
    one, two = render_heatmaps(kp1, sc1, 32, 0.6, MMG36.edges), render_heatmaps(kp2, sc2, 32, 0.6, MMG36.edges)
    assert both.shape == one.shape
    torch.testing.assert_close(both, torch.maximum(one, two), rtol=0, atol=0)


def test_missing_coordinates_draw_nothing():
    kp = torch.tensor([[[float("nan"), 3.0], [5.0, float("inf")], [5.0, 5.0], [7.0, 7.0]]])
    sc = torch.tensor([[1.0, 1.0, 1.0, float("nan")]])
    out = render_heatmaps(kp, sc, 12, 0.6, [(0, 2), (1, 2), (2, 2), (3, 2)])
    assert out[:2].abs().sum() == 0 and out[2].max() == pytest.approx(1.0) and out[3].abs().sum() == 0
    joints = render_heatmaps(kp, sc, 12, 0.6)
    assert torch.isfinite(joints).all() and joints[[0, 1, 3]].abs().sum() == 0


@pytest.mark.parametrize("kind", ["joint", "limb"])
def test_chunking_does_not_change_the_result(rng, monkeypatch, kind):
    kp, sc = _clip(rng, t=6)
    edges = MMG36.edges if kind == "limb" else None
    whole = render_heatmaps(kp, sc, 32, 1.0, edges)
    monkeypatch.setattr(heatmaps, "CHUNK_PIXELS", 97)  # many tiny chunks, boundaries inside groups
    torch.testing.assert_close(render_heatmaps(kp, sc, 32, 1.0, edges), whole, rtol=0, atol=0)


# -- the heatmap-posec3d-* branches: loader keypoints, rendering in the step, one training step --------------------

TINY_RUN = {
    "model": {"base_channels": 4, "stage_blocks": [1, 1, 1]},
    "input": {"clip_len": 8, "size": 24, "resize": 28, "num_test_clips": 2},
    "train": {"epochs": 1, "batch_size": 4, "val_every": 1},
}


def test_heatmap_pipeline_views(tiny_dataset):
    from microgesture.branches import get_branch
    from microgesture.data.format import Dataset
    from microgesture.train import resolve_config

    ds = Dataset.open(tiny_dataset)
    b = get_branch("heatmap-posec3d-limb")
    cfg = resolve_config(branch=b.name, overrides=TINY_RUN)
    icfg = b.input_config(cfg.input)
    pipe = b.make_pipeline(icfg, ds.layout)
    clip = ds.split("train")[0]
    x = pipe.train_sample(ds, clip, np.random.default_rng(0))["keypoints"]
    assert x.shape == (8, 36, 3) and x.dtype == np.float32
    assert np.array_equal(x, pipe.train_sample(ds, clip, np.random.default_rng(0))["keypoints"])
    valid = x[..., 2] > 0
    assert valid.any()
    t = pipe.test_sample(ds, clip)["keypoints"]
    assert t.shape == (4, 8, 36, 3)  # 2 clips x (plain, flipped)
    inside = t[0][t[0, ..., 2] > 0][:, :2]
    assert inside.min() >= 28 * 0.1 - 1e-3 and inside.max() <= 28 * 0.9 + 1e-3  # box x1.25 on the 28 canvas
    vol = pipe.to_model_input({"keypoints": torch.from_numpy(t)}, train=False)
    assert vol.shape == (4, 36, 8, 28, 28) and vol.max() > 0.5
    train_vol = pipe.to_model_input({"keypoints": torch.from_numpy(x[None])}, train=True)
    assert train_vol.shape == (1, 36, 8, 24, 24)
    assert icfg.channels == 36 and icfg.num_views == 4


@pytest.mark.parametrize("kind", ["joint", "limb"])
def test_heatmap_branch_trains_one_step(tiny_dataset, tmp_path, kind):
    from microgesture.config import merge
    from microgesture.predictions import load_predictions
    from microgesture.train import fit, resolve_config

    name = f"heatmap-posec3d-{kind}"
    cfg = resolve_config(branch=name, dataset=str(tiny_dataset),
                         overrides=merge(TINY_RUN, {"train": {"limit_train_batches": 1}}))  # fmt: skip
    assert cfg.optim.name == "sgd" and cfg.train.grad_clip == 40.0 and cfg.optim.weight_decay == 3e-4
    m = fit(cfg, out=tmp_path / "run", progress=False)
    for split in ("val", "test"):
        p = load_predictions(tmp_path / "run" / f"preds_{split}.npz")
        assert p.logits.shape == (m[split]["n"], 3) and np.isfinite(p.logits).all()
    ck = torch.load(tmp_path / "run" / "model.ckpt", weights_only=True)
    assert ck["microgesture"]["config"]["input"]["kind"] == kind
    stem = ck["state_dict"]["model.stem.0.weight"]
    assert stem.shape[1] == 36  # 36 joints or 36 mmg36 limbs
    # the step moved the weights away from their initialisation (bn3 starts at 0; one SGD step makes it non-zero)
    assert ck["state_dict"]["model.stages.0.0.bn3.weight"].abs().sum() > 0
