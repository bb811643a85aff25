"""microgesture.models.resnet3d: shapes, gradients, zero-initialised residuals, PoseC3D and SlowOnly-R50 presets."""

from __future__ import annotations

import pytest
import torch

from microgesture.models.resnet3d import Bottleneck3D, ResNet3D, ResNet3DConfig

TINY = ResNet3DConfig(base_channels=4, stage_blocks=(1, 1, 1), num_classes=5)


def _input(seed: int = 0, batch: int = 1) -> torch.Tensor:
    return torch.randn(batch, 36, 8, 32, 32, generator=torch.Generator().manual_seed(seed))


def test_tiny_shapes():
    torch.manual_seed(0)
    model = ResNet3D(config=TINY).eval()
    x = _input()
    maps = model.forward_maps(x)
    assert maps.shape == (1, 64, 4, 4, 4)  # 4 * 2**2 * 4 channels; spatial /8, temporal /2 (strides 1, 1, 2)
    feats = model.forward_features(x)
    assert feats.shape == (1, model.feature_dim) == (1, 64)
    torch.testing.assert_close(feats, maps.mean((2, 3, 4)))
    logits = model(x)
    assert logits.shape == (1, 5) and torch.isfinite(logits).all()
    torch.testing.assert_close(logits, model.head(feats))  # eval: dropout is the identity


def test_temporal_strides_are_configurable():
    model = ResNet3D(config=ResNet3DConfig.posec3d(base_channels=4, stage_blocks=(1, 1, 1),
                                                   temporal_strides=(1, 1, 1))).eval()  # fmt: skip
    assert model.forward_maps(_input()).shape[2] == 8  # RGBPoseConv3D's pose path keeps every frame


def test_every_parameter_gets_a_finite_gradient():
    torch.manual_seed(0)
    model = ResNet3D(config=TINY).train()
    loss = torch.nn.functional.cross_entropy(model(_input(batch=2)), torch.tensor([1, 3]))
    loss.backward()
    assert torch.isfinite(loss)
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    # With the zero-initialised BNs the residual convs get a zero gradient at first; from any non-zero gamma on,
    # every parameter must get a non-zero one.
    model.zero_grad()
    for m in model.modules():
        if isinstance(m, Bottleneck3D):
            torch.nn.init.constant_(m.bn3.weight, 0.5)
    torch.nn.functional.cross_entropy(model(_input(batch=2)), torch.tensor([1, 3])).backward()
    for name, p in model.named_parameters():
        assert p.grad.abs().sum() > 0, name


def test_zero_init_blocks_are_their_shortcut():
    torch.manual_seed(0)
    model = ResNet3D(config=ResNet3DConfig(base_channels=4, stage_blocks=(2, 1, 1), num_classes=5)).eval()
    x = model.stem(_input())
    for stage in model.stages:
        for block in stage:
            assert (block.bn3.weight == 0).all()
            y = block(x)
            torch.testing.assert_close(y, torch.relu(block.shortcut(x)))
            x = y
    assert isinstance(model.stages[0][1].shortcut, torch.nn.Identity)  # same shape: identity shortcut
    assert not ResNet3D(config=ResNet3DConfig(base_channels=4, stage_blocks=(1, 1, 1), zero_init_residual=False)
                        ).stages[0][0].bn3.weight.eq(0).any()  # fmt: skip


def test_posec3d_preset_matches_the_reference():
    model = ResNet3D(config=ResNet3DConfig.posec3d())
    assert model.feature_dim == 512 and model.head.in_features == 512 and model.head.out_features == 32
    assert [len(s) for s in model.stages] == [4, 6, 3]
    assert model.stem[0].kernel_size == (1, 7, 7) and model.stem[0].stride == (1, 1, 1)
    assert model.stem[3].stride == (1, 1, 1)
    # stage 1 is not inflated, stages 2-3 are; strides on the first block's 1x3x3 conv and its shortcut
    assert model.stages[0][0].conv1.kernel_size == (1, 1, 1) and model.stages[1][3].conv1.kernel_size == (3, 1, 1)
    assert model.stages[2][0].conv2.stride == (2, 2, 2) and model.stages[1][0].conv2.stride == (1, 2, 2)
    assert model.stages[2][0].shortcut[0].stride == (2, 2, 2)
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(2.04e6, rel=0.01)  # PoseC3D: 2.0M


def test_slowonly_r50_preset():
    cfg = ResNet3DConfig.slowonly_r50(num_classes=400)
    assert cfg.feature_dim == 2048 and cfg.in_channels == 3 and cfg.inflate == (0, 0, 1, 1)
    model = ResNet3D(config=cfg)
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(32.45e6, rel=0.01)  # mmaction: 32.45M
    tiny = ResNet3D(config=ResNet3DConfig.slowonly_r50(base_channels=4, stage_blocks=(1, 1, 1, 1))).eval()
    out = tiny.forward_maps(torch.randn(1, 3, 4, 64, 64))
    assert out.shape == (1, 128, 4, 2, 2)  # /32 spatially, no temporal stride


def test_bad_config():
    with pytest.raises(ValueError, match="temporal_strides"):
        ResNet3DConfig(stage_blocks=(1, 1), temporal_strides=(1, 1, 2), spatial_strides=(2, 2), inflate=(0, 1))
