"""What a training run costs, shown while it runs: :class:`RunClock`, a Lightning callback.

After the first few training steps it logs one estimate of the whole run on this machine: the remaining epochs at
the measured time per step, the validation passes and the prediction passes that follow training (every predicted
split, test views included) at a time per clip measured on the first validation, or guessed from the training step
until then. After the second epoch the estimate is logged again if it moved by more than a third. When ``advice``
returns a line for the estimate (a GPU recipe on a CPU: :func:`microgesture.sizes.cpu_advice`), the estimate is one
warning line that carries it.

On a terminal it draws two bars on stderr: the whole run (with its ETA) and the current epoch (loss, accuracy);
in quiet mode (:func:`microgesture.progress.quiet`) only the estimate and one line at the end of training.
"""

from __future__ import annotations

import logging
import math
import platform
import time
from collections.abc import Callable

import torch
from lightning.pytorch.callbacks import Callback
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from microgesture.progress import _console, format_seconds, quiet, silence_third_party

__all__ = ["RunClock", "Estimate"]

log = logging.getLogger(__name__)


class Estimate:
    """Seconds left in a run, from measured (or guessed) unit costs; ``parts()`` names where they go."""

    def __init__(self, *, step_s: float, clip_s: float, clip_measured: bool, steps_left: int, val_clips_left: int,
                 predict_clips: int, predict_passes: int = 0, pass_s: float = 0.0, predict_scale: float = 1.0):
        self.step_s, self.clip_s, self.clip_measured = step_s, clip_s, clip_measured
        self.steps_left, self.val_clips_left, self.predict_clips = steps_left, val_clips_left, predict_clips
        self.predict_passes, self.pass_s = predict_passes, pass_s
        self.predict_scale = predict_scale  # a predicted clip's cost / a validated clip's (test views / val views)

    @property
    def train_s(self) -> float:
        return self.steps_left * self.step_s

    @property
    def val_s(self) -> float:
        return self.val_clips_left * self.clip_s

    @property
    def predict_s(self) -> float:
        return self.predict_clips * self.clip_s * self.predict_scale + self.predict_passes * self.pass_s

    @property
    def total_s(self) -> float:
        return self.train_s + self.val_s + self.predict_s


def _device(pl_module) -> str:
    dev = next(pl_module.parameters()).device
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    return f"{dev.type}, {torch.get_num_threads()} threads" + (f", {platform.processor()}" if platform.processor()
                                                                  else "")


