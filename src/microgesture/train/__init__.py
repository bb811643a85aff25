"""Training and evaluation of one branch with Lightning.

``fit`` trains a branch on a dataset and writes, into the run directory: config.yaml (fully resolved), env.json,
checkpoints/ (Lightning, resumable), model.ckpt (weights + everything inference needs, loadable with
``torch.load(weights_only=True)``), metrics.json and preds_<split>.npz for val, test and (unless
``train.predict_train`` is off) train. ``evaluate`` reruns exactly the checkpoint's test pipeline on any dataset split.

Determinism: augmentation draws come from ``np.random.default_rng([seed, epoch, index])`` and the shuffle from
``(seed, epoch)``, never from worker or global state; the torch RNG state travels in the checkpoint, so a resumed run
matches an uninterrupted one.

Modules: :mod:`.resolve` (run configs), :mod:`.data` (dataset and sampler), :mod:`.module` (the LightningModule),
:mod:`.fitting` (fit, weight transfer), :mod:`.inference` (prediction, checkpoint loading, evaluate).
"""

from microgesture.train.data import ClipDataset, EpochSampler, make_loader
from microgesture.train.fitting import fit, init_from
from microgesture.train.inference import checkpoint_path, evaluate, load_checkpoint, predict, predict_all
from microgesture.train.module import HEAD_PREFIXES, BranchModule, L
from microgesture.train.resolve import TrainingError, resolve_config, with_overrides

__all__ = ["resolve_config", "fit", "evaluate", "predict", "load_checkpoint", "BranchModule", "ClipDataset",
           "EpochSampler", "TrainingError", "init_from", "with_overrides", "make_loader", "predict_all",
           "checkpoint_path", "HEAD_PREFIXES", "L"]
