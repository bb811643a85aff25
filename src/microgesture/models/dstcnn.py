"""Decoupled ST-CNN (AIM): separable (1x3) spatial and (5x1) temporal convolutions over a (C, T, V) skeleton.

AIM describes the input (3 x 64 x 68 = x, y, confidence), the decoupled kernels, AdamW and cosine, but not depth or
width; microgesture's defaults (six residual blocks, 64-128-256 channels, temporal stride 2 twice) are our choice and
configurable. The skeleton is treated as a T x V image: the spatial kernel mixes neighbouring joints in the layout's
order (hands and face points are contiguous in all our layouts), the temporal kernel mixes neighbouring frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["DSTCNNConfig", "DecoupledSTCNN"]


@dataclass(frozen=True, kw_only=True)
class DSTCNNConfig:
    """Attributes:
    channels: output channels of each block.
    temporal_strides: temporal stride of each block (same length as channels).
    spatial_kernel, temporal_kernel: (1 x k) and (k x 1) kernel sizes; 3 and 5 as in AIM.
    dropout: before the classifier.
    input_norm: "channel" or "joint" input BN.
    joint_mix: each block also mixes all joints through a learned V x V matrix (zero at start). Measured on the
        synthetic benchmark and not better there (docs/benchmarks.md, "68 vs 36 keypoints under the demo's loss").
    """

    channels: tuple[int, ...] = (64, 64, 128, 128, 256, 256)
    temporal_strides: tuple[int, ...] = (1, 1, 2, 1, 2, 1)
    spatial_strides: tuple[int, ...] = ()  # per block; () = all 1. Striding over joints cuts cost on CPUs.
    spatial_kernel: int = 3
    temporal_kernel: int = 5
    dropout: float = 0.5
    input_norm: str = "channel"  # "channel": BN per input channel; "joint": per joint and channel (ST-GCN data_bn)
    joint_mix: bool = False  # each block also mixes all joints (a learned V x V matrix, zero at start)

    def __post_init__(self) -> None:
        if len(self.channels) != len(self.temporal_strides):
            raise ValueError("channels and temporal_strides must have the same length")
        if self.spatial_strides and len(self.spatial_strides) != len(self.channels):
            raise ValueError("spatial_strides must be empty or as long as channels")


class DecoupledBlock(nn.Module):
    """(1 x ks) spatial conv -> BN -> ReLU -> (kt x 1) temporal conv -> BN, plus a residual, then ReLU."""

    def __init__(self, cin: int, cout: int, *, stride: int, ks: int, kt: int, vstride: int = 1,
                 num_joints: int | None = None):
        super().__init__()
        # the (1 x ks) kernel sees neighbours in the layout's order only: with 68 joints a hand's fingertips are 40
        # indices from the face. A learned joint-to-joint matrix (zero at start: the block begins as without it) lets
        # every block relate any two joints, as a graph convolution's learned adjacency does.
        self.mix = nn.Parameter(torch.zeros(num_joints, num_joints)) if num_joints else None
        self.spatial = nn.Sequential(
            nn.Conv2d(cin, cout, (1, ks), stride=(1, vstride), padding=(0, ks // 2), bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )
        self.temporal = nn.Sequential(
            nn.Conv2d(cout, cout, (kt, 1), stride=(stride, 1), padding=(kt // 2, 0), bias=False), nn.BatchNorm2d(cout)
        )
        if cin == cout and stride == 1 and vstride == 1:
            self.residual: nn.Module = nn.Identity()
        else:
            self.residual = nn.Sequential(
                nn.Conv2d(cin, cout, (1, ks) if vstride > 1 else 1, stride=(stride, vstride),
                          padding=(0, ks // 2) if vstride > 1 else 0, bias=False),
                nn.BatchNorm2d(cout),
            )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x if self.mix is None else x + torch.einsum("bctv,vw->bctw", x, self.mix)
        return self.relu(self.temporal(self.spatial(y)) + self.residual(x))


class DecoupledSTCNN(nn.Module):
    """Input (B, C, T, V) -> logits (B, num_classes). ``forward_features`` gives the pooled (B, D) feature."""

    def __init__(self, *, in_channels: int, num_joints: int, num_classes: int, cfg: DSTCNNConfig | None = None):
        super().__init__()
        cfg = cfg or DSTCNNConfig()
        # Per-channel input BN keeps the joints' relative scale; ST-GCN's per-joint data_bn blows a nearly static
        # joint's jitter up to unit variance, which drowns the few joints that carry a micro-gesture.
        if cfg.input_norm not in ("channel", "joint"):
            raise ValueError(f"input_norm must be channel or joint, not {cfg.input_norm!r}")
        self.joint_norm = cfg.input_norm == "joint"
        self.data_bn = nn.BatchNorm1d(in_channels * num_joints) if self.joint_norm else nn.BatchNorm2d(in_channels)
        blocks = []
        cin = in_channels
        vstrides = cfg.spatial_strides or (1,) * len(cfg.channels)
        v = num_joints
        for cout, st, vs in zip(cfg.channels, cfg.temporal_strides, vstrides, strict=True):
            blocks.append(DecoupledBlock(cin, cout, stride=st, ks=cfg.spatial_kernel, kt=cfg.temporal_kernel,
                                         vstride=vs, num_joints=v if cfg.joint_mix else None))
            cin = cout
            v = (v - 1) // vs + 1  # the (1 x ks) conv pads ks // 2 on each side
        self.blocks = nn.Sequential(*blocks)
        self.feature_dim = cin
        self.drop = nn.Dropout(cfg.dropout)
        self.fc = nn.Linear(cin, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, v = x.shape
        if self.joint_norm:
            x = self.data_bn(x.permute(0, 1, 3, 2).reshape(b, c * v, t)).reshape(b, c, v, t).permute(0, 1, 3, 2)
        else:
            x = self.data_bn(x)
        x = self.blocks(x.contiguous())
        return x.mean(dim=(2, 3))

    def classify(self, feat: torch.Tensor) -> torch.Tensor:
        return self.fc(self.drop(feat))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.forward_features(x))
