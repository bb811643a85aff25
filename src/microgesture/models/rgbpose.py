"""RGBPoseConv3D (MM-Gesture's RGB + pose module): two SlowOnly pathways joined by lateral connections both ways.

Constants from the authors' pyskl configs (docs/recipes.md, "RGBPoseConv3D"):

- RGB pathway: SlowOnly-R50 (stages (3, 4, 6, 3), base 64, 1 x 7 x 7 stem, inflate (0, 0, 1, 1)), 8 frames of
  224 x 224 -> (2048, 8, 7, 7);
- pose pathway: PoseC3D's network with temporal strides (1, 1, 1), 32 frames of 56 x 56 -> (512, 32, 7, 7);
- the pose pathway has one stage fewer, so pose stage j sits at the resolution of RGB stage j + 1. Before RGB stages
  2, 3 and pose stages 1, 2 each pathway receives the other's latest output through a 7 x 1 x 1 lateral (speed ratio 4,
  channel ratio 4): pose -> RGB a strided conv (128 -> 128, 256 -> 256: RGB stage inputs 640, 1280); RGB -> pose a
  transposed conv + BN + ReLU (512 -> 32, 1024 -> 64: pose stage inputs 160, 320). The lateral is concatenated after
  the pathway's own channels;
- separate heads (global pool, dropout 0.5, FC); loss CE_rgb + CE_pose; prediction 0.5 P_rgb + 0.5 P_pose.

Input: a dict ``{"rgb": (B, 3, T, H, W), "pose": (B, C, T * speed_ratio, H / 4, W / 4)}``. ``forward`` returns the
log of the fused probability, so ``softmax(forward(x))`` = 0.5 P_rgb + 0.5 P_pose; ``classify_each`` gives the two
heads' logits for the two-term loss (microgesture.train uses it when a model has it).

Initialisation (``load_sources``): the RGB pathway from an RGB SlowOnly run (branch ``rgb-slowonly-r50``), the pose
pathway from a PoseC3D run (``heatmap-posec3d-*``); the first block of a stage that receives a lateral gets the
source's weights for its own input channels and zeros for the lateral ones, so at that point each pathway computes what
its source did (given the same temporal strides).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from microgesture.models.resnet3d import Bottleneck3D, ResNet3D, ResNet3DConfig

__all__ = ["RGBPoseConfig", "RGBPoseConv3D", "SourceError", "load_pathway"]


class SourceError(ValueError):
    """An init checkpoint that does not fit the pathway it should initialise; names the file and the mismatch."""


@dataclass(frozen=True, kw_only=True)
class RGBPoseConfig:
    """RGBPoseConv3D settings; defaults are MM-Gesture's (docs/recipes.md "RGBPoseConv3D").

    Attributes:
        rgb_base_channels, rgb_stage_blocks: the RGB SlowOnly-R50's width and depth (64, (3, 4, 6, 3)).
        pose_base_channels, pose_stage_blocks: the pose pathway's (32, (4, 6, 3)); it needs one stage fewer.
        speed_ratio: RGB frames x speed_ratio = pose frames (4: 8 and 32).
        channel_ratio: a lateral carries the receiving side's channels / channel_ratio (4).
        lateral_kernel: temporal kernel of the laterals (7).
        dropout: before each head (0.5).
        rgb_weight: fused probability = rgb_weight P_rgb + (1 - rgb_weight) P_pose (0.5).
        init_rgb, init_pose: run directories or model.ckpt files to start the two pathways from ("" = random).
    """

    rgb_base_channels: int = 64
    rgb_stage_blocks: tuple[int, ...] = (3, 4, 6, 3)
    pose_base_channels: int = 32
    pose_stage_blocks: tuple[int, ...] = (4, 6, 3)
    speed_ratio: int = 4
    channel_ratio: int = 4
    lateral_kernel: int = 7
    dropout: float = 0.5
    rgb_weight: float = 0.5
    init_rgb: str = ""
    init_pose: str = ""

    def __post_init__(self) -> None:
        if len(self.rgb_stage_blocks) != len(self.pose_stage_blocks) + 1:
            raise ValueError(f"RGBPoseConfig: the RGB pathway needs one stage more than the pose pathway, got "
                             f"{self.rgb_stage_blocks} and {self.pose_stage_blocks}")
        if self.speed_ratio < 1 or self.channel_ratio < 1 or self.lateral_kernel % 2 == 0:
            raise ValueError("RGBPoseConfig: speed_ratio, channel_ratio >= 1 and an odd lateral_kernel needed")
        if not 0.0 <= self.rgb_weight <= 1.0:
            raise ValueError(f"RGBPoseConfig: rgb_weight must be in [0, 1], got {self.rgb_weight}")

    def rgb_config(self, num_classes: int) -> ResNet3DConfig:
        """The RGB pathway as a stand-alone SlowOnly (what an ``rgb-slowonly-r50`` source run must have)."""
        n = len(self.rgb_stage_blocks)
        return ResNet3DConfig.slowonly_r50(base_channels=self.rgb_base_channels, stage_blocks=self.rgb_stage_blocks,
                                           spatial_strides=(1,) + (2,) * (n - 1), temporal_strides=(1,) * n,
                                           inflate=(0,) * (n - 2) + (1, 1), dropout=self.dropout,
                                           num_classes=num_classes)  # fmt: skip

    def pose_config(self, in_channels: int, num_classes: int) -> ResNet3DConfig:
        """The pose pathway: PoseC3D's network without temporal stride (32 frames in, 32 out)."""
        n = len(self.pose_stage_blocks)
        return ResNet3DConfig.posec3d(in_channels=in_channels, base_channels=self.pose_base_channels,
                                      stage_blocks=self.pose_stage_blocks, spatial_strides=(2,) * n,
                                      temporal_strides=(1,) * n, inflate=(0,) + (1,) * (n - 1), dropout=self.dropout,
                                      num_classes=num_classes)  # fmt: skip


