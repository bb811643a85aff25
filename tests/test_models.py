"""Registry-driven model tests: every branch's model on tiny inputs: shape, every parameter gets a gradient, no NaN."""

import numpy as np
import pytest
import torch

from microgesture.branches import BRANCHES, get_branch, list_branches
from microgesture.train import resolve_config

# Tiny widths so every registered branch runs in well under a second on one core.
TINY_MODEL = {
    "joint-dstcnn": {"channels": [8, 16], "temporal_strides": [1, 2]},
    "joint-stgcn": {"channels": [8, 16], "temporal_strides": [1, 2]},
}
# Video branches: torchvision's classes at tiny sizes, random init (no download).
_TINY_SWIN = {"pretrained": "", "embed_dim": 8, "depths": [1, 1], "num_heads": [1, 2], "patch_size": [2, 4, 4],
              "window_size": [2, 4, 4]}
VIDEO_MODALITIES = ("rgb", "taylor", "flow", "depth")
TINY_MODEL.update({n: _TINY_SWIN for n, b in BRANCHES.items() if b.modality in VIDEO_MODALITIES and "swin" in n})
TINY_MODEL["rgb-r2plus1d"] = {"pretrained": "", "layers": [1, 1, 1, 1]}


def tiny_overrides(name: str) -> dict:
    return {"model": TINY_MODEL.get(name, {}), "input": {"clip_len": 8}}


def test_registry_rejects_duplicates():
    from microgesture.branches import register_branch

    with pytest.raises(ValueError, match="already registered"):
        register_branch(get_branch("joint-dstcnn"))
    with pytest.raises(KeyError, match="unknown branch"):
        get_branch("nope")
    assert "joint-dstcnn" in list_branches() and "joint-stgcn" in list_branches()


@pytest.mark.parametrize("name", [n for n in sorted(BRANCHES) if BRANCHES[n].modality == "joint"])
def test_skeleton_branch_models(name):
    torch.manual_seed(0)
    b = get_branch(name)
    cfg = resolve_config(branch=name, overrides=tiny_overrides(name))
    icfg, mcfg = b.input_config(cfg.input), b.model_config(cfg.model)
    model = b.make_model(mcfg, icfg, 5)
    pipe = b.make_pipeline(icfg, "openpose137")
    rng = np.random.default_rng(0)
    skel = np.concatenate([rng.uniform(0, 100, (20, 137, 2)), rng.uniform(0.5, 1, (20, 137, 1))], -1)
    x = np.stack([pipe.transform.train_sample(skel.astype(np.float32), rng) for _ in range(3)])
    x = torch.from_numpy(x)
    model.train()
    feat = model.forward_features(x)
    assert feat.shape == (3, model.feature_dim)
    out = model.classify(feat)
    assert out.shape == (3, 5) and torch.isfinite(out).all()
    out.sum().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname


@pytest.mark.parametrize("name", [n for n in sorted(BRANCHES) if BRANCHES[n].modality in VIDEO_MODALITIES])
def test_video_branch_models(name):
    torch.manual_seed(0)
    b = get_branch(name)
    cfg = resolve_config(branch=name, overrides={"model": TINY_MODEL[name], "input": {"clip_len": 4, "size": 32}})
    icfg, mcfg = b.input_config(cfg.input), b.model_config(cfg.model)
    model = b.make_model(mcfg, icfg, 5)
    pipe = b.make_pipeline(icfg, "openpose137")
    frames = torch.randint(0, 256, (2, 4, 32, 32, 3), dtype=torch.uint8)
    x = pipe.to_model_input({pipe.key: frames}, train=True)
    assert x.shape == (2, 3, 4, 32, 32)
    model.train()
    feat = model.forward_features(x)
    assert feat.shape == (2, model.feature_dim)
    out = model.classify(feat)
    assert out.shape == (2, 5) and torch.isfinite(out).all()
    out.sum().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname


def test_dstcnn_spatial_strides_shrink_the_joint_axis():
    from microgesture.models.dstcnn import DecoupledSTCNN, DSTCNNConfig

    cfg = DSTCNNConfig(channels=(8, 8, 16), temporal_strides=(1, 2, 1), spatial_strides=(1, 2, 2))
    m = DecoupledSTCNN(in_channels=3, num_joints=68, num_classes=4, cfg=cfg)
    x = torch.randn(2, 3, 16, 68)
    maps = m.blocks(m.data_bn(x))
    assert maps.shape == (2, 16, 8, 17)
    assert m(x).shape == (2, 4)
    with pytest.raises(ValueError, match="spatial_strides"):
        DSTCNNConfig(channels=(8, 8), temporal_strides=(1, 1), spatial_strides=(1,))


def test_dstcnn_joint_mix_starts_as_without_it_and_reaches_far_joints():
    """joint_mix adds a learned joint-to-joint matrix per block, zero at start: the network then computes what it
    computes without it; once the matrix is non-zero a joint 40 indices away (a fingertip and the face in aim68)
    reaches a block's output at a place the (1 x 3) kernels alone cannot."""
    from microgesture.models.dstcnn import DecoupledBlock, DecoupledSTCNN, DSTCNNConfig

    kw = {"channels": (8, 8, 16), "temporal_strides": (1, 2, 1), "spatial_strides": (1, 2, 2)}
    torch.manual_seed(0)
    plain = DecoupledSTCNN(in_channels=3, num_joints=68, num_classes=4, cfg=DSTCNNConfig(**kw)).eval()
    mixed = DecoupledSTCNN(in_channels=3, num_joints=68, num_classes=4, cfg=DSTCNNConfig(**kw, joint_mix=True)).eval()
    missing, unexpected = mixed.load_state_dict(plain.state_dict(), strict=False)
    assert sorted(missing) == ["blocks.0.mix", "blocks.1.mix", "blocks.2.mix"] and not unexpected
    assert [tuple(b.mix.shape) for b in mixed.blocks] == [(68, 68), (68, 68), (34, 34)]
    x = torch.randn(2, 3, 16, 68)
    assert torch.allclose(plain(x), mixed(x))

    block = DecoupledBlock(3, 4, stride=1, ks=3, kt=5, num_joints=68).eval()
    x = torch.randn(1, 3, 8, 68, requires_grad=True)
    block(x)[..., 5].sum().backward()
    assert x.grad[..., 60].abs().sum() == 0  # without mixing, joint 60 is out of joint 5's reach
    with torch.no_grad():
        block.mix[60, 5] = 1.0
    x.grad = None
    block(x)[..., 5].sum().backward()
    assert x.grad[..., 60].abs().sum() > 0
