import numpy as np
import pytest
import torch

pytest.importorskip("transformers")

from microgesture.extract.depth import DepthConfig, DepthExtractor  # noqa: E402
from microgesture.extract.runner import build_extractor  # noqa: E402


def tiny_depth_model(seed: int = 0):
    """A randomly initialised Depth Anything with a 4-layer, 16-wide DINOv2 backbone, and its image processor."""
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, DPTImageProcessor

    backbone = Dinov2Config(hidden_size=16, num_hidden_layers=4, num_attention_heads=2, mlp_ratio=2, image_size=28,
                            patch_size=14, out_indices=[1, 2, 3, 4], reshape_hidden_states=False)
    # initializer_range 0.5 (not 0.02) so the random head's output varies visibly across pixels.
    config = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=16, neck_hidden_sizes=[8, 8, 8, 8],
                                 fusion_hidden_size=8, head_hidden_size=8, initializer_range=0.5)
    torch.manual_seed(seed)
    model = DepthAnythingForDepthEstimation(config).eval()
    processor = DPTImageProcessor(size={"height": 28, "width": 28}, keep_aspect_ratio=True, ensure_multiple_of=14,
                                  resample=3, image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225])
    return model, processor


class _IntensityModel(torch.nn.Module):
    """Stand-in "depth model" whose depth is the first input channel, to test the normalisation on its own."""

    def forward(self, pixel_values):
        return type("Out", (), {"predicted_depth": pixel_values[:, 0]})()


def test_normalisation_is_per_clip_not_per_frame():
    from transformers import DPTImageProcessor

    proc = DPTImageProcessor(do_resize=False, do_normalize=False)  # pixel_values = frames / 255
    frames = np.zeros((3, 4, 6, 3), np.uint8)
    frames[0, :, :3], frames[0, :, 3:] = 100, 200
    frames[1, :, :3], frames[1, :, 3:] = 100, 150  # smaller range: must stay darker, not be stretched
    frames[2] = 150
    out = DepthExtractor(DepthConfig(input_size=None), model=_IntensityModel(), processor=proc)(frames)[..., 0]
    assert out[0].min() == 0 and out[0].max() == 255
    # 150 is half way: 127.5 truncated to 127, as the authors' writer casts (rounding would give 128).
    assert out[1].min() == 0 and out[1].max() == 127 and (out[2] == out[1].max()).all()
    still = DepthExtractor(DepthConfig(input_size=None), model=_IntensityModel(), processor=proc)(frames[2:])
    assert (still == 0).all()  # a constant clip has no range: all zeros


def test_tiny_model_gives_grey_clip_normalised_video(rng):
    model, proc = tiny_depth_model()
    frames = rng.integers(0, 256, (5, 24, 32, 3), dtype=np.uint8)
    ex = DepthExtractor(DepthConfig(input_size=28, batch_size=2), model=model, processor=proc)
    raw = ex.predict(frames)
    assert raw.ndim == 3 and raw.shape[0] == 5 and torch.isfinite(raw).all()
    assert raw.max() > raw.min()
    out = ex(frames)
    assert out.shape == (5, 24, 32, 3) and out.dtype == np.uint8
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
    assert out.max() == 255 and out.min() == 0  # the clip's min/max map to 0 and 255
    # Batching does not change the result.
    ex1 = DepthExtractor(DepthConfig(input_size=28, batch_size=5), model=model, processor=proc)
    np.testing.assert_array_equal(ex1(frames), out)
    with pytest.raises(ValueError, match="both"):
        DepthExtractor(DepthConfig(), model=model)


def test_loads_local_directory_offline(tmp_path, rng):
    model, proc = tiny_depth_model()
    model.save_pretrained(tmp_path / "tiny")
    proc.save_pretrained(tmp_path / "tiny")
    ex = build_extractor("depth", DepthConfig(model=str(tmp_path / "tiny"), input_size=28, local_files_only=True))
    frames = rng.integers(0, 256, (3, 24, 32, 3), dtype=np.uint8)
    ref = DepthExtractor(DepthConfig(input_size=28), model=model, processor=proc)
    np.testing.assert_array_equal(ex(frames), ref(frames))
    with pytest.raises(RuntimeError, match="nowhere"):
        DepthExtractor(DepthConfig(model=str(tmp_path / "nowhere"), local_files_only=True))
