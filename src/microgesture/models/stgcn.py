"""ST-GCN (Yan et al. 2018) with the graph built from the layout's edges: the baseline of AIM's Table 2.

Spatial partitioning into three subsets (root, centripetal, centrifugal) by hop distance to the layout's centre,
learnable edge importance, 9x1 temporal convolutions, residuals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from microgesture.layouts import Layout

__all__ = ["STGCNConfig", "STGCN", "spatial_partition"]


@dataclass(frozen=True, kw_only=True)
class STGCNConfig:
    channels: tuple[int, ...] = (64, 64, 64, 64, 128, 128, 128, 256, 256, 256)
    temporal_strides: tuple[int, ...] = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1)
    temporal_kernel: int = 9
    dropout: float = 0.5
    edge_importance: bool = True


def _hops(layout: Layout) -> np.ndarray:
    n = layout.num_joints
    inf = n + 1
    d = np.full((n, n), inf, dtype=np.int64)
    np.fill_diagonal(d, 0)
    for a, b in layout.edges:
        d[a, b] = d[b, a] = 1
    for k in range(n):  # Floyd-Warshall; V <= 137
        d = np.minimum(d, d[:, k : k + 1] + d[k : k + 1, :])
    return d


def spatial_partition(layout: Layout) -> np.ndarray:
    """(3, V, V) normalised adjacency: self, neighbours closer to the centre, neighbours farther from it."""
    n = layout.num_joints
    hop = _hops(layout)
    centre = hop[list(layout.center)].min(axis=0)
    a = np.zeros((3, n, n), dtype=np.float32)
    for i in range(n):
        for j in range(n):
            if hop[i, j] == 0:
                a[0, j, i] = 1
            elif hop[i, j] == 1:
                if centre[j] == centre[i]:
                    a[0, j, i] = 1
                elif centre[j] > centre[i]:
                    a[1, j, i] = 1  # j is farther: message from i flows outward
                else:
                    a[2, j, i] = 1
    deg = a.sum(axis=(0, 1))  # in-degree of each target column
    return a / np.maximum(deg, 1)[None, None, :]


class GraphConv(nn.Module):
    def __init__(self, cin: int, cout: int, num_subsets: int):
        super().__init__()
        self.k = num_subsets
        self.conv = nn.Conv2d(cin, cout * num_subsets, 1)

    def forward(self, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        b, _, t, v = x.shape
        x = self.conv(x).view(b, self.k, -1, t, v)
        return torch.einsum("bkctv,kvw->bctw", x, a)


class STGCNBlock(nn.Module):
    def __init__(self, cin: int, cout: int, *, stride: int, kt: int, num_subsets: int, residual: bool = True):
        super().__init__()
        self.gcn = GraphConv(cin, cout, num_subsets)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, (kt, 1), (stride, 1), (kt // 2, 0)),
            nn.BatchNorm2d(cout),
        )
        if not residual:
            self.res: nn.Module | None = None
        elif cin == cout and stride == 1:
            self.res = nn.Identity()
        else:
            self.res = nn.Sequential(nn.Conv2d(cin, cout, 1, (stride, 1)), nn.BatchNorm2d(cout))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        y = self.tcn(self.gcn(x, a))
        if self.res is not None:
            y = y + self.res(x)
        return self.relu(y)


class STGCN(nn.Module):
    """Input (B, C, T, V) -> logits; ``forward_features`` gives the pooled (B, D) feature."""

    def __init__(self, *, in_channels: int, layout: Layout, num_classes: int, cfg: STGCNConfig | None = None):
        super().__init__()
        cfg = cfg or STGCNConfig()
        a = torch.from_numpy(spatial_partition(layout))
        self.register_buffer("A", a)
        v = layout.num_joints
        self.data_bn = nn.BatchNorm1d(in_channels * v)
        blocks = []
        cin = in_channels
        for i, (cout, st) in enumerate(zip(cfg.channels, cfg.temporal_strides, strict=True)):
            blocks.append(STGCNBlock(cin, cout, stride=st, kt=cfg.temporal_kernel, num_subsets=a.shape[0],
                                     residual=i > 0))
            cin = cout
        self.blocks = nn.ModuleList(blocks)
        if cfg.edge_importance:
            self.importance = nn.ParameterList([nn.Parameter(torch.ones_like(a)) for _ in blocks])
        else:
            self.importance = None
        self.feature_dim = cin
        self.drop = nn.Dropout(cfg.dropout)
        self.fc = nn.Linear(cin, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, v = x.shape
        x = self.data_bn(x.permute(0, 1, 3, 2).reshape(b, c * v, t)).reshape(b, c, v, t).permute(0, 1, 3, 2)
        x = x.contiguous()
        for i, blk in enumerate(self.blocks):
            a = self.A * self.importance[i] if self.importance is not None else self.A
            x = blk(x, a)
        return x.mean(dim=(2, 3))

    def classify(self, feat: torch.Tensor) -> torch.Tensor:
        return self.fc(self.drop(feat))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.forward_features(x))
