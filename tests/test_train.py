"""End-to-end training on tiny datasets: fit + predictions contract, evaluate, determinism, resume."""

import json

import numpy as np
import pytest
import torch

from microgesture.predictions import load_predictions
from microgesture.train import evaluate, fit, load_checkpoint, resolve_config

FAST = {
    "model": {"channels": [8, 16], "temporal_strides": [1, 2]},
    "input": {"clip_len": 8, "num_test_clips": 2, "layout": "mmg36"},
    "train": {"epochs": 2, "batch_size": 4},
}


def _cfg(ds, **over):
    from microgesture.config import merge

    return resolve_config(branch="joint-dstcnn", dataset=str(ds), overrides=merge(FAST, over))


def test_fit_writes_run_and_predictions(tiny_dataset, tmp_path):
    m = fit(_cfg(tiny_dataset), out=tmp_path / "run", progress=False)
    run = tmp_path / "run"
    for f in ("config.yaml", "env.json", "model.ckpt", "metrics.json", "preds_train.npz", "preds_val.npz",
              "preds_test.npz", "checkpoints/last.ckpt"):
        assert (run / f).exists(), f
    for split in ("val", "test"):
        assert 0.0 <= m[split]["top1"] <= 1.0 and "macro_f1" in m[split] and "ece" in m[split]
        p = load_predictions(run / f"preds_{split}.npz")
        assert p.logits.shape == (m[split]["n"], 3) and p.meta["branch"] == "joint-dstcnn"
        np.testing.assert_allclose(p.probs().sum(1), 1.0, rtol=1e-5)
    assert json.loads((run / "metrics.json").read_text())["test"]["n"] == m["test"]["n"]
    env = json.loads((run / "env.json").read_text())  # what a rerun elsewhere needs to compare metrics digit for digit
    assert env["cpu"] and env["cpu_capability"] == torch.backends.cpu.get_cpu_capability() and env["threads"] >= 1
    # the slim checkpoint carries everything inference needs and loads with weights_only=True
    ck = torch.load(run / "model.ckpt", weights_only=True)
    assert ck["microgesture"]["classes"] == ["class0", "class1", "class2"]
    assert ck["microgesture"]["config"]["input"]["layout"] == "mmg36"
    # config.yaml is the fully resolved config: every input and model field, and it rebuilds the same run config
    import yaml

    from microgesture.config import from_dict
    from microgesture.inputs.skeleton import SkeletonInputConfig
    from microgesture.models.dstcnn import DSTCNNConfig

    written = yaml.safe_load((run / "config.yaml").read_text())
    assert set(written["input"]) == set(SkeletonInputConfig.__dataclass_fields__)
    assert set(written["model"]) == set(DSTCNNConfig.__dataclass_fields__)
    assert written["input"]["clip_len"] == 8 and written["input"]["flip_prob"] == 0.5
    assert from_dict(written) == _cfg(tiny_dataset)


def test_slow_backbone_from_scratch_is_warned_and_train_predictions_optional(tiny_dataset, tmp_path, caplog):
    cfg = _cfg(tiny_dataset, optim={"backbone_lr_mult": 0.1},
               train={"epochs": 1, "limit_train_batches": 1, "predict_train": False})
    m = fit(cfg, out=tmp_path / "run", progress=False)
    assert "backbone_lr_mult=0.1 with a randomly initialised backbone" in caplog.text
    assert "train" not in m and not (tmp_path / "run/preds_train.npz").exists()
    assert (tmp_path / "run/preds_test.npz").exists()


def test_evaluate_reuses_checkpoint_pipeline(tiny_dataset, tmp_path):
    fit(_cfg(tiny_dataset), out=tmp_path / "run", progress=False)
    rep = evaluate(tmp_path / "run", dataset=tiny_dataset, split="test", out=tmp_path / "e.npz")
    a = load_predictions(tmp_path / "e.npz")
    b = load_predictions(tmp_path / "run" / "preds_test.npz")
    np.testing.assert_allclose(a.logits, b.logits, rtol=1e-5, atol=1e-6)
    assert rep["n"] == len(a)
    assert load_checkpoint(tmp_path / "run").pipeline.cfg.layout == "mmg36"


def test_evaluate_with_other_test_views(tiny_dataset, tmp_path):
    """The run's test views (2 clips + flipped copies here) are the default; others can be asked for at evaluation
    time, recorded in the predictions, without changing the weights."""
    fit(_cfg(tiny_dataset), out=tmp_path / "run", progress=False)
    run_preds = load_predictions(tmp_path / "run" / "preds_test.npz")
    same = {"num_test_clips": 2, "flip_test": True}
    evaluate(tmp_path / "run", dataset=tiny_dataset, split="test", out=tmp_path / "same.npz", test_views=same)
    np.testing.assert_allclose(load_predictions(tmp_path / "same.npz").logits, run_preds.logits, rtol=1e-5, atol=1e-6)
    evaluate(tmp_path / "run", dataset=tiny_dataset, split="test", out=tmp_path / "plain.npz",
             test_views={"flip_test": False})
    plain = load_predictions(tmp_path / "plain.npz")
    assert plain.meta["test_views"] == {"flip_test": False} and "test_views" not in run_preds.meta
    assert list(plain.clip_ids) == list(run_preds.clip_ids)
    assert not np.allclose(plain.logits, run_preds.logits, atol=1e-4)
    module = load_checkpoint(tmp_path / "run", test_views={"num_test_clips": 3, "flip_test": False})
    assert module.pipeline.num_views == 3
    assert load_checkpoint(tmp_path / "run").pipeline.num_views == 4


