"""Two CPU processes (gloo, Lightning ``ddp_spawn``, devices=2) train a tiny branch.

Checks: every clip is predicted exactly once; each epoch's training order and augmentation differ from the previous
epoch's on each rank, also under a Lightning whose DistributedSamplerWrapper does not forward ``set_epoch`` (before
PR #21456, simulated here); only rank 0 writes run files; the val metric that selects the checkpoint counts each val
clip once (the distributed sampler pads the ranks' shares with repeats); the metrics match a single-process run of the
same data within a stated tolerance.
"""

import json

import numpy as np
from lightning.pytorch.callbacks import Callback

from microgesture.config import merge

TINY = {"model": {"channels": [8, 16], "temporal_strides": [1, 2]},
        "input": {"clip_len": 8, "num_test_clips": 2, "layout": "mmg36"},
        "train": {"epochs": 2, "batch_size": 2, "predict_train": False, "select": "last"}}


class Recorder(Callback):
    """Appends, per rank, each training batch's clip ids and input checksum (picklable for the spawned ranks).

    ``old_wrapper``: in each rank, make DistributedSamplerWrapper.set_epoch stop at the wrapper, as before Lightning
    PR #21456, so that only our own forwarding can reach the wrapped sampler.
    """

    def __init__(self, out, *, old_wrapper: bool):
        self.out, self.old_wrapper = str(out), old_wrapper

    def setup(self, trainer, pl_module, stage):
        if self.old_wrapper:
            from lightning.fabric.utilities import distributed
            from torch.utils.data import DistributedSampler

            distributed.DistributedSamplerWrapper.set_epoch = DistributedSampler.set_epoch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        rec = {"epoch": trainer.current_epoch, "ids": list(batch["clip_id"]), "world": trainer.world_size,
               "sums": batch["joint"].double().flatten(1).sum(1).tolist()}  # one checksum per sample
        with open(f"{self.out}/rank{trainer.global_rank}.jsonl", "a") as f:
            f.write(json.dumps(rec) + "\n")


def _fit(ds, out, rec_dir, monkeypatch, *, ddp: bool, old_wrapper: bool = False):
    import microgesture.train as train
    from microgesture.ddp import SetEpoch
    from microgesture.train import fit, resolve_config

    real = train.L.Trainer
    seen = {}

    def trainer(*args, callbacks=(), **kw):
        seen["set_epoch"] = any(isinstance(c, SetEpoch) for c in callbacks)
        return real(*args, callbacks=[*callbacks, Recorder(rec_dir, old_wrapper=old_wrapper)], **kw)

    monkeypatch.setattr(train.L, "Trainer", trainer)
    rec_dir.mkdir(parents=True, exist_ok=True)
    loop = {"strategy": "ddp_spawn", "devices": "2", "accelerator": "cpu"} if ddp else {"batch_size": 4}
    cfg = resolve_config(branch="joint-dstcnn", dataset=str(ds), overrides=merge(TINY, {"train": loop}))
    m = fit(cfg, out=out, progress=False)
    monkeypatch.setattr(train.L, "Trainer", real)
    return m, seen["set_epoch"]


def _records(rec_dir, rank):
    return [json.loads(x) for x in (rec_dir / f"rank{rank}.jsonl").read_text().splitlines()]


def test_set_epoch_reaches_the_wrapped_sampler_under_the_old_wrapper(monkeypatch):
    """The bug and its fix without processes: Lightning's wrapper over EpochSampler, rank 0 of 2."""
    from types import SimpleNamespace

    from lightning.fabric.utilities.distributed import DistributedSamplerWrapper
    from torch.utils.data import DataLoader, DistributedSampler

    from microgesture.ddp import forward_set_epoch
    from microgesture.train import EpochSampler

    monkeypatch.setattr(DistributedSamplerWrapper, "set_epoch", DistributedSampler.set_epoch)  # before PR #21456
    wrapper = DistributedSamplerWrapper(EpochSampler(10, seed=0), num_replicas=2, rank=0, shuffle=False)
    dl = DataLoader(list(range(10)), sampler=wrapper)

    def epoch(e, *, ours: bool):
        wrapper.set_epoch(e)  # what Lightning does
        if ours:
            assert forward_set_epoch(SimpleNamespace(train_dataloader=dl, current_epoch=e)) == 2
        return list(wrapper)

    assert epoch(0, ours=False) == epoch(1, ours=False)  # the old wrapper: epoch 1 replays epoch 0's draws
    e0, e1 = epoch(0, ours=True), epoch(1, ours=True)
    assert e0 != e1 and {i for i, _ in e1} <= set(range(10)) and {e for _, e in e1} == {1}


