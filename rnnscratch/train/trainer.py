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

History (:mod:`rnnscratch.train.history`): :attr:`Trainer.history` is one row per epoch (what :meth:`fit`
returns); :attr:`Trainer.step_history` a row every ``log_every`` optimizer steps, with the training loss
since the previous one. ``history.json``/``.csv`` hold both, in step order.

Progress (:mod:`rnnscratch.train.progress`): a bar per epoch and per evaluation on a terminal, with
the total, ETA, loss, accuracy or perplexity and tokens/s; elsewhere (a log file, CI) a plain line with
each step row instead; nothing when ``quiet``.
"""
from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field, replace

from .._checks import check_number, first_non_finite
from ..optim import clip_grad_norm_, clip_grad_value_, global_grad_norm
from .checkpoint import load_checkpoint, save_checkpoint
from .history import merge, write_history
from .interrupts import GracefulStop
from .progress import Progress, default_log_every, describe, progress_mode
from .tasks import Tally, get_task


# Inside an epoch, history.json is rewritten with the new step rows at most this often (and at every
# epoch's end and interrupt): writing it at every row would cost a tiny run more than its training.
SAVE_HISTORY_SECONDS = 30.0


EPOCH_LINES_ALWAYS = 10      # epochs whose row is always printed; later ones at most once a second


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
    unlogged: Tally = field(default_factory=Tally)   # the sums since the last step row (across epochs)

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
        log_every: a step row in :attr:`step_history` (and a plain progress line) every this many
            optimizer steps (None: about ten an epoch, at most 50 steps apart).
        progress: ``"auto"`` (a bar on a terminal, plain lines elsewhere), ``"bar"``, ``"lines"`` or ``"off"``.
    """

    def __init__(self, model, optimizer, task, *, bptt=None, clip=None, clip_value=None, scheduler=None,
                 out_dir=None, patience=None, vocab=None, quiet=False, extra=None, max_steps=None, log_every=None,
                 progress="auto"):
        for name, value in (("clip", clip), ("clip_value", clip_value)):
            if value is not None:
                check_number(name, value, positive=True, also=", or None for no clipping")
        if log_every is not None and (isinstance(log_every, bool) or not isinstance(log_every, int) or log_every < 1):
            raise ValueError(f"log_every: expected a positive integer or None, got {log_every!r}")
        progress_mode(progress)                         # a wrong name fails here, not at the first epoch
        self.log_every, self.progress = log_every, progress
        self.step_history = []
        self._history_saved = time.perf_counter()
        self.model, self.optimizer, self.task, self.bptt = model, optimizer, get_task(task), bptt
        self.clip, self.clip_value, self.scheduler = clip, clip_value, scheduler
        self.out_dir, self.patience, self.vocab, self.quiet = out_dir, patience, vocab, quiet
        self.extra, self.max_steps = extra or {}, max_steps
        self._reported = -math.inf            # when an epoch row was last printed
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
                         if p.requires_grad and not math.isfinite(float((p.grad * p.grad).sum()))), "?")
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
    def train_epoch(self, batches, total=None):
        """One pass over ``batches`` (from :attr:`position`'s batch on); returns the epoch's training metrics.

        ``total``: the number of batches, for the progress bar and the default log interval, when
        ``batches`` has no ``len()`` (a generator).
        """
        self.model.train()
        pos = self.position
        tally, skip = pos.tally, pos.batch
        start = time.perf_counter() - tally.seconds
        total = len(batches) if hasattr(batches, "__len__") else total
        every = self.log_every or default_log_every(total)
        progress = Progress(total, f"epoch {self.epoch + 1}", progress_mode(self.progress, self.quiet), initial=skip)
        try:
            for index, batch in enumerate(batches):
                if index < skip:                          # resuming mid-epoch: these were trained already
                    continue
                self._stop.check()
                if self._out_of_steps():
                    break
                self._stop.at_boundary = False
                before = tally.copy()
                carry = self.task.train_batch(self.model, batch, pos.carry, self.bptt, self._update, tally)
                tally.seconds = time.perf_counter() - start
                pos.unlogged = pos.unlogged.plus(tally.since(before))
                pos.batch, pos.carry = index + 1, carry
                row = self._log_steps(every)             # before the boundary: a checkpoint there includes it
                self._stop.at_boundary = True
                progress.update(describe(self.task.metrics(tally), _rate(tally.tokens, tally.seconds)),
                                line=row and self._row_text(row))
            self._stop.check()
        finally:
            progress.close()
        seconds = time.perf_counter() - start
        metrics = {f"train_{k}": v for k, v in self.task.metrics(tally).items()}
        metrics.update({"train_seconds": seconds, "tokens_per_second": _rate(tally.tokens, seconds),
                        "grad_norm": tally.grad_norm / max(tally.updates, 1)})
        return metrics

    def _log_steps(self, every):
        """A step row in :attr:`step_history` when the steps just taken reached a multiple of ``every``
        (its metrics over the batches since the previous row, in this epoch or the ones before); returns
        it, or None."""
        last = self.step_history[-1]["step"] if self.step_history else 0
        if self.step // every <= last // every:
            return None
        pos = self.position
        window, pos.unlogged = pos.unlogged, Tally()
        row = {"kind": "step", "step": self.step, "epoch": self.epoch + 1, "lr": self.optimizer.lr,
               "seconds": self._seconds_trained() + pos.tally.seconds}
        row.update({f"train_{k}": v for k, v in self.task.metrics(window).items()})
        row["tokens_per_second"] = _rate(window.tokens, window.seconds)
        self.step_history.append(row)
        if time.perf_counter() - self._history_saved >= SAVE_HISTORY_SECONDS:
            self.save_history()                 # a long epoch's curves can be drawn while it runs
        return row

    @staticmethod
    def _row_text(row):
        """A step row as a progress line: ``"step 50  loss 0.6931  accuracy 51.2%  12,345 tok/s"``."""
        metrics = {k[len("train_"):]: v for k, v in row.items() if k.startswith("train_")}
        return f"step {row['step']}  {describe(metrics, row['tokens_per_second'])}"

    def _seconds_trained(self):
        """Training seconds of the completed epochs."""
        return sum(row.get("train_seconds", 0.0) for row in self.history)

    def evaluate(self, batches, num_classes=None, desc="evaluation"):
        """The task's metrics over ``batches`` (loss and accuracy, or perplexity), in eval mode, no updates.

        ``num_classes``: for classifiers, also count a confusion matrix (rows: true class, columns:
        predicted) in the same pass, returned under ``"confusion"``. ``desc`` names the pass in the
        progress output (its own bar; in plain-line mode a line every few seconds).
        """
        was_training = self.model.training
        self.model.eval()
        tally = Tally(confusion=None if num_classes is None else self.task.new_confusion(num_classes))
        carry = None
        progress = Progress(len(batches) if hasattr(batches, "__len__") else None, desc,
                            progress_mode(self.progress, self.quiet), timed_lines=True)
        try:
            for batch in batches:
                self._stop.check()                # validation can be long: stop here too when asked
                carry = self.task.eval_batch(self.model, batch, carry, tally)
                progress.update(describe(self.task.metrics(replace(tally, confusion=None))))
        finally:
            progress.close()
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
                    row = {"kind": "epoch", "epoch": self.epoch + 1, "step": None, "lr": self.optimizer.lr,
                           "seconds": None}
                    # a callable's batches may come from a generator; the callable (a BucketIterator) knows their number
                    total = len(train_data) if hasattr(train_data, "__len__") else None
                    row.update(self.train_epoch(batches, total=total))
                    row.update(step=self.step, seconds=self._seconds_trained() + row["train_seconds"])
                    if val_data is not None:
                        val = self.evaluate(val_data(self.epoch) if callable(val_data) else val_data,
                                            desc="validation")
                        row.update({f"val_{k}": v for k, v in val.items()})
                    self._stop.at_boundary = False        # the epoch's bookkeeping: no position describes it
                    self.position.next_epoch()
                    if self.scheduler is not None:
                        self.scheduler.step()
                    self.history.append(row)
                    self._report(row, last=self.epoch >= epochs)
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
        self.save_history()                     # the step rows of the epoch in progress too
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
                               extra=self.extra, epoch_sums=position.tally.to_dict() if inside else None,
                               step_history=self.step_history, log_sums=self.position.unlogged.to_dict())

    def resume(self, path):
        """Load weights, frozen flags, optimizer, schedule, generators, history and position from a checkpoint."""
        ckpt = load_checkpoint(path, dtype=self.model.parameters()[0].data.dtype)
        if ckpt.meta["model"] != type(self.model).__name__ or ckpt.meta["config"] != self.model.config:
            raise ValueError(f"{path} holds a {ckpt.meta['model']} with config {ckpt.meta['config']}, "
                             f"not this {type(self.model).__name__} with {self.model.config}")
        self.model.load_state_dict(ckpt.model.state_dict())
        ckpt.restore_frozen(self.model)                 # a frozen parameter stays frozen in the resumed run
        ckpt.restore_optimizer(self.optimizer)
        ckpt.restore_generators(self.model)
        if self.scheduler is not None and "scheduler" in ckpt.meta:
            self.scheduler.load_state_dict(ckpt.meta["scheduler"])
        sums, unlogged = ckpt.meta.get("epoch_sums"), ckpt.meta.get("log_sums")
        self.position = Position(epoch=ckpt.meta["epoch"], step=ckpt.meta["step"], batch=ckpt.meta["batch_in_epoch"],
                                 carry=ckpt.carry, tally=Tally.from_dict(sums) if sums else Tally(),
                                 unlogged=Tally.from_dict(unlogged) if unlogged else Tally())
        self.history = ckpt.meta["history"]
        self.step_history = ckpt.meta.get("step_history", [])       # none in checkpoints before step rows
        return ckpt

    @property
    def history_rows(self):
        """Every row of ``history.json``: :attr:`step_history` and :attr:`history`, in step order."""
        return merge(self.history, self.step_history)

    def save_history(self):
        """``history.json`` and ``history.csv`` in ``out_dir``: step rows and epoch rows
        (:mod:`rnnscratch.train.history`)."""
        if self.out_dir is None or not (self.history or self.step_history):
            return
        write_history(self.out_dir, self.history_rows)
        self._history_saved = time.perf_counter()

    def _report(self, row, last=False):
        """Print an epoch's row: each of the first :data:`EPOCH_LINES_ALWAYS` epochs, then at most one a second
        (small data sets run hundreds of sub-second epochs), and the last one."""
        now = time.perf_counter()
        if self.quiet or not (last or row["epoch"] <= EPOCH_LINES_ALWAYS or now - self._reported >= 1.0):
            return
        self._reported = now
        parts = [f"epoch {row['epoch']}"]
        for key in ("train_loss", "train_accuracy", "train_token_accuracy", "val_loss", "val_accuracy",
                    "val_perplexity", "val_token_accuracy", "val_exact_match"):
            if key in row:
                parts.append(f"{key} {row[key]:.4f}")
        parts.append(f"{row['tokens_per_second']:.0f} tok/s  {row['train_seconds']:.1f} s")
        print("  ".join(parts), flush=True)


def _rate(count, seconds):
    """``count / seconds``, 0.0 before any time has passed."""
    return count / seconds if seconds > 0 else 0.0
