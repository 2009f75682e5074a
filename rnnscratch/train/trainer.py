"""The training loop: epochs over batches, clipping, evaluation, history, checkpoints, faults.

Two tasks share it:

* ``"classify"`` — batches ``(ids (T, B), lengths (B,), labels (B,))`` for a ``SequenceClassifier``;
  full BPTT, or truncated in chunks of ``bptt.k1`` (:func:`~rnnscratch.train.bptt.tbptt_classify`).
* ``"lm"`` — batches ``(ids (T, B), targets (T, B))`` cut from one continuous stream, for a
  ``LanguageModel``; the recurrent state is carried from batch to batch (values only) and reset at
  every epoch; each batch is trained with the (k1, k2) schedule (full BPTT within the batch by default).

``train_data`` / ``val_data`` are either a list of batches or a callable ``epoch -> iterable`` (so a
seeded shuffle can differ per epoch and still be reproducible on resume).

Faults: a non-finite gradient stops training *before* the optimizer step, with the parameter, epoch and
step named (:class:`NonFiniteError`), so the weights and the last checkpoint stay good.

Interrupts: during :meth:`Trainer.fit`, Ctrl-C (SIGINT) or SIGTERM does not stop the program where it
lands (that could be half-way through an optimizer step, or between two TBPTT windows of a batch): it
asks training to stop at the next batch boundary, where ``interrupted.npz`` is saved with the position,
the carried state and the epoch's running sums, and ``KeyboardInterrupt`` is raised. Resuming from it
continues exactly as if nothing had happened. A second signal stops at once, without that checkpoint
(the weights may be mid-update); ``last.npz`` then holds the last completed epoch.
"""
from __future__ import annotations

import json
import math
import os
import signal
import sys
import time

import numpy

from .. import backend
from ..functional.losses import softmax_cross_entropy
from ..optim import clip_grad_norm_, clip_grad_value_, global_grad_norm
from .bptt import TruncatedBPTT, copy_state, tbptt_classify, tbptt_stream
from .checkpoint import load_checkpoint, save_checkpoint

TASKS = ("classify", "lm")


class NonFiniteError(FloatingPointError):
    """Training produced NaN or inf; the message says where."""


