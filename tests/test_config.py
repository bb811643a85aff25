"""Run configs: nested input sections (``geometry``), typos that fail, resolution order, and resolved round trips."""

import pytest
import yaml

from microgesture.branches import BRANCHES, get_branch
from microgesture.config import build_dataclass, from_dict, parse_overrides
from microgesture.inputs.geometry import GeometryConfig
from microgesture.inputs.rgb import RGBInputConfig
from microgesture.train import resolve_config


def test_geometry_is_one_nested_section_and_partial_overrides_keep_the_input_defaults():
    cfg = build_dataclass(RGBInputConfig, {"geometry": {"scale": 1.5}}, where="input")
    # RGB's own defaults (AIM: threshold 0.05) stay; only the given key changes
    assert cfg.geometry == GeometryConfig(scale=1.5, threshold=0.05)
    heat = resolve_config(branch="heatmap-posec3d-joint", overrides=parse_overrides(["input.geometry.flip_prob=0"]))
    assert heat.input["geometry"]["flip_prob"] == 0 and heat.input["geometry"]["scale"] == 1.25
    # the RGB SlowOnly recipe sets PoseC3D's box over RGB's defaults
    slow = resolve_config(branch="rgb-slowonly-r50").input["geometry"]
    assert (slow["scale"], slow["threshold"]) == (1.25, 0.0)


@pytest.mark.parametrize("override, match", [
    ("input.geometry.scael=1.2", r"unknown key\(s\) in input of rgb-r2plus1d.geometry: scael"),
    ("input.box_scale=1.2", r"unknown key\(s\) in input of rgb-r2plus1d: box_scale"),  # the old flat key
    ("input.geometry.flip_prob=2", "flip_prob must be in"),
])
def test_typos_and_old_flat_keys_fail(override, match):
    with pytest.raises(ValueError, match=match):
        resolve_config(branch="rgb-r2plus1d", overrides=parse_overrides([override]))


@pytest.mark.parametrize("name", sorted(BRANCHES))
def test_resolved_config_round_trips_through_yaml(name):
    cfg = resolve_config(branch=name, dataset="/data/x", seed=3)
    b = get_branch(name)
    assert set(cfg.input) == set(b.input_cls.__dataclass_fields__)
    assert set(cfg.model) == set(b.model_cls.__dataclass_fields__)
    again = from_dict(yaml.safe_load(yaml.safe_dump(cfg.to_dict())))
    assert again == cfg and resolve_config(branch=name, file_cfg=cfg.to_dict()) == cfg
