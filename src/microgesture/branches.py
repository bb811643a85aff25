"""The branch registry. A branch = a modality + its input pipeline + a model + a default recipe (loss, optimiser,
schedule, loop). Registered by explicit calls at the bottom of this module; a duplicate name is an error.

The pipeline contract is :class:`microgesture.inputs.protocols.Pipeline`; the model's, with its optional hooks,
:mod:`microgesture.models.protocols`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from microgesture.config import build_dataclass
from microgesture.inputs.protocols import Pipeline

__all__ = ["Pipeline", "Branch", "register_branch", "get_branch", "list_branches", "BRANCHES"]


@dataclass(frozen=True)
class Branch:
    """A registered branch.

    Attributes:
        name: registry name, e.g. ``joint-dstcnn``.
        modality: what it reads (``joint``, ``heatmap-joint``, ``rgb``, ...).
        description: one line for ``microgesture branches``.
        input_cls, model_cls: config dataclasses of the input pipeline and the model.
        make_pipeline: (input config, stored layout of the dataset) -> Pipeline.
        make_model: (model config, input config, number of classes) -> nn.Module with ``forward_features``,
            ``classify`` and ``feature_dim``.
        recipe: defaults for the run config sections (optim, schedule, loss, train), as a nested dict.
    """

    name: str
    modality: str
    description: str
    input_cls: type
    model_cls: type
    make_pipeline: Callable[[Any, str], Pipeline]
    make_model: Callable[[Any, Any, int], nn.Module]
    recipe: dict = field(default_factory=dict)

    def input_config(self, values: dict) -> Any:
        return build_dataclass(self.input_cls, values, where=f"input of {self.name}")

    def model_config(self, values: dict) -> Any:
        return build_dataclass(self.model_cls, values, where=f"model of {self.name}")


BRANCHES: dict[str, Branch] = {}


def register_branch(branch: Branch) -> Branch:
    if branch.name in BRANCHES:
        raise ValueError(f"branch {branch.name!r} is already registered")
    BRANCHES[branch.name] = branch
    return branch


def get_branch(name: str) -> Branch:
    try:
        return BRANCHES[name]
    except KeyError:
        raise KeyError(f"unknown branch {name!r}; known: {', '.join(sorted(BRANCHES))}") from None


def list_branches() -> list[str]:
    return sorted(BRANCHES)


# ---------------------------------------------------------------------------------------------------------------------
# Skeleton-coordinate branches


def _make_dstcnn(mcfg, icfg, num_classes: int) -> nn.Module:
    from microgesture.layouts import get_layout
    from microgesture.models.dstcnn import DecoupledSTCNN

    return DecoupledSTCNN(in_channels=icfg.channels, num_joints=get_layout(icfg.layout).num_joints,
                          num_classes=num_classes, cfg=mcfg)


def _make_stgcn(mcfg, icfg, num_classes: int) -> nn.Module:
    from microgesture.layouts import get_layout
    from microgesture.models.stgcn import STGCN

    return STGCN(in_channels=icfg.channels, layout=get_layout(icfg.layout), num_classes=num_classes, cfg=mcfg)


def _register_skeleton_branches() -> None:
    from microgesture.inputs.skeleton import SkeletonInputConfig, SkeletonPipeline
    from microgesture.models.dstcnn import DSTCNNConfig
    from microgesture.models.stgcn import STGCNConfig

    register_branch(Branch(
        name="joint-dstcnn",
        modality="joint",
        description="AIM's Decoupled ST-CNN on joint coordinates (aim68 by default)",
        input_cls=SkeletonInputConfig,
        model_cls=DSTCNNConfig,
        make_pipeline=SkeletonPipeline,
        make_model=_make_dstcnn,
        # AIM: AdamW + cosine; sqrt-smoothed focal loss and the orthogonal semantic loss (weight 1: docs/recipes.md)
        recipe={
            "optim": {"name": "adamw", "lr": 1e-3, "weight_decay": 1e-4},
            "schedule": {"name": "cosine", "warmup_epochs": 1},
            "loss": {"name": "focal", "gamma": 2.0, "class_weights": "sqrt", "semantic_weight": 1.0},
            "train": {"epochs": 30, "batch_size": 32},
        },
    ))
    register_branch(Branch(
        name="joint-stgcn",
        modality="joint",
        description="ST-GCN baseline on joint coordinates, graph from the layout's edges (mmg36 by default)",
        input_cls=SkeletonInputConfig,
        model_cls=STGCNConfig,
        make_pipeline=SkeletonPipeline,
        make_model=_make_stgcn,
        recipe={
            "input": {"layout": "mmg36"},
            "optim": {"name": "sgd", "lr": 0.1, "weight_decay": 5e-4, "nesterov": True},
            "schedule": {"name": "cosine"},
            "loss": {"name": "ce"},
            "train": {"epochs": 30, "batch_size": 32},
        },
    ))


_register_skeleton_branches()


# ---------------------------------------------------------------------------------------------------------------------
# Heatmap-volume branches (PoseC3D): the loader yields keypoints on the heatmap canvas; the volumes are drawn on the
# device inside the step (microgesture.inputs.heatmaps.HeatmapPipeline).


def _make_resnet3d(mcfg, icfg, num_classes: int) -> nn.Module:
    from dataclasses import replace

    from microgesture.models.resnet3d import ResNet3D

    # input channels and classes come from the input (joints or limbs of the layout) and the dataset
    return ResNet3D(config=replace(mcfg, in_channels=icfg.channels, num_classes=num_classes))


def _register_heatmap_branches() -> None:
    from microgesture.inputs.heatmaps import HeatmapInputConfig, HeatmapPipeline
    from microgesture.models.resnet3d import ResNet3DConfig

    # PoseC3D: SGD m0.9 wd 3e-4 on every weight, per-iteration cosine to 0, grad clip 40, CE; lr 0.05 (joint) / 0.2
    # (limb) for 8 GPUs x 32 clips, scaled linearly to this batch of 32; 24 epochs x RepeatDataset 10 = 240 passes.
    for kind, lr in (("joint", 0.05), ("limb", 0.2)):
        register_branch(Branch(
            name=f"heatmap-posec3d-{kind}",
            modality=f"heatmap-{kind}",
            description=f"PoseC3D ResNet3D-SlowOnly on {kind} heatmap volumes (mmg36, 48 x 56 x 56, drawn on device)",
            input_cls=HeatmapInputConfig,
            model_cls=ResNet3DConfig,
            make_pipeline=HeatmapPipeline,
            make_model=_make_resnet3d,
            recipe={
                "input": {"kind": kind},
                "optim": {"name": "sgd", "lr": lr * 32 / 256, "momentum": 0.9, "weight_decay": 3e-4,
                          "no_decay_norm": False},
                "schedule": {"name": "cosine", "warmup_epochs": 0, "min_lr_factor": 0.0},
                "loss": {"name": "ce"},
                "train": {"epochs": 240, "batch_size": 32, "grad_clip": 40.0, "val_every": 10},
            },
        ))


_register_heatmap_branches()


# ---------------------------------------------------------------------------------------------------------------------
# Video branches: RGB and derived videos (Taylor, flow, depth) through torchvision backbones


def _make_rgb_pipeline(cfg, source_layout: str) -> Pipeline:
    from microgesture.inputs.rgb import RGBPipeline

    return RGBPipeline(cfg, source_layout)


def _video_model_maker(arch: str) -> Callable[[Any, Any, int], nn.Module]:
    def make(mcfg, icfg, num_classes: int) -> nn.Module:
        from microgesture.models.video import build_video_model

        return build_video_model(arch, mcfg, num_classes)

    return make


def _register_rgb_branches() -> None:
    from microgesture.inputs.rgb import IMAGENET_MEAN, IMAGENET_STD, KINETICS_MEAN, KINETICS_STD, RGBInputConfig
    from microgesture.models.video import R2Plus1DConfig, SwinConfig

    # MM-Gesture's Video Swin recipe (docs/recipes.md): AdamW lr 1e-3, backbone lr x0.1, no decay on norms and
    # position tables, warm-up from 0.1x over 2.5 epochs then cosine, 30 epochs, wd 0.02 (S) / 0.05 (B),
    # drop-path 0.2 (S) / 0.3 (B); T takes S's values. Kinetics-400 weights from torchvision.
    def recipe(*, wd: float, drop_path: float | None, mean, std, column: str) -> dict:
        model: dict = {"pretrained": "KINETICS400_V1"}
        if drop_path is not None:
            model["drop_path"] = drop_path
        return {
            "input": {"video_column": column, "mean": list(mean), "std": list(std)},
            "model": model,
            "optim": {"name": "adamw", "lr": 1e-3, "weight_decay": wd, "backbone_lr_mult": 0.1,
                      "no_decay_norm": True},
            "schedule": {"name": "cosine", "warmup_epochs": 2.5, "warmup_factor": 0.1},
            "loss": {"name": "ce"},
            "train": {"epochs": 30, "batch_size": 4, "num_workers": 4},
        }

    modalities = {"rgb": ("video_path", "RGB clip video"), "taylor": ("taylor_path", "Taylor video"),
                  "flow": ("flow_path", "optical-flow video"), "depth": ("depth_path", "depth video")}
    sizes = {"t": (0.02, 0.2), "s": (0.02, 0.2), "b": (0.05, 0.3)}
    for modality, (column, what) in modalities.items():
        for size, (wd, dp) in sizes.items():
            register_branch(Branch(
                name=f"{modality}-swin3d-{size}",
                modality=modality,
                description=f"Video Swin-{size.upper()} (torchvision, Kinetics-400) on the {what}; skeleton crop by "
                            "default (AIM), whole frames with input.crop=none (MM-Gesture)",
                input_cls=RGBInputConfig,
                model_cls=SwinConfig,
                make_pipeline=_make_rgb_pipeline,
                make_model=_video_model_maker(f"swin3d_{size}"),
                recipe=recipe(wd=wd, drop_path=dp, mean=IMAGENET_MEAN, std=IMAGENET_STD, column=column),
            ))
    # AIM: Kinetics-400 R(2+1)D on the skeleton crop (+20% margin) at 224, 24-32 frames, flip TTA; its optimiser is
    # unpublished, so the AdamW recipe above is used.
    register_branch(Branch(
        name="rgb-r2plus1d",
        modality="rgb",
        description="R(2+1)D-18 (torchvision, Kinetics-400) on the skeleton-guided RGB crop (AIM)",
        input_cls=RGBInputConfig,
        model_cls=R2Plus1DConfig,
        make_pipeline=_make_rgb_pipeline,
        make_model=_video_model_maker("r2plus1d_18"),
        recipe=recipe(wd=0.02, drop_path=None, mean=KINETICS_MEAN, std=KINETICS_STD, column="video_path"),
    ))


_register_rgb_branches()


# ---------------------------------------------------------------------------------------------------------------------
# RGBPoseConv3D (MM-Gesture): RGB + pose heatmaps under one geometric draw, two SlowOnly pathways with laterals; and
# the RGB SlowOnly-R50 whose runs initialise its RGB pathway.


def _make_rgb_slowonly(mcfg, icfg, num_classes: int) -> nn.Module:
    from dataclasses import replace

    from microgesture.models.resnet3d import ResNet3D

    return ResNet3D(config=replace(mcfg, in_channels=3, num_classes=num_classes))


def _make_rgbpose(mcfg, icfg, num_classes: int) -> nn.Module:
    from microgesture.models.rgbpose import RGBPoseConv3D

    if icfg.pose_clip_len != icfg.clip_len * mcfg.speed_ratio:
        raise ValueError(f"rgbpose: input.pose_clip_len ({icfg.pose_clip_len}) must be input.clip_len "
                         f"({icfg.clip_len}) x model.speed_ratio ({mcfg.speed_ratio})")
    return RGBPoseConv3D(config=mcfg, pose_channels=icfg.channels, num_classes=num_classes, pose_kind=icfg.kind)


def _register_rgbpose_branches() -> None:
    from microgesture.inputs.rgb import RGBInputConfig
    from microgesture.inputs.rgbpose import RGBPOSE_MEAN, RGBPOSE_STD, RGBPoseInputConfig, RGBPosePipeline
    from microgesture.models.resnet3d import ResNet3DConfig
    from microgesture.models.rgbpose import RGBPoseConfig

    # MM-Gesture's rgb_only model (docs/recipes.md): SlowOnly-R50, 8 frames, lr 0.15 for 26 x 8 clips (scaled
    # linearly to 16 here), SGD wd 1e-4, cosine per iteration to 0, grad clip 40, 18 epochs over the dataset repeated
    # 10 times = 180 passes [C].
    r50 = ResNet3DConfig.slowonly_r50()
    register_branch(Branch(
        name="rgb-slowonly-r50",
        modality="rgb-slowonly",  # not "rgb": the Swin / R(2+1)D registry tests configure every "rgb" branch
        description="SlowOnly-R50 on the skeleton-guided RGB crop, 8 frames, 180 epochs (MM-Gesture's rgb_only: 18 "
                    "x 10 repeats; initialises rgbpose-*)",
        input_cls=RGBInputConfig,
        model_cls=ResNet3DConfig,
        make_pipeline=_make_rgb_pipeline,
        make_model=_make_rgb_slowonly,
        recipe={
            "input": {"clip_len": 8, "size": 224, "geometry": {"scale": 1.25, "threshold": 0.0},
                      "mean": list(RGBPOSE_MEAN), "std": list(RGBPOSE_STD), "num_test_clips": 10,
                      "flip_test": False},
            "model": {"base_channels": r50.base_channels, "stage_blocks": list(r50.stage_blocks),
                      "spatial_strides": list(r50.spatial_strides), "temporal_strides": list(r50.temporal_strides),
                      "inflate": list(r50.inflate), "stem_stride": r50.stem_stride, "pool_stride": r50.pool_stride},
            "optim": {"name": "sgd", "lr": 0.15 * 16 / 208, "momentum": 0.9, "weight_decay": 1e-4,
                      "no_decay_norm": False},
            "schedule": {"name": "cosine", "warmup_epochs": 0, "min_lr_factor": 0.0},
            "loss": {"name": "ce"},
            "train": {"epochs": 180, "batch_size": 16, "grad_clip": 40.0, "num_workers": 4},
        },
    ))
    # Fine-tuning [C]: SGD lr 0.0075 m0.9 wd 1e-4 for 48 clips, x0.1 at epochs 12 and 16 of 20, grad clip 40, CE per
    # head summed; initialised from model.init_rgb (an rgb-slowonly-r50 run) and model.init_pose (a PoseC3D run).
    for kind in ("joint", "limb"):
        register_branch(Branch(
            name=f"rgbpose-{kind}",
            modality=f"rgb+heatmap-{kind}",
            description=f"RGBPoseConv3D: RGB SlowOnly-R50 (8 frames) + pose SlowOnly on {kind} heatmaps (32 frames) "
                        "with laterals both ways, two heads, 0.5 P_rgb + 0.5 P_pose (MM-Gesture)",
            input_cls=RGBPoseInputConfig,
            model_cls=RGBPoseConfig,
            make_pipeline=RGBPosePipeline,
            make_model=_make_rgbpose,
            recipe={
                "input": {"kind": kind},
                "optim": {"name": "sgd", "lr": 0.0075, "momentum": 0.9, "weight_decay": 1e-4,
                          "no_decay_norm": False},
                "schedule": {"name": "step", "milestones": [12, 16], "gamma": 0.1, "warmup_epochs": 0},
                "loss": {"name": "ce"},
                "train": {"epochs": 20, "batch_size": 48, "grad_clip": 40.0, "num_workers": 8},
            },
        ))


_register_rgbpose_branches()