class _DeconvLateral(nn.Module):
    """RGB -> pose: transposed conv k x 1 x 1, stride (speed_ratio, 1, 1), + BN + ReLU; T -> T * speed_ratio exactly."""

    def __init__(self, cin: int, cout: int, *, kernel: int, ratio: int) -> None:
        super().__init__()
        self.ratio = ratio
        self.conv = nn.ConvTranspose3d(cin, cout, (kernel, 1, 1), stride=(ratio, 1, 1), padding=(kernel // 2, 0, 0),
                                       bias=False)  # fmt: skip
        self.bn = nn.BatchNorm3d(cout)

    def forward(self, x: Tensor) -> Tensor:
        b, _, t, h, w = x.shape
        # output_size picks the output padding that makes the length exactly T * ratio (pyskl's DeConvModule does too)
        y = self.conv(x, output_size=(b, self.conv.out_channels, t * self.ratio, h, w))
        return F.relu(self.bn(y))


def _widen_first_block(path: ResNet3D, stage: int, extra: int) -> None:
    """Replace the first block of ``stage`` by one taking ``extra`` more input channels (appended after its own)."""
    old = path.stages[stage][0]
    cfg = path.config
    new = Bottleneck3D(old.conv1.in_channels + extra, old.conv1.out_channels,
                       spatial_stride=cfg.spatial_strides[stage], temporal_stride=cfg.temporal_strides[stage],
                       inflate=bool(cfg.inflate[stage]))  # fmt: skip
    for m in new.modules():  # the same init as ResNet3D._init_weights
        if isinstance(m, nn.Conv3d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    if cfg.zero_init_residual:
        nn.init.zeros_(new.bn3.weight)
    path.stages[stage][0] = new


class RGBPoseConv3D(nn.Module):
    """Two-pathway classifier; see the module docstring. Submodules ``rgb`` and ``pose`` are :class:`ResNet3D` s whose
    parameter names match stand-alone runs (``stem.*``, ``stages.*``, ``head.*``), which is what makes init simple."""

    def __init__(self, *, config: RGBPoseConfig | None = None, pose_channels: int = 36, num_classes: int = 32,
                 pose_kind: str = "") -> None:  # fmt: skip
        super().__init__()
        self.config = cfg = config or RGBPoseConfig()
        self.pose_kind = pose_kind  # "joint" / "limb": checked against the pose source's input
        self.num_classes = num_classes
        self.rgb = ResNet3D(config=cfg.rgb_config(num_classes))
        self.pose = ResNet3D(config=cfg.pose_config(pose_channels, num_classes))
        exp = Bottleneck3D.expansion
        rgb_out = [cfg.rgb_base_channels * 2**i * exp for i in range(len(cfg.rgb_stage_blocks))]
        pose_out = [cfg.pose_base_channels * 2**i * exp for i in range(len(cfg.pose_stage_blocks))]
        k, r, c = cfg.lateral_kernel, cfg.speed_ratio, cfg.channel_ratio
        # pose stage j-1 output -> RGB stage j+1 input; RGB stage j output -> pose stage j input (j >= 1)
        self.to_rgb = nn.ModuleList()
        self.to_pose = nn.ModuleList()
        for j in range(1, len(pose_out)):
            to_rgb = rgb_out[j] // c
            self.to_rgb.append(nn.Conv3d(pose_out[j - 1], to_rgb, (k, 1, 1), stride=(r, 1, 1), padding=(k // 2, 0, 0),
                                         bias=False))  # fmt: skip
            to_pose = pose_out[j - 1] // c
            self.to_pose.append(_DeconvLateral(rgb_out[j], to_pose, kernel=k, ratio=r))
            _widen_first_block(self.rgb, j + 1, to_rgb)
            _widen_first_block(self.pose, j, to_pose)
        for m in self.to_rgb:
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        self.feature_dim = self.rgb.feature_dim + self.pose.feature_dim

    def forward_maps(self, x: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """{"rgb": (B, 3, T, H, W), "pose": (B, C, rT, H/4, W/4)} -> (B, 2048, T, 7, 7), (B, 512, rT, 7, 7) maps."""
        r, p = self.rgb.stem(x["rgb"]), self.pose.stem(x["pose"])
        r = self.rgb.stages[0](r)
        for j, pose_stage in enumerate(self.pose.stages):
            r_in = self.rgb.stages[j + 1]
            if j == 0:
                r, p = r_in(r), pose_stage(p)
                continue
            lat_r, lat_p = self.to_rgb[j - 1](p), self.to_pose[j - 1](r)
            r, p = r_in(torch.cat([r, lat_r], 1)), pose_stage(torch.cat([p, lat_p], 1))
        return r, p

    def forward_features(self, x: dict[str, Tensor]) -> Tensor:
        """Pooled features of both pathways, concatenated: (B, D_rgb + D_pose) = (B, 2048 + 512)."""
        r, p = self.forward_maps(x)
        return torch.cat([F.adaptive_avg_pool3d(r, 1).flatten(1), F.adaptive_avg_pool3d(p, 1).flatten(1)], 1)

    def classify_each(self, feat: Tensor) -> tuple[Tensor, Tensor]:
        """(B, D_rgb + D_pose) -> (RGB logits, pose logits), each (B, K): dropout, then each pathway's own head."""
        fr, fp = feat.split([self.rgb.feature_dim, self.pose.feature_dim], 1)
        return self.rgb.classify(fr), self.pose.classify(fp)

    def fuse(self, logits: tuple[Tensor, Tensor]) -> Tensor:
        """log(w P_rgb + (1 - w) P_pose), (B, K); its softmax is the fused probability itself."""
        w = self.config.rgb_weight
        lr, lp = F.log_softmax(logits[0], -1), F.log_softmax(logits[1], -1)
        if w in (0.0, 1.0):
            return lr if w == 1.0 else lp
        return torch.logaddexp(lr + math.log(w), lp + math.log(1.0 - w))

    def classify(self, feat: Tensor) -> Tensor:
        """Fused log-probabilities (B, K) (see :meth:`fuse`)."""
        return self.fuse(self.classify_each(feat))

    def forward(self, x: dict[str, Tensor]) -> Tensor:
        return self.classify(self.forward_features(x))

    def load_sources(self) -> list[str]:
        """Load ``init_rgb`` / ``init_pose`` into the pathways (microgesture.train.fit calls it before training).

        Returns one line per loaded source, for the log.
        """
        said = []
        if self.config.init_rgb:
            said.append(load_pathway(self.rgb, self.config.init_rgb, role="rgb"))
        if self.config.init_pose:
            said.append(load_pathway(self.pose, self.config.init_pose, role="pose", kind=self.pose_kind))
        return said


def _ckpt(path: str | Path) -> Path:
    p = Path(path)
    p = p / "model.ckpt" if p.is_dir() else p
    if not p.is_file():
        raise SourceError(f"{p}: init checkpoint not found (give a run directory or its model.ckpt)")
    return p


def load_pathway(path_module: ResNet3D, source: str | Path, *, role: str, kind: str = "") -> str:
    """Copy a stand-alone ResNet3D run's weights into one pathway; lateral input channels start at zero.

    Args:
        path_module: the pathway (``model.rgb`` or ``model.pose``).
        source: a run directory or model.ckpt ({"microgesture": meta, "state_dict": {"model.<name>": tensor}}).
        role: "rgb" or "pose", for the messages.
        kind: the pose input's kind ("joint" / "limb"); a source trained on the other kind is refused.

    Raises:
        SourceError: the file is not a microgesture checkpoint of a ResNet3D with this pathway's shapes.
    """
    p = _ckpt(source)
    ck = torch.load(p, map_location="cpu", weights_only=True)
    if not isinstance(ck, dict) or "state_dict" not in ck:
        raise SourceError(f"{p}: not a microgesture model checkpoint (no 'state_dict')")
    meta = ck.get("microgesture", {})
    src_kind = meta.get("config", {}).get("input", {}).get("kind")
    if kind and src_kind and src_kind != kind:
        raise SourceError(f"{p}: the {role} source was trained on {src_kind} heatmaps, this branch draws {kind}")
    src = {k.removeprefix("model."): v for k, v in ck["state_dict"].items() if k.startswith("model.")}
    own = path_module.state_dict()
    branch = meta.get("config", {}).get("branch", "?")
    what = f"{p}: branch {branch!r} is not a SlowOnly ResNet3D shaped like the {role} pathway"
    missing = sorted(k for k in own if k not in src and not k.startswith("head."))
    extra = sorted(k for k in src if k not in own)
    if missing or extra:
        raise SourceError(f"{what}: {len(missing)} tensors missing (e.g. {', '.join(missing[:3]) or '-'}), "
                          f"{len(extra)} unexpected (e.g. {', '.join(extra[:3]) or '-'})")
    new, padded, head = {}, [], "copied"
    for k, v in own.items():
        s = src.get(k)
        if k.startswith("head.") and (s is None or s.shape != v.shape):
            head = f"new ({v.shape[0] if v.ndim else '?'} classes, source {s.shape[0] if s is not None else '?'})"
            new[k] = v
            continue
        if s.shape == v.shape:
            new[k] = s.to(v.dtype)
        elif s.ndim == 5 and v.ndim == 5 and s.shape[0] == v.shape[0] and s.shape[2:] == v.shape[2:] \
                and s.shape[1] < v.shape[1]:
            # a conv that now also reads the lateral: the source's filters for the own channels, zeros for the new
            w = torch.zeros_like(v)
            w[:, : s.shape[1]] = s
            new[k] = w
            padded.append(k)
        else:
            raise SourceError(f"{what}: {k} is {tuple(s.shape)} there, {tuple(v.shape)} here")
    path_module.load_state_dict(new)
    return f"init {role} pathway from {p} (branch {branch}): {len(new)} tensors, {len(padded)} zero-padded for the " \
           f"laterals ({', '.join(padded)}), head {head}"