class _Progress:
    """tqdm when installed (and not quiet), else one plain line per ``every`` batches."""

    def __init__(self, total, desc, quiet, every=50):
        self.quiet, self.every, self.count, self.desc, self.total = quiet, every, 0, desc, total
        self.bar = None
        if not quiet:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True)
            except ImportError:
                pass

    def update(self, **stats):
        self.count += 1
        if self.quiet:
            return
        text = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in stats.items())
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(text)
        elif self.count % self.every == 0:
            of = f"/{self.total}" if self.total else ""
            print(f"{self.desc} batch {self.count}{of}  {text}", file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


class Trainer:
    """Runs epochs, evaluates, keeps history, saves checkpoints, stops early.

    Args:
        model, optimizer: what to train and how (see :mod:`rnnscratch.optim`).
        task: ``"classify"`` or ``"lm"``.
        bptt: None (full BPTT) or a :class:`TruncatedBPTT`.
        clip: max global gradient norm (None: no clipping); ``clip_value``: element-wise clip instead.
        scheduler: stepped once per epoch.
        out_dir: where ``last.npz``, ``best.npz``, ``history.json`` and ``history.csv`` go (None: nowhere).
        patience: stop after this many epochs without a better validation loss (None: never).
        max_steps: stop once this many optimizer steps are taken (None: run every epoch).
        vocab: stored in checkpoints (anything JSON-serialisable).
        quiet: no progress output.
    """

    def __init__(self, model, optimizer, task, *, bptt=None, clip=None, clip_value=None, scheduler=None,
                 out_dir=None, patience=None, vocab=None, quiet=False, extra=None, max_steps=None):
        if task not in TASKS:
            raise ValueError(f"task: expected one of {TASKS}, got {task!r}")
        self.model, self.optimizer, self.task, self.bptt = model, optimizer, task, bptt
        self.clip, self.clip_value, self.scheduler = clip, clip_value, scheduler
        self.out_dir, self.patience, self.vocab, self.quiet = out_dir, patience, vocab, quiet
        self.extra, self.max_steps = extra or {}, max_steps
        self.history = []
        self.epoch = 0                # epochs completed
        self.step = 0                 # optimizer steps taken
        self._resume_batch, self._resume_carry, self._resume_sums = 0, None, None
        self._sums = _epoch_sums()           # running sums of the epoch in progress (saved on interrupt)
        self._position = (0, None)           # (next batch of the epoch, carried state): for interrupts
        self._stop_signal = None             # a signal asked to stop at the next batch boundary
        self._at_boundary = True             # False while the weights move away from _position's description

    # -- one optimizer step ---------------------------------------------------------------------
    def _update(self):
        """Check, clip, step: called after each backward (once per BPTT window)."""
        params = self.model.parameters()
        norm = global_grad_norm(params)                 # one pass: the check, the log and the clip share it
        if not math.isfinite(norm):
            name = next((n for n, p in self.model.named_parameters()
                         if not math.isfinite(float((p.grad * p.grad).sum()))), "?")
            raise NonFiniteError(f"non-finite gradient in parameter '{name}' at epoch {self.epoch + 1}, "
                                 f"step {self.step + 1}; lower the learning rate or clip gradients")
        if self.clip is not None:
            clip_grad_norm_(params, self.clip, total_norm=norm)
        if self.clip_value is not None:
            clip_grad_value_(params, self.clip_value)
        self._sums["grad_norm"] += norm
        self._sums["updates"] += 1
        self.optimizer.step()
        self.step += 1

    # -- batches --------------------------------------------------------------------------------
    def _train_batch(self, batch, carry):
        """Returns ``(summed loss, loss terms, correct predictions, tokens, new carry)``."""
        if self.task == "classify":
            ids, lengths, labels = batch
            tokens = int(backend.to_numpy(lengths).sum())
            if self.bptt is None:
                self.model.zero_grad()
                logits = self.model(ids, lengths)
                loss, d_logits = softmax_cross_entropy(logits, labels)
                self.model.backward(d_logits)
                self._update()
                total, terms = loss * len(labels), len(labels)
            else:
                total, terms, logits = tbptt_classify(self.model, ids, lengths, labels, self.bptt.k1, self._update)
            correct = int((logits.argmax(axis=1) == labels).sum())
            return total, terms, correct, tokens, None
        ids, targets = batch
        schedule = self.bptt or TruncatedBPTT(ids.shape[0])
        total, counted, carry = tbptt_stream(self.model, ids, targets, carry, schedule, self._update)
        return total, counted, None, int(ids.size), carry

    def _out_of_steps(self):
        return self.max_steps is not None and self.step >= self.max_steps

    def _check_loss(self, total):
        if not math.isfinite(total):
            raise NonFiniteError(f"non-finite loss at epoch {self.epoch + 1}, step {self.step}")

    # -- epochs ---------------------------------------------------------------------------------
    def train_epoch(self, batches):
        """One pass over ``batches``; returns the epoch's training metrics."""
        self.model.train()
        carry, sums = self._resume_carry, self._resume_sums or _epoch_sums()
        skip, self._resume_batch, self._resume_carry, self._resume_sums = self._resume_batch, 0, None, None
        self._sums = sums
        start = time.perf_counter() - sums["seconds"]
        progress = _Progress(len(batches) if hasattr(batches, "__len__") else None, f"epoch {self.epoch + 1}",
                             self.quiet)
        try:
            for index, batch in enumerate(batches):
                if index < skip:                          # resuming mid-epoch: these were trained already
                    continue
                self._position = (index, carry)
                self._stop_if_asked()
                if self._out_of_steps():
                    break
                self._at_boundary = False
                loss, n, right, tok, carry = self._train_batch(batch, carry)
                self._check_loss(loss)
                sums["loss"] += loss
                sums["terms"] += n
                sums["tokens"] += tok
                sums["seconds"] = time.perf_counter() - start
                stats = {"loss": sums["loss"] / max(sums["terms"], 1),
                         "tok/s": int(sums["tokens"] / sums["seconds"])}
                if self.task == "classify":
                    sums["correct"] += right
                    sums["sequences"] += len(batch[2])
                    stats["acc"] = sums["correct"] / sums["sequences"]
                self._position, self._at_boundary = (index + 1, carry), True
                progress.update(**stats)
            self._stop_if_asked()
        finally:
            progress.close()
        seconds = time.perf_counter() - start
        metrics = {"train_loss": sums["loss"] / max(sums["terms"], 1), "train_seconds": seconds,
                   "tokens_per_second": sums["tokens"] / seconds if seconds > 0 else 0.0,
                   "grad_norm": sums["grad_norm"] / max(sums["updates"], 1)}
        if self.task == "classify":
            metrics["train_accuracy"] = sums["correct"] / max(sums["sequences"], 1)
        return metrics

    def _stop_if_asked(self):
        """At a batch boundary: honour a pending Ctrl-C/SIGTERM (fit's except clause saves the position)."""
        if self._stop_signal is not None:
            raise KeyboardInterrupt(f"signal {self._stop_signal}")

    def evaluate(self, batches, num_classes=None):
        """Loss (and accuracy, or perplexity for ``lm``) over whole sequences, in eval mode, no updates.

        ``num_classes``: for classifiers, also count a confusion matrix (rows: true class, columns:
        predicted) in the same pass, returned under ``"confusion"``.
        """
        was_training = self.model.training
        self.model.eval()
        total = terms = correct = 0
        confusion = None if num_classes is None else numpy.zeros((num_classes, num_classes), dtype=numpy.int64)
        carry = None
        try:
            for batch in batches:
                self._stop_if_asked()             # validation can be long: stop here too when asked
                if self.task == "classify":
                    ids, lengths, labels = batch
                    logits = self.model(ids, lengths)
                    loss, _ = softmax_cross_entropy(logits, labels)
                    total, terms = total + loss * len(labels), terms + len(labels)
                    predicted = logits.argmax(axis=1)
                    correct += int((predicted == labels).sum())
                    if confusion is not None:
                        numpy.add.at(confusion, (backend.to_numpy(labels), backend.to_numpy(predicted)), 1)
                else:
                    ids, targets = batch
                    logits, carry = self.model(ids, carry)
                    carry = copy_state(carry)
                    loss, _ = self.model.loss(logits, targets)
                    n = int((targets != -100).sum())
                    total, terms = total + loss * n, terms + n
        finally:
            self.model.train(was_training)
        loss = total / max(terms, 1)
        if self.task == "classify":
            metrics = {"loss": loss, "accuracy": correct / max(terms, 1)}
            if confusion is not None:
                metrics["confusion"] = confusion.tolist()
            return metrics
        return {"loss": loss, "perplexity": math.exp(min(loss, 700))}

    def fit(self, train_data, val_data=None, epochs=1):
        """Train until ``epochs`` epochs are complete (counting any resumed ones). Returns the history."""
        best = min((h["val_loss"] for h in self.history if "val_loss" in h), default=math.inf)
        stale = 0
        self._stop_signal, self._at_boundary = None, True
        previous_handlers = _install_handlers(self._ask_to_stop)
        try:
            while self.epoch < epochs:
                batches = train_data(self.epoch) if callable(train_data) else train_data
                row = {"epoch": self.epoch + 1, "lr": self.optimizer.lr}
                row.update(self.train_epoch(batches))
                if val_data is not None:
                    val = self.evaluate(val_data(self.epoch) if callable(val_data) else val_data)
                    row.update({f"val_{k}": v for k, v in val.items()})
                self._at_boundary = False         # the epoch's bookkeeping: no position describes it
                self.epoch += 1
                if self.scheduler is not None:
                    self.scheduler.step()
                self.history.append(row)
                self._report(row)
                improved = "val_loss" in row and row["val_loss"] < best
                if improved:
                    best, stale = row["val_loss"], 0
                else:
                    stale += 1
                self._save("last.npz", batch_in_epoch=0, carry=None)
                if improved:
                    self._save("best.npz", batch_in_epoch=0, carry=None)
                self.save_history()
                self._position, self._sums, self._at_boundary = (0, None), _epoch_sums(), True
                self._stop_if_asked()
                if self._out_of_steps():
                    break
                if self.patience is not None and stale >= self.patience:
                    if not self.quiet:
                        print(f"early stopping: no better validation loss for {stale} epochs", file=sys.stderr)
                    break
        except KeyboardInterrupt:
            if not self._at_boundary:         # stopped at once, mid-batch or mid-bookkeeping: nothing to save
                if not self.quiet:
                    print("\nstopped at once, inside a batch or an epoch's bookkeeping: no interrupted.npz "
                          "written; last.npz (if any) holds the last completed epoch", file=sys.stderr)
                raise
            index, carry = self._position
            path = self._save("interrupted.npz", batch_in_epoch=index, carry=carry, epoch_sums=self._sums)
            if path and not self.quiet:
                print(f"\ninterrupted: resumable checkpoint written to {path}", file=sys.stderr)
            raise
        finally:
            _restore_handlers(previous_handlers)
            self._stop_signal = None
        return self.history

    def _ask_to_stop(self, signum, frame):
        """Signal handler while fitting: the first signal asks for a stop at the next batch boundary,
        a second one stops at once."""
        if self._stop_signal is not None:
            raise KeyboardInterrupt(f"signal {signum}, again")
        self._stop_signal = signum
        if not self.quiet:
            print(f"\n{signal.Signals(signum).name}: stopping after this batch (send it again to stop at once)",
                  file=sys.stderr, flush=True)

    # -- persistence ----------------------------------------------------------------------------
    def _save(self, name, batch_in_epoch, carry, epoch_sums=None):
        if self.out_dir is None:
            return None
        return save_checkpoint(os.path.join(self.out_dir, name), self.model, self.optimizer, self.scheduler,
                               epoch=self.epoch, step=self.step, batch_in_epoch=batch_in_epoch, vocab=self.vocab,
                               history=self.history, carry=carry, extra=self.extra, epoch_sums=epoch_sums)

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
        self.epoch, self.step = ckpt.meta["epoch"], ckpt.meta["step"]
        self.history = ckpt.meta["history"]
        self._resume_batch, self._resume_carry = ckpt.meta["batch_in_epoch"], ckpt.carry
        self._resume_sums = ckpt.meta.get("epoch_sums")
        return ckpt

    def save_history(self):
        """``history.json`` and ``history.csv`` in ``out_dir`` (one row per epoch)."""
        if self.out_dir is None or not self.history:
            return
        os.makedirs(self.out_dir, exist_ok=True)
        _atomic_write(os.path.join(self.out_dir, "history.json"), json.dumps(self.history, indent=2))
        keys = list(dict.fromkeys(k for row in self.history for k in row))
        lines = [",".join(keys)] + [",".join(str(row.get(k, "")) for k in keys) for row in self.history]
        _atomic_write(os.path.join(self.out_dir, "history.csv"), "\n".join(lines) + "\n")

    def _report(self, row):
        if self.quiet:
            return
        parts = [f"epoch {row['epoch']}"]
        for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "val_perplexity"):
            if key in row:
                parts.append(f"{key} {row[key]:.4f}")
        parts.append(f"{row['tokens_per_second']:.0f} tok/s  {row['train_seconds']:.1f} s")
        print("  ".join(parts), flush=True)


def _atomic_write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _epoch_sums():
    """What an epoch's metrics are computed from, accumulated batch by batch."""
    return {"loss": 0.0, "terms": 0, "correct": 0, "tokens": 0, "sequences": 0, "grad_norm": 0.0, "updates": 0,
            "seconds": 0.0}


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _install_handlers(handler):
    """Route Ctrl-C and SIGTERM to ``handler`` while fitting; returns the previous handlers.

    Only the main thread may set signal handlers: elsewhere (a notebook's worker thread, say) they are
    left alone and an interrupt keeps its default behaviour.
    """
    try:
        return {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    except ValueError:
        return {}


def _restore_handlers(previous):
    for s, handler in previous.items():
        signal.signal(s, handler)