class RunClock(Callback):
    """Bars, ETA and the whole-run estimate of one ``fit``.

    Args:
        batch_size: training batch size (to guess the prediction cost per clip before it is measured).
        views: test views per clip (prediction costs that many forward passes per clip).
        val_views: views per validated clip when validation has its own (``train.val_views``); default ``views``.
        val_clips: clips in each validation pass; ``val_every``: epochs between validations.
        predict_clips: clips predicted after training (all predicted splits), in ``predict_passes`` passes (each
            starts its loader: the start-up measured on the first validation is counted once per pass).
        advice: ``advice(total_seconds)`` -> a line to add (and make the estimate a warning), or None.
        bars: draw bars (on a terminal, unless quiet); the estimate and the end line are logged either way.
        first_steps: training steps measured before the first estimate (the first step, with its warm-up, is
            excluded when there are more).
    """

    def __init__(self, *, batch_size: int, views: int, val_clips: int, val_every: int, predict_clips: int,
                 predict_passes: int = 0, val_views: int | None = None,
                 advice: Callable[[float], str | None] | None = None, bars: bool = True, first_steps: int = 3):
        self.batch_size, self.views, self.val_clips = max(1, batch_size), max(1, views), val_clips
        self.val_views = max(1, val_views or self.views)
        self.val_every, self.predict_clips, self.advice = max(1, val_every), predict_clips, advice
        self.predict_passes, self.pass_s = predict_passes, 0.0
        self.first_steps, self.bars = max(1, first_steps), bars
        self._val_marks: list[tuple[float, int]] = []
        silence_third_party()  # before the Trainer exists: its device lines come from its constructor
        self.step_times: list[float] = []
        self.epoch_walls: list[float] = []  # seconds from each epoch's start to its last training step
        self._epoch_t0, self._epoch_steps = 0.0, 0
        self.clip_s: float | None = None
        self.announced: float | None = None
        self._bar: Progress | None = None
        self._run_task = self._epoch_task = None

    # -- the estimate ------------------------------------------------------------------------------------------
    def estimate(self, trainer) -> Estimate:
        spe = int(trainer.num_training_batches)
        if self.epoch_walls:  # a whole epoch, its first batch's wait for the loader included
            step_s = self.epoch_walls[-1] / max(1, spe)
        else:  # the mean of the first steps, less the run's very first (start-up)
            ts = self.step_times[1:] if len(self.step_times) > 1 else self.step_times
            step_s = sum(ts) / len(ts) if ts else 0.0
        epoch, in_epoch = trainer.current_epoch, trainer.fit_loop.epoch_loop.batch_progress.current.completed
        steps_left = max(0, (trainer.max_epochs - epoch) * spe - in_epoch)
        first = epoch + 1 if in_epoch >= spe else epoch  # at an epoch's end its validation has run
        vals_left = sum(1 for e in range(first, trainer.max_epochs) if (e + 1) % self.val_every == 0)
        # a forward pass costs about a third of a training step (forward + backward), per view
        guess = step_s / self.batch_size / 3 * self.val_views  # clip_s is a validated clip's cost
        return Estimate(step_s=step_s, clip_s=self.clip_s if self.clip_s is not None else guess,
                        clip_measured=self.clip_s is not None, steps_left=steps_left,
                        val_clips_left=vals_left * self.val_clips, predict_clips=self.predict_clips,
                        predict_passes=self.predict_passes, pass_s=self.pass_s,
                        predict_scale=self.views / self.val_views)

    def _announce(self, trainer, pl_module, *, updated: bool) -> None:
        e = self.estimate(trainer)
        epochs = math.ceil(e.steps_left / max(1, int(trainer.num_training_batches)))
        how = "measured" if e.clip_measured else "guessed from the training step"
        line = (f"{'updated estimate' if updated else 'estimate'}: this run takes ~{format_seconds(e.total_s)} more "
                f"on this machine ({_device(pl_module)}): {epochs} epoch(s) x {trainer.num_training_batches} steps at "
                f"{e.step_s:.2f} s/step ~{format_seconds(e.train_s)}, validation ~{format_seconds(e.val_s)}, "
                f"then prediction of {self.predict_clips} clips x {self.views} view(s) ~{format_seconds(e.predict_s)}"
                f" ({how})")
        extra = self.advice(e.total_s) if self.advice and not updated else None
        record = {"estimate": e, "updated": updated}  # for callers that read the figures (bench/bench_cost.py)
        if extra:
            log.warning("%s. %s", line, extra, extra=record)
        else:
            log.info("%s", line, extra=record)
        self.announced = e.total_s

    # -- hooks ---------------------------------------------------------------------------------------------------
    def on_train_start(self, trainer, pl_module) -> None:
        self._t0 = self._last = time.perf_counter()
        if trainer.is_global_zero:  # said at once: the first steps (and so the estimate) can take a while on a CPU
            log.info("train: %s, %d epoch(s) x %d steps of %d clips on %s; estimate after the first steps",
                     getattr(getattr(pl_module, "cfg", None), "branch", type(pl_module).__name__),
                     trainer.max_epochs - trainer.current_epoch, trainer.num_training_batches, self.batch_size,
                     _device(pl_module))
        if not self.bars or quiet() or not trainer.is_global_zero:
            return
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), TextColumn("{task.fields[info]}"), console=_console,
                             transient=False)
        self._bar.start()
        total = trainer.max_epochs * int(trainer.num_training_batches)
        self._run_task = self._bar.add_task("train (whole run)", total=total, info="eta: measuring",
                                            completed=trainer.current_epoch * int(trainer.num_training_batches))
        self._epoch_task = self._bar.add_task("epoch", total=int(trainer.num_training_batches), info="")

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._last = self._epoch_t0 = time.perf_counter()
        self._epoch_steps = 0
        if self._bar is not None:
            self._bar.reset(self._epoch_task, total=int(trainer.num_training_batches),
                            description=f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}", info="")

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        now = time.perf_counter()
        self.step_times.append(now - self._last)
        self._last = now
        self._epoch_steps += 1
        if self._epoch_steps == trainer.num_training_batches:
            wall = now - self._epoch_t0
            if not self.epoch_walls and self._epoch_steps > 1:  # the run's first step (start-up, GPU warm-up) as a
                rest = self.step_times[-self._epoch_steps + 1:]  # typical step: once per run, not per epoch
                wall -= self.step_times[-self._epoch_steps] - sum(rest) / len(rest)
            self.epoch_walls.append(wall)
        n = len(self.step_times)
        if self.announced is None and trainer.is_global_zero and (
                n >= self.first_steps + 1 or n >= trainer.num_training_batches * trainer.max_epochs
                or now - self._t0 > 20):
            self._announce(trainer, pl_module, updated=False)
        if self._bar is not None:
            m = trainer.callback_metrics
            info = "  ".join(f"{k.split('/')[-1]} {float(m[k]):.3f}" for k in ("train/loss", "train/acc", "val/top1")
                             if k in m)
            self._bar.update(self._epoch_task, advance=1, info=info)
            eta = f"eta {format_seconds(self.estimate(trainer).total_s)}" if self.announced is not None else \
                "eta: measuring"
            self._bar.update(self._run_task, advance=1, info=f"{eta} (incl. prediction)")

    def on_validation_start(self, trainer, pl_module) -> None:
        self._val_t0 = time.perf_counter()
        self._val_marks = []

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self._val_marks.append((time.perf_counter(), len(batch["label"])))

    def on_validation_end(self, trainer, pl_module) -> None:
        marks = self._val_marks
        if len(marks) >= 2 and not trainer.sanity_checking:
            # from the first batch's end: loader workers starting up are not a per-clip cost
            self.clip_s = (marks[-1][0] - marks[0][0]) / sum(n for _, n in marks[1:])
            if self.pass_s == 0.0:  # the first validation starts its loader's workers, as each prediction pass does
                self.pass_s = max(0.0, marks[0][0] - self._val_t0 - marks[0][1] * self.clip_s)
        elif marks and not trainer.sanity_checking:
            self.clip_s = (marks[-1][0] - self._val_t0) / marks[-1][1]
        self._last = time.perf_counter()  # validation time is not a training step's

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        # after the second epoch (the first when there are only two): a whole epoch and a validation have been timed
        if trainer.current_epoch == min(1, trainer.max_epochs - 2) and self.announced is not None and \
                trainer.is_global_zero:
            e = self.estimate(trainer)
            if e.total_s > 0 and abs(e.total_s - self.announced) > self.announced / 3:
                self._announce(trainer, pl_module, updated=True)

    def on_train_end(self, trainer, pl_module) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        if trainer.is_global_zero:
            m = trainer.callback_metrics
            scores = ", ".join(f"{k} {float(m[k]):.3f}" for k in ("train/loss", "val/top1") if k in m)
            log.info("train: %d epoch(s) in %s%s", trainer.current_epoch, format_seconds(time.perf_counter() -
                                                                                         self._t0),
                     f" ({scores})" if scores else "")

    def on_exception(self, trainer, pl_module, exception) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
