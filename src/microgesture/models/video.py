"""Video backbones from torchvision (Video Swin, R(2+1)D), wrapped for microgesture branches.

The backbones are torchvision's own classes (``SwinTransformer3d``, ``VideoResNet``), built with the published
hyper-parameters or smaller ones for tests; only the classifier is microgesture's: dropout + ``fc`` (named ``fc`` so
that
``optim.backbone_lr_mult`` treats everything else as backbone). Input (B, 3, T, H, W) float, normalised; output
logits (B, K).

``pretrained`` is "" (random init), the name of a torchvision weights entry (``KINETICS400_V1``, and for Swin-B also
``KINETICS400_IMAGENET22K_V1``; torchvision downloads them to its cache on first use), or the path of a local state
dict of the torchvision architecture (``torch.load(weights_only=True)``; a dict with a ``state_dict`` key, or keys
prefixed ``module.``, also works). The Kinetics classifier is dropped either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

__all__ = ["SwinConfig", "R2Plus1DConfig", "VideoClassifier", "build_video_model", "SWIN_ARCHS"]

# Video Swin T/S/B as in the paper, torchvision's builders and mmaction2's configs (docs/recipes.md, "Video Swin").
SWIN_ARCHS: dict[str, dict] = {
    "swin3d_t": {"embed_dim": 96, "depths": (2, 2, 6, 2), "num_heads": (3, 6, 12, 24)},
    "swin3d_s": {"embed_dim": 96, "depths": (2, 2, 18, 2), "num_heads": (3, 6, 12, 24)},
    "swin3d_b": {"embed_dim": 128, "depths": (2, 2, 18, 2), "num_heads": (4, 8, 16, 32)},
}
SWIN_PATCH, SWIN_WINDOW = (2, 4, 4), (8, 7, 7)


@dataclass(frozen=True, kw_only=True)
class SwinConfig:
    """Video Swin settings. The architecture fields default (0 / empty) to the branch's size (T, S or B); setting
    them builds a smaller network of the same class (tests), which only loads a local weights file of that shape.

    Attributes:
        pretrained: "", a torchvision weights name, or a local state-dict file (module docstring).
        drop_path: stochastic depth of the last block, linear from 0 (0.2 for S, 0.3 for B in MM-Gesture).
        dropout: before the classifier (0.5 as in mmaction2's Swin head).
    """

    pretrained: str = ""
    drop_path: float = 0.2
    dropout: float = 0.5
    embed_dim: int = 0
    depths: tuple[int, ...] = ()
    num_heads: tuple[int, ...] = ()
    patch_size: tuple[int, ...] = ()
    window_size: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class R2Plus1DConfig:
    """R(2+1)D settings: ``layers`` = BasicBlocks per stage ((2, 2, 2, 2) is R(2+1)D-18; fewer for tests).
    torchvision's VideoResNet has fixed widths 64-512 and no drop-path."""

    pretrained: str = ""
    dropout: float = 0.5
    layers: tuple[int, int, int, int] = (2, 2, 2, 2)


class VideoClassifier(nn.Module):
    """A torchvision video backbone without its classifier + dropout + ``fc``.

    ``forward_features`` (B, 3, T, H, W) -> (B, D) pooled features; ``classify`` (B, D) -> (B, K).
    """

    def __init__(self, *, backbone: nn.Module, feature_dim: int, num_classes: int, dropout: float):
        super().__init__()
        self.backbone = backbone
        self.feature_dim = feature_dim
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(feature_dim, num_classes)
        nn.init.normal_(self.fc.weight, 0.0, 0.01)
        nn.init.zeros_(self.fc.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)

    def classify(self, feat: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(feat))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.forward_features(x))


