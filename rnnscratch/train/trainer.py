"""The training loop: epochs over batches, clipping, evaluation, history, checkpoints, faults.

What differs between tasks (classification, language modelling) lives in one task object each
(:mod:`rnnscratch.train.tasks`); the loop here is the same for all. ``train_data`` / ``val_data`` are
either a list of batches or a callable ``epoch -> iterable`` (so a seeded shuffle can differ per epoch
and still be reproducible on resume).

Faults (:class:`NonFiniteError`, naming the epoch, the step and the parameter): a non-finite loss or
gradient stops training *before* the optimizer step, so the weights stay good; a step that makes a
weight non-finite (a finite but huge update) stops right after it, before anything is saved. Either way
the checkpoints on disk are the last good ones: no checkpoint is written from non-finite weights.

Interrupts (:mod:`rnnscratch.train.interrupts`): during :meth:`Trainer.fit`, the first Ctrl-C or SIGTERM
asks training to stop at the next batch boundary, where ``interrupted.npz`` is saved with the
:class:`Position` (epoch, step, next batch, carried state, the epoch's running sums) and
``KeyboardInterrupt`` is raised. Resuming from it continues exactly as if nothing had happened. A second
signal stops at once, without that checkpoint (the weights may be mid-update); ``last.npz`` then holds
the last completed epoch.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import dataclass, field

from .._checks import check_number, first_non_finite
from ..files import atomic_write
from ..optim import clip_grad_norm_, clip_grad_value_, global_grad_norm
from .checkpoint import load_checkpoint, save_checkpoint
from .interrupts import GracefulStop
from .progress import Progress
from .tasks import Tally, get_task


class NonFiniteError(FloatingPointError):
    """Training produced NaN or inf; the message says where."""


@dataclass
class Position:
    """Where training stands: everything a checkpoint needs so that resuming equals never stopping."""
    epoch: int = 0                 # epochs completed
    step: int = 0                  # optimizer steps taken
    batch: int = 0                 # the next batch of the epoch in progress
    carry: object = None           # the recurrent state carried into that batch (language models)
    tally: Tally = field(default_factory=Tally)      # the epoch's running sums so far

    def next_epoch(self):
        self.epoch, self.batch, self.carry, self.tally = self.epoch + 1, 0, None, Tally()


class Trainer:
    """Runs epochs, evaluates, keeps history, saves checkpoints, stops early.

    Args:
        model, optimizer: what to train and how (see :mod:`rnnscratch.optim`).
        task: ``"classify"``, ``"lm"`` or a task object (:mod:`rnnscratch.train.tasks`).
        bptt: None (full BPTT) or a :class:`TruncatedBPTT`.
        clip: max global gradient norm (None: no clipping); ``clip_value``: element-wise clip instead.
        scheduler: stepped once per epoch.
        out_dir: where ``last.npz``, ``best.npz``, ``history.json`` and ``history.csv`` go (None: nowhere).
        patience: stop after this many epochs without a better validation loss (None: never).
        max_steps: stop once this many optimizer steps are taken (None: run every epoch).
        vocab: stored in checkpoints (anything JSON-serialisable).
        extra: an application's JSON-serialisable record, stored in checkpoints as is.
        quiet: no progress output.
    """

    def __init__(self, model, optimizer, task, *, bptt=None, clip=None, clip_value=None, scheduler=None,
                 out_dir=None, patience=None, vocab=None, quiet=False, extra=None, max_steps=None):
        for name, value in (("clip", clip), ("clip_value", clip_value)):
            if value is not None:
                check_number(name, value, positive=True, also=", or None for no clipping")
        self.model, self.optimizer, self.task, self.bptt = model, optimizer, get_task(task), bptt
        self.clip, self.clip_value, self.scheduler = clip, clip_value, scheduler
        self.out_dir, self.patience, self.vocab, self.quiet = out_dir, patience, vocab, quiet
        self.extra, self.max_steps = extra or {}, max_steps
        self.history = []
        self.position = Position()
        self._stop = GracefulStop(announce=lambda: not self.quiet)

    @property
    def epoch(self):
        """Epochs completed."""
        return self.position.epoch

    @epoch.setter
    def epoch(self, value):
        self.position.epoch = value

    @property
    def step(self):
        """Optimizer steps taken."""
        return self.position.step

    # -- one optimizer step ---------------------------------------------------------------------
    def _update(self, loss):
        """Check, clip, step, check: called with the window's loss after each backward (once per BPTT window)."""
        where = f"at epoch {self.epoch + 1}, step {self.step + 1}"
        if not math.isfinite(loss):
            raise NonFiniteError(f"non-finite loss ({loss}) {where}; lower the learning rate or clip gradients")
        params = self.model.parameters()
        norm = global_grad_norm(params)                 # one pass: the check, the log and the clip share it
        if not math.isfinite(norm):
            # the parameter whose share of the norm is not finite (its entries may all be finite, their squares not)
            name = next((n for n, p in self.model.named_parameters()
                         if not math.isfinite(float((p.grad * p.grad).sum()))), "?")
            raise NonFiniteError(f"non-finite gradient in parameter '{name}' {where}; lower the learning rate "
                                 "or clip gradients")
        if self.clip is not None:
            clip_grad_norm_(params, self.clip, total_norm=norm)
        if self.clip_value is not None:
            clip_grad_value_(params, self.clip_value)
        self.position.tally.grad_norm += norm
        self.position.tally.updates += 1
        self.optimizer.step()
        self.position.step += 1
        name = first_non_finite((n, p.data) for n, p in self.model.named_parameters())
        if name is not None:
            raise NonFiniteError(f"the update {where} made parameter '{name}' non-finite (NaN or inf); nothing "
                                 "was saved from it; lower the learning rate or clip gradients")

    def _out_of_steps(self):
        return self.max_steps is not None and self.step >= self.max_steps

    # -- epochs ---------------------------------------------------------------------------------
    def train_epoch(self, batches):
        """One pass over ``batches`` (from :attr:`position`'s batch on); returns the epoch's training metrics."""
        self.model.train()
        pos = self.position
        tally, skip = pos.tally, pos.batch
        start = time.perf_counter() - tally.seconds
        progress = Progress(len(batches) if hasattr(batches, "__len__") else None, f"epoch {self.epoch + 1}",
                            self.quiet)
        try:
            for index, batch in enumerate(batches):
                if index < skip:                          # resuming mid-epoch: these were trained already
                    continue
                self._stop.check()
                if self._out_of_steps():
                    break
                self._stop.at_boundary = False
                carry = self.task.train_batch(self.model, batch, pos.carry, self.bptt, self._update, tally)
                tally.seconds = time.perf_counter() - start
                pos.batch, pos.carry, self._stop.at_boundary = index + 1, carry, True
                progress.update(**self.task.metrics(tally), **{"tok/s": int(tally.tokens / tally.seconds)})
            self._stop.check()
        finally:
            progress.close()
        seconds = time.perf_counter() - start
        metrics = {f"train_{k}": v for k, v in self.task.metrics(tally).items()}
        metrics.update({"train_seconds": seconds, "tokens_per_second": tally.tokens / seconds if seconds > 0 else 0.0,
                        "grad_norm": tally.grad_norm / max(tally.updates, 1)})
        return metrics

    def evaluate(self, batches, num_classes=None):
        """The task's metrics over ``batches`` (loss and accuracy, or perplexity), in eval mode, no updates.

        ``num_classes``: for classifiers, also count a confusion matrix (rows: true class, columns:
        predicted) in the same pass, returned under ``"confusion"``.
        """
        was_training = self.model.training
        self.model.eval()
        tally = Tally(confusion=None if num_classes is None else self.task.new_confusion(num_classes))
        carry = None
        try:
            for batch in batches:
                self._stop.check()                # validation can be long: stop here too when asked
                carry = self.task.eval_batch(self.model, batch, carry, tally)
        finally:
            self.model.train(was_training)
        return self.task.metrics(tally)

    def fit(self, train_data, val_data=None, epochs=1):
        """Train until ``epochs`` epochs are complete (counting any resumed ones). Returns the history."""
        best = min((h["val_loss"] for h in self.history if "val_loss" in h), default=math.inf)
        stale = 0
        with self._stop:
            try:
                while self.epoch < epochs:
                    batches = train_data(self.epoch) if callable(train_data) else train_data
                    row = {"epoch": self.epoch + 1, "lr": self.optimizer.lr}
                    row.update(self.train_epoch(batches))
                    if val_data is not None:
                        val = self.evaluate(val_data(self.epoch) if callable(val_data) else val_data)
                        row.update({f"val_{k}": v for k, v in val.items()})
                    self._stop.at_boundary = False        # the epoch's bookkeeping: no position describes it
                    self.position.next_epoch()
                    if self.scheduler is not None:
                        self.scheduler.step()
                    self.history.append(row)
                    self._report(row)
                    improved = "val_loss" in row and row["val_loss"] < best
                    best, stale = (row["val_loss"], 0) if improved else (best, stale + 1)
                    self._save("last.npz")
                    if improved:
                        self._save("best.npz")
                    self.save_history()
                    self._stop.at_boundary = True
                    self._stop.check()
                    if self._out_of_steps():
                        break
                    if self.patience is not None and stale >= self.patience:
                        if not self.quiet:
                            print(f"early stopping: no better validation loss for {stale} epochs", file=sys.stderr)
                        break
            except KeyboardInterrupt:
                self._save_interrupted()
                raise
        return self.history

    def _save_interrupted(self):
        """On a stop: ``interrupted.npz`` at the current position, or nothing when stopped mid-update."""
        if not self._stop.at_boundary:
            if not self.quiet:
                print("\nstopped at once, inside a batch or an epoch's bookkeeping: no interrupted.npz "
                      "written; last.npz (if any) holds the last completed epoch", file=sys.stderr)
            return
        path = self._save("interrupted.npz", self.position)
        if path and not self.quiet:
            print(f"\ninterrupted: resumable checkpoint written to {path}", file=sys.stderr)

    # -- persistence ----------------------------------------------------------------------------
    def _save(self, name, position=None):
        """A checkpoint in ``out_dir``: at an epoch's end, or at ``position`` inside an epoch."""
        if self.out_dir is None:
            return None
        inside = position is not None
        return save_checkpoint(os.path.join(self.out_dir, name), self.model, self.optimizer, self.scheduler,
                               epoch=self.epoch, step=self.step, batch_in_epoch=position.batch if inside else 0,
                               vocab=self.vocab, history=self.history, carry=position.carry if inside else None,
                               extra=self.extra, epoch_sums=position.tally.to_dict() if inside else None)

    def resume(self, path):
        """Load weights, optimizer, schedule, generators, history and position from a checkpoint."""
        ckpt = load_checkpoint(path, dtype=self.model.parameters()[0].data.dtype)
        if ckpt.meta["model"] != type(self.model).__name__ or ckpt.meta["config"] != self.model.config:
            raise ValueError(f"{path} holds a {ckpt.meta['model']} with config {ckpt.meta['config']}, "
                             f"not this {type(self.model).__name__} with {self.model.config}")
        self.model.load_state_dict(ckpt.model.state_dict())
        ckpt.restore_optimizer(self.optimizer)
        ckpt.restore_generators(self.model)
        if self.scheduler is not None and "scheduler" in ckpt.meta:
            self.scheduler.load_state_dict(ckpt.meta["scheduler"])
        sums = ckpt.meta.get("epoch_sums")
        self.position = Position(epoch=ckpt.meta["epoch"], step=ckpt.meta["step"], batch=ckpt.meta["batch_in_epoch"],
                                 carry=ckpt.carry, tally=Tally.from_dict(sums) if sums else Tally())
        self.history = ckpt.meta["history"]
        return ckpt

    def save_history(self):
        """``history.json`` and ``history.csv`` in ``out_dir`` (one row per epoch)."""
        if self.out_dir is None or not self.history:
            return
        atomic_write(os.path.join(self.out_dir, "history.json"), json.dumps(self.history, indent=2))
        keys = list(dict.fromkeys(k for row in self.history for k in row))
        lines = [",".join(keys)] + [",".join(str(row.get(k, "")) for k in keys) for row in self.history]
        atomic_write(os.path.join(self.out_dir, "history.csv"), "\n".join(lines) + "\n")

    def _report(self, row):
        if self.quiet:
            return
        parts = [f"epoch {row['epoch']}"]
        for key in ("train_loss", "train_accuracy", "train_token_accuracy", "val_loss", "val_accuracy",
                    "val_perplexity", "val_token_accuracy", "val_exact_match"):
            if key in row:
                parts.append(f"{key} {row[key]:.4f}")
        parts.append(f"{row['tokens_per_second']:.0f} tok/s  {row['train_seconds']:.1f} s")
        print("  ".join(parts), flush=True)
