"""bf16 autocast on the CPU: a training step and a prediction give a finite loss and outputs close to fp32, and a run
trained with ``train.precision=bf16-mixed`` completes with finite predictions.

Tolerance: bf16 keeps 8 significant bits (relative rounding 2^-9 = 0.2 % per value; matmuls and convolutions
accumulate in fp32 under autocast, so the error grows with depth, not with width). Through these networks of 4-6
layers we allow a relative error of 3 % on the loss, 1.5 % of the largest logit on every logit (measured: 0.5-0.6 %
on logits of +-30) and 0.02 on probabilities; a dtype slip (an fp16 overflow, bf16 accumulation over thousands of
terms) is an order of magnitude beyond that.
"""

import numpy as np
import pytest
import torch

from microgesture.config import merge
from microgesture.data.format import Dataset

BRANCHES = {
    "joint-dstcnn": {"model": {"channels": [8, 16], "temporal_strides": [1, 2]},
                     "input": {"clip_len": 8, "num_test_clips": 2, "layout": "mmg36"}},
    "heatmap-posec3d-limb": {"model": {"base_channels": 4, "stage_blocks": [1, 1, 1]},
                             "input": {"clip_len": 8, "size": 24, "resize": 28, "num_test_clips": 2}},
}
LOSS_RTOL, LOGIT_RTOL, PROB_ATOL = 0.03, 0.015, 0.02


def _module(name, ds_root):
    from microgesture.train import BranchModule, resolve_config

    torch.manual_seed(0)
    ds = Dataset.open(ds_root)
    cfg = resolve_config(branch=name, dataset=str(ds_root), overrides=BRANCHES[name])
    m = BranchModule(cfg=cfg, classes=ds.classes, source_layout=ds.layout, class_counts=[4, 4, 4])
    head = m.model.fc if hasattr(m.model, "fc") else m.model.head
    with torch.no_grad():  # a confident classifier, so that probabilities are far from uniform and differences show
        head.weight.mul_(10 / head.weight.abs().max())
    return m, ds


def _batch(m, ds, *, train: bool):
    from microgesture.train import ClipDataset

    clips = ds.split("train")
    d = ClipDataset(ds, clips, m.pipeline, train=train, seed=0)
    return torch.utils.data.default_collate([d[(i, 0) if train else i] for i in range(len(clips))])


@pytest.mark.parametrize("name", list(BRANCHES))
def test_training_step_and_prediction_under_bf16_autocast(tiny_dataset, name):
    m, ds = _module(name, tiny_dataset)
    m.train()
    batch = _batch(m, ds, train=True)
    x = m.pipeline.to_model_input(batch, train=True)

    def step(bf16: bool):
        m.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = m.model.classify(m.model.forward_features(x))
            loss = m.criterion(logits, batch["label"])
        loss.backward()
        grads = torch.cat([p.grad.flatten() for p in m.model.parameters() if p.grad is not None])
        return loss.detach().float(), logits.detach().float(), grads.clone()

    torch.manual_seed(1)
    l32, z32, g32 = step(False)
    torch.manual_seed(1)  # the same dropout draws
    l16, z16, g16 = step(True)
    assert torch.isfinite(l16) and torch.isfinite(g16).all() and g16.abs().sum() > 0
    assert abs(l16 - l32) <= LOSS_RTOL * abs(l32)
    assert z32.abs().max() > 1.0 and (z16 - z32).abs().max() <= LOGIT_RTOL * z32.abs().max()

    m.eval()
    test = _batch(m, ds, train=False)
    p32 = torch.softmax(m.predict_views(test), -1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        p16 = torch.softmax(m.predict_views(test).float(), -1)
    assert torch.isfinite(p16).all() and p32.max() > 0.45  # away from uniform (1/3)
    assert (p16 - p32).abs().max() <= PROB_ATOL


def test_fit_in_bf16_mixed(tiny_dataset, tmp_path):
    from microgesture.predictions import load_predictions
    from microgesture.train import fit, resolve_config

    over = merge(BRANCHES["joint-dstcnn"], {"train": {"epochs": 1, "batch_size": 4, "precision": "bf16-mixed",
                                                      "accelerator": "cpu", "predict_train": False}})
    m = fit(resolve_config(branch="joint-dstcnn", dataset=str(tiny_dataset), overrides=over), out=tmp_path / "run",
            progress=False)
    p = load_predictions(tmp_path / "run" / "preds_test.npz")
    assert m["test"]["n"] == len(p) > 0 and np.isfinite(p.logits).all()
    curves = (tmp_path / "run" / "logs" / "metrics.csv").read_text().splitlines()
    col = curves[0].split(",").index("train/loss")
    losses = [float(r.split(",")[col]) for r in curves[1:] if r.split(",")[col]]
    assert losses and np.isfinite(losses).all()


def test_gpu_requested_without_a_gpu_is_one_line_exit_2(tiny_dataset, tmp_path):
    import subprocess
    import sys

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    res = subprocess.run([sys.executable, "-m", "microgesture", "train", "-d", str(tiny_dataset), "-o",
                          str(tmp_path / "run"), "--accelerator", "gpu"], capture_output=True, text=True)
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert res.returncode == 2 and len(lines) == 1 and "no CUDA GPU" in lines[0], res.stderr
    assert not (tmp_path / "run" / "checkpoints").exists()