def _load_pretrained(model: nn.Module, arch: str, pretrained: str, *, custom: bool) -> None:
    """Load torchvision weights by name or a local state dict into the full torchvision model (head included)."""
    from torchvision.models import get_model_weights

    enum = get_model_weights(arch)
    if pretrained in enum.__members__:
        if custom:
            raise ValueError(f"model.pretrained={pretrained}: torchvision weights need the full {arch} architecture; "
                             "leave embed_dim/depths/num_heads/patch_size/window_size/layers at their defaults")
        try:
            state = enum[pretrained].get_state_dict(progress=True, check_hash=True)
        except Exception as e:  # no internet, proxy, disk full: say what to do instead
            raise ValueError(f"cannot download torchvision weights {arch} {pretrained} ({type(e).__name__}: {e}); "
                               "without internet pass model.pretrained=PATH to a local state dict (the .pth file "
                               "from torchvision), or model.pretrained='' to train from scratch") from None
        model.load_state_dict(state)
        return
    path = Path(pretrained)
    if not path.is_file():
        raise ValueError(f"model.pretrained={pretrained!r}: neither a file nor a torchvision weights name for {arch} "
                         f"({', '.join(n for n in enum.__members__ if n != 'DEFAULT')})")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    state = {k.removeprefix("module."): v for k, v in state.items()}
    own = model.state_dict()
    head = {k for k in own if k.startswith(("head.", "fc."))}
    state = {k: v for k, v in state.items() if not (k in head and v.shape != own[k].shape)}
    missing = sorted(k for k in set(own) - set(state) if k not in head)
    unexpected = sorted(set(state) - set(own))
    bad = sorted(k for k in state if k in own and state[k].shape != own[k].shape)
    if missing or unexpected or bad:
        raise ValueError(f"{path}: not a {arch} state dict of this shape: {len(missing)} missing "
                         f"(e.g. {missing[:3]}), {len(unexpected)} unexpected (e.g. {unexpected[:3]}), "
                         f"{len(bad)} of another shape (e.g. {bad[:3]})")
    model.load_state_dict(state, strict=False)


def _swin(arch: str, cfg: SwinConfig, num_classes: int) -> VideoClassifier:
    from torchvision.models.video.swin_transformer import SwinTransformer3d

    base = SWIN_ARCHS[arch]
    kw = {
        "embed_dim": cfg.embed_dim or base["embed_dim"],
        "depths": list(cfg.depths or base["depths"]),
        "num_heads": list(cfg.num_heads or base["num_heads"]),
        "patch_size": list(cfg.patch_size or SWIN_PATCH),
        "window_size": list(cfg.window_size or SWIN_WINDOW),
    }
    if len(kw["depths"]) != len(kw["num_heads"]):
        raise ValueError(f"model.depths {kw['depths']} and model.num_heads {kw['num_heads']} differ in length")
    if sum(kw["depths"]) < 2:
        raise ValueError("model.depths: Video Swin needs at least 2 blocks in total (drop-path is spread over them)")
    custom = any((cfg.embed_dim, cfg.depths, cfg.num_heads, cfg.patch_size, cfg.window_size))
    # torchvision's swin3d_* builders fix stochastic_depth_prob, so the class is built directly with their values.
    net = SwinTransformer3d(stochastic_depth_prob=cfg.drop_path, num_classes=400, **kw)
    if cfg.pretrained:
        _load_pretrained(net, arch, cfg.pretrained, custom=custom)
    dim = net.num_features
    net.head = nn.Identity()
    return VideoClassifier(backbone=net, feature_dim=dim, num_classes=num_classes, dropout=cfg.dropout)


def _r2plus1d(cfg: R2Plus1DConfig, num_classes: int) -> VideoClassifier:
    from torchvision.models.video.resnet import BasicBlock, Conv2Plus1D, R2Plus1dStem, VideoResNet

    if len(cfg.layers) != 4 or min(cfg.layers) < 1:
        raise ValueError(f"model.layers must be 4 positive block counts, got {cfg.layers}")
    net = VideoResNet(BasicBlock, [Conv2Plus1D] * 4, list(cfg.layers), R2Plus1dStem, num_classes=400)
    if cfg.pretrained:
        _load_pretrained(net, "r2plus1d_18", cfg.pretrained, custom=tuple(cfg.layers) != (2, 2, 2, 2))
    net.fc = nn.Identity()
    return VideoClassifier(backbone=net, feature_dim=512, num_classes=num_classes, dropout=cfg.dropout)


def build_video_model(arch: str, cfg: SwinConfig | R2Plus1DConfig, num_classes: int) -> VideoClassifier:
    """``arch`` is ``swin3d_t``, ``swin3d_s``, ``swin3d_b`` (with a SwinConfig) or ``r2plus1d_18`` (R2Plus1DConfig)."""
    if arch in SWIN_ARCHS:
        if not isinstance(cfg, SwinConfig):
            raise TypeError(f"{arch} takes a SwinConfig, got {type(cfg).__name__}")
        return _swin(arch, cfg, num_classes)
    if arch == "r2plus1d_18":
        if not isinstance(cfg, R2Plus1DConfig):
            raise TypeError(f"{arch} takes an R2Plus1DConfig, got {type(cfg).__name__}")
        return _r2plus1d(cfg, num_classes)
    raise ValueError(f"unknown video architecture {arch!r}; known: {', '.join([*SWIN_ARCHS, 'r2plus1d_18'])}")