def test_validation_outputs_of_the_ranks_count_each_clip_once():
    """3 val clips on 2 ranks: the sampler pads rank 1's share with clip a again; the joined outputs hold a once, so
    top-1 is 2/3 (a right, b right, c wrong), not the padded 3/4 or the mean of the ranks' 1 and 1/2."""
    from microgesture.ddp import unique_by_id
    from microgesture.metrics import classification_report

    right, wrong = np.array([2.0, 0.0]), np.array([0.0, 2.0])
    rank0 = (["a", "b"], np.stack([right, right]), np.array([0, 0]))
    rank1 = (["c", "a"], np.stack([wrong, right]), np.array([0, 0]))
    logits, labels = unique_by_id([rank0, rank1])
    assert logits.shape == (3, 2) and labels.tolist() == [0, 0, 0]
    assert classification_report(logits, labels, ("x", "y"))["top1"] == 2 / 3
    empty, none = unique_by_id([([], np.zeros((0, 2)), np.zeros(0))])
    assert empty.shape == (0, 2) and len(none) == 0


def test_ddp_two_processes(tiny_dataset, tmp_path, monkeypatch):
    """DDP under the simulated old wrapper, then a single-process run of the same data and global batch (2 x 2 vs
    4). DDP sees the clips in another order (the distributed sampler shuffles the sampler's list again and deals it
    to the ranks) and normalises each batch over 2 clips per rank instead of 4, so the weights differ after training:
    the test predictions must agree within 0.02 in mean absolute probability, top-1 within one clip (measured 0.0005
    and equal top-1: docs/scaling.md)."""
    from microgesture.data.format import Dataset
    from microgesture.predictions import load_predictions

    ds = Dataset.open(tiny_dataset)
    n_train = len(ds.split("train"))
    m, installed = _fit(tiny_dataset, tmp_path / "ddp", tmp_path / "rec", monkeypatch, ddp=True, old_wrapper=True)
    draws = {}  # (epoch, clip id) -> input checksum, over both ranks
    for rank in (0, 1):
        epochs = {}
        for r in _records(tmp_path / "rec", rank):
            assert r["world"] == 2
            epochs.setdefault(r["epoch"], []).extend(r["ids"])
            draws.update({(r["epoch"], i): s for i, s in zip(r["ids"], r["sums"], strict=True)})
        assert sorted(epochs) == list(range(TINY["train"]["epochs"]))
        assert all(len(ids) == -(-n_train // 2) for ids in epochs.values())  # the rank's half of the epoch
        for a in range(len(epochs) - 1):
            assert epochs[a] != epochs[a + 1], f"rank {rank}: epoch {a + 1} replays epoch {a}'s order"
    # the augmentation draws follow the epoch: a clip drawn in two epochs gets two different inputs (under the old
    # wrapper without our forwarding, every epoch would draw from (seed, 0, clip) and the checksums would be equal)
    again = [(e, c) for (e, c) in draws if e > 0 and (e - 1, c) in draws]
    assert again and all(draws[(e, c)] != draws[(e - 1, c)] for e, c in again)
    # the two ranks together see every training clip in an epoch
    e0 = {i for rank in (0, 1) for r in _records(tmp_path / "rec", rank) if r["epoch"] == 0 for i in r["ids"]}
    assert e0 == {c.clip_id for c in ds.split("train")}
    # predictions: every clip exactly once, in the dataset's order
    for split in ("val", "test"):
        p = load_predictions(tmp_path / "ddp" / f"preds_{split}.npz")
        assert list(p.clip_ids) == [c.clip_id for c in ds.split(split)] and m[split]["n"] == len(p)
    # the val metric logged at the last epoch (which selects the checkpoint) is the whole val split's, each clip once:
    # the final weights' val top-1 and macro-F1 (select: last), not those of the ranks' padded shares
    import csv

    rows = [r for r in csv.DictReader((tmp_path / "ddp" / "logs" / "metrics.csv").open()) if r.get("val/top1")]
    n_val = len(ds.split("val"))
    assert n_val % 2 == 1  # an odd count: the distributed sampler pads one rank's share with a repeat
    assert abs(float(rows[-1]["val/top1"]) - m["val"]["top1"]) < 1e-6
    assert abs(float(rows[-1]["val/macro_f1"]) - m["val"]["macro_f1"]) < 1e-6
    # only rank 0 wrote run files: one logger version, one best and one last checkpoint, no per-rank copies
    run = tmp_path / "ddp"
    assert sorted(x.name for x in (run / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    files = ["config.yaml", "env.json", "metrics.json", "model.ckpt", "preds_test.npz", "preds_val.npz", "run.json"]
    assert sorted(x.name for x in run.iterdir() if x.is_file()) == files
    assert sorted(x.name for x in (run / "logs").iterdir()) == ["metrics.csv"]

    single, _ = _fit(tiny_dataset, tmp_path / "one", tmp_path / "r1", monkeypatch, ddp=False)
    a = load_predictions(tmp_path / "ddp" / "preds_test.npz")
    b = load_predictions(tmp_path / "one" / "preds_test.npz")
    diff = float(np.abs(a.probs() - b.probs()).mean())
    top1 = [float((p.logits.argmax(1) == p.labels).mean()) for p in (a, b)]
    print(f"\nddp vs single: mean |dp| {diff:.4f}; test top-1 {top1[0]:.3f} vs {top1[1]:.3f} on {len(a)} clips")
    assert diff <= 0.02 and abs(top1[0] - top1[1]) <= 1 / len(a) + 1e-9
    assert installed, "fit must install microgesture.ddp.SetEpoch"