def test_val_views_validate_on_fewer_views_and_predict_on_the_runs(tiny_dataset, tmp_path, monkeypatch):
    """train.val_views: the per-epoch validation sees those views (1 here), the predictions written after training
    the run's own (2 clips + flipped copies); a key or value the branch cannot take fails before any work."""
    from microgesture.train.module import BranchModule
    from microgesture.train.resolve import TrainingError

    seen = []
    real_val, real_views = BranchModule.validation_step, BranchModule.predict_views

    def on_val(self, batch, batch_idx):
        seen.append("val")
        return real_val(self, batch, batch_idx)

    def views(self, batch):
        seen.append(next(v for k, v in batch.items() if isinstance(v, torch.Tensor) and v.ndim >= 2).shape[1])
        return real_views(self, batch)

    monkeypatch.setattr(BranchModule, "validation_step", on_val)
    monkeypatch.setattr(BranchModule, "predict_views", views)
    cfg = _cfg(tiny_dataset, input={"flip_test": True}, train={"val_views": {"num_test_clips": 1, "flip_test": False}})
    fit(cfg, out=tmp_path / "run", progress=False)
    val = [seen[i + 1] for i, x in enumerate(seen) if x == "val"]
    after = seen[max(i for i, x in enumerate(seen) if x == "val") + 2:]
    assert val and set(val) == {1} and after and set(after) == {4}
    with pytest.raises(TrainingError, match="train.val_views: test_crops is not a test view of branch joint-dstcnn"):
        _cfg(tiny_dataset, train={"val_views": {"test_crops": 1}})
    with pytest.raises(TrainingError, match="train.val_views: .*num_test_clips"):
        _cfg(tiny_dataset, train={"val_views": {"num_test_clips": 0}})


def test_training_learns_the_tiny_task(tiny_dataset, tmp_path):
    cfg = _cfg(tiny_dataset, train={"epochs": 40, "batch_size": 4}, optim={"lr": 1e-2}, loss={"semantic_weight": 0.1},
               input={"flip_prob": 0.0, "flip_test": False, "rotate_deg": 0.0, "joint_dropout": 0.0})
    # the tiny classes are directions, so a mirror changes the class: no flip here
    m = fit(cfg, out=tmp_path / "run", progress=False)
    assert m["train"]["top1"] >= 0.75  # 3 well-separated classes; chance is 1/3


def test_deterministic_rerun(tiny_dataset, tmp_path):
    a = fit(_cfg(tiny_dataset), out=tmp_path / "a", progress=False)
    b = fit(_cfg(tiny_dataset), out=tmp_path / "b", progress=False)
    pa, pb = load_predictions(tmp_path / "a/preds_test.npz"), load_predictions(tmp_path / "b/preds_test.npz")
    np.testing.assert_array_equal(pa.logits, pb.logits)
    assert a["test"]["top1"] == b["test"]["top1"]


def test_resume_matches_uninterrupted(tiny_dataset, tmp_path):
    cfg = _cfg(tiny_dataset, train={"epochs": 3, "batch_size": 4})
    fit(cfg, out=tmp_path / "full", progress=False)
    r = fit(cfg, out=tmp_path / "killed", progress=False, stop_after_epoch=1)
    assert "interrupted_at_epoch" in r
    fit(cfg, out=tmp_path / "killed", progress=False, resume=True)
    a = load_predictions(tmp_path / "full/preds_test.npz")
    b = load_predictions(tmp_path / "killed/preds_test.npz")
    np.testing.assert_allclose(a.logits, b.logits, rtol=1e-5, atol=1e-6)


def test_stgcn_and_losses_train(tiny_dataset, tmp_path):
    from microgesture.config import merge

    cfg = resolve_config(branch="joint-stgcn", dataset=str(tiny_dataset),
                         overrides=merge(FAST, {"loss": {"name": "focal", "class_weights": "sqrt", "sampler": "sqrt",
                                                         "semantic_weight": 0.5}, "train": {"epochs": 1}}))
    m = fit(cfg, out=tmp_path / "run", progress=False)
    assert m["test"]["n"] > 0


def test_config_errors_are_named(tiny_dataset):
    with pytest.raises(ValueError, match="unknown key"):
        _cfg(tiny_dataset, model={"widht": 3})
    with pytest.raises(ValueError, match="unknown key"):
        _cfg(tiny_dataset, train={"epoch": 3})
