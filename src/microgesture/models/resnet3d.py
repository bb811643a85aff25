"""ResNet3D SlowOnly: PoseC3D's heatmap backbone and the RGB SlowOnly-R50 of RGBPoseConv3D.

As PoseC3D configures it (docs/recipes.md): stem Conv3d in -> 32, kernel (1, 7, 7), stride 1 + BN +
ReLU, max-pool (1, 3, 3) stride 1; three stages of (4, 6, 3) bottlenecks with planes 32 / 64 / 128 (outputs 128 / 256 /
512), spatial stride 2 in each stage, temporal strides (1, 1, 2); stage 1 is not inflated, the bottlenecks of stages
2-3 inflate their first conv to 3 x 1 x 1; projection shortcut = strided 1 x 1 x 1 conv + BN; the last BN of every
block starts at zero. On (B, 36, 48, 56, 56) the last stage gives (B, 512, 24, 7, 7) -> global average pool -> dropout
0.5 -> linear. The stride sits on the 1 x 3 x 3 conv of the first block of a stage (mmaction's "pytorch" style).

``stem`` and ``stages`` are public so RGBPoseConv3D can add lateral connections between two of these networks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor, nn

__all__ = ["ResNet3DConfig", "ResNet3D", "Bottleneck3D"]


@dataclass(frozen=True, kw_only=True)
class ResNet3DConfig:
    """ResNet3D SlowOnly settings; the defaults are PoseC3D's pose network (36 heatmap channels, 32 classes).

    Attributes:
        in_channels: input channels (heatmap channels, or 3 for RGB).
        base_channels: stem width and planes of stage 1; stage i has planes base * 2**i and outputs 4x that.
        stage_blocks: bottlenecks per stage.
        spatial_strides, temporal_strides: stride of each stage's first block.
        inflate: per stage, 1 = the bottlenecks' first conv is 3 x 1 x 1 (temporal), 0 = 1 x 1 x 1.
        stem_kernel: the stem conv's kernel (T, H, W).
        stem_stride, pool_stride: spatial strides of the stem conv and of its max-pool (1 for PoseC3D, 2 for RGB).
        dropout: before the classifier.
        num_classes: classifier outputs.
        zero_init_residual: start every block's last BN at zero, so a block is its shortcut at initialisation.
    """

    in_channels: int = 36
    base_channels: int = 32
    stage_blocks: tuple[int, ...] = (4, 6, 3)
    spatial_strides: tuple[int, ...] = (2, 2, 2)
    temporal_strides: tuple[int, ...] = (1, 1, 2)
    inflate: tuple[int, ...] = (0, 1, 1)
    stem_kernel: tuple[int, int, int] = (1, 7, 7)
    stem_stride: int = 1
    pool_stride: int = 1
    dropout: float = 0.5
    num_classes: int = 32
    zero_init_residual: bool = True

    def __post_init__(self) -> None:
        n = len(self.stage_blocks)
        for name in ("spatial_strides", "temporal_strides", "inflate"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"ResNet3DConfig: {name} needs {n} entries (one per stage), got {getattr(self, name)}")
        if n == 0 or min(self.stage_blocks) < 1:
            raise ValueError(f"ResNet3DConfig: stage_blocks must be positive, got {self.stage_blocks}")

    @property
    def feature_dim(self) -> int:
        """Channels of the last stage = size of the pooled feature."""
        return self.base_channels * 2 ** (len(self.stage_blocks) - 1) * Bottleneck3D.expansion

    @classmethod
    def posec3d(cls, **overrides: object) -> ResNet3DConfig:
        """PoseC3D's pose network (the defaults). RGBPoseConv3D's pose path: ``posec3d(temporal_strides=(1, 1, 1))``."""
        return replace(cls(), **overrides)

    @classmethod
    def slowonly_r50(cls, **overrides: object) -> ResNet3DConfig:
        """The RGB SlowOnly-R50: stages (3, 4, 6, 3), base 64, 1 x 7 x 7 stem, inflate (0, 0, 1, 1), 3 input channels.

        Standard ResNet-50 strides: stem conv and pool stride 2, stages (1, 2, 2, 2); no temporal stride
        (8 frames in, 8 out): 224 x 224 -> (2048, 8, 7, 7).
        """
        base = cls(in_channels=3, base_channels=64, stage_blocks=(3, 4, 6, 3), spatial_strides=(1, 2, 2, 2),
                   temporal_strides=(1, 1, 1, 1), inflate=(0, 0, 1, 1), stem_stride=2, pool_stride=2)  # fmt: skip
        return replace(base, **overrides)


class Bottleneck3D(nn.Module):
    """conv (1 or 3) x 1 x 1 -> conv 1 x 3 x 3 (strided) -> conv 1 x 1 x 1 (x4 channels), BN after each, + shortcut.

    Input (B, inplanes, T, H, W); output (B, 4 * planes, T / temporal_stride, H / spatial_stride, W / spatial_stride).
    """

    expansion = 4

    def __init__(
        self, inplanes: int, planes: int, *, spatial_stride: int = 1, temporal_stride: int = 1, inflate: bool = False
    ) -> None:
        super().__init__()
        out = planes * self.expansion
        k1, p1 = ((3, 1, 1), (1, 0, 0)) if inflate else ((1, 1, 1), (0, 0, 0))
        stride = (temporal_stride, spatial_stride, spatial_stride)
        self.conv1 = nn.Conv3d(inplanes, planes, k1, padding=p1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = nn.Conv3d(planes, planes, (1, 3, 3), stride=stride, padding=(0, 1, 1), bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv3 = nn.Conv3d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm3d(out)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if inplanes != out or stride != (1, 1, 1):
            self.shortcut = nn.Sequential(nn.Conv3d(inplanes, out, 1, stride=stride, bias=False), nn.BatchNorm3d(out))

    def forward(self, x: Tensor) -> Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + self.shortcut(x))


class ResNet3D(nn.Module):
    """ResNet3D SlowOnly classifier. Input (B, C_in, T, H, W) heatmap volumes or frames; ``forward`` returns logits."""

    def __init__(self, *, config: ResNet3DConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or ResNet3DConfig()
        k = cfg.stem_kernel
        self.stem = nn.Sequential(
            nn.Conv3d(cfg.in_channels, cfg.base_channels, k, stride=(1, cfg.stem_stride, cfg.stem_stride),
                      padding=tuple(s // 2 for s in k), bias=False),  # fmt: skip
            nn.BatchNorm3d(cfg.base_channels),
            nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 3, 3), stride=(1, cfg.pool_stride, cfg.pool_stride), padding=(0, 1, 1)),
        )
        stages, inplanes = [], cfg.base_channels
        for i, blocks in enumerate(cfg.stage_blocks):
            planes = cfg.base_channels * 2**i
            layers = []
            for j in range(blocks):
                first = j == 0
                layers.append(Bottleneck3D(
                    inplanes, planes, spatial_stride=cfg.spatial_strides[i] if first else 1,
                    temporal_stride=cfg.temporal_strides[i] if first else 1, inflate=bool(cfg.inflate[i]),
                ))  # fmt: skip
                inplanes = planes * Bottleneck3D.expansion
            stages.append(nn.Sequential(*layers))
        self.stages = nn.ModuleList(stages)
        self.feature_dim = inplanes
        self.dropout = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(inplanes, cfg.num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if self.config.zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck3D):
                    nn.init.zeros_(m.bn3.weight)
        nn.init.normal_(self.head.weight, std=0.01)  # I3DHead's init_std 0.01
        nn.init.zeros_(self.head.bias)

    def forward_maps(self, x: Tensor) -> Tensor:
        """(B, C_in, T, H, W) -> last stage's (B, D, T', H', W'), e.g. (B, 512, 24, 7, 7) for PoseC3D's input."""
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return x

    def forward_features(self, x: Tensor) -> Tensor:
        """(B, C_in, T, H, W) -> pooled pre-classifier feature (B, D); D = 512 for the pose network."""
        return torch.flatten(nn.functional.adaptive_avg_pool3d(self.forward_maps(x), 1), 1)

    def classify(self, feat: Tensor) -> Tensor:
        """Pooled feature (B, D) -> logits (B, num_classes): dropout, then ``head``."""
        return self.head(self.dropout(feat))

    def forward(self, x: Tensor) -> Tensor:
        """(B, C_in, T, H, W) -> logits (B, num_classes)."""
        return self.classify(self.forward_features(x))
