"""Progress of one pass over batches (a training epoch, an evaluation) on stderr, in one of three modes.

* ``"bar"`` — stderr is a terminal: a tqdm bar with the pass's total, rate and ETA, and a postfix (loss,
  accuracy or perplexity, tokens/s) redrawn in place; it disappears when the pass ends.
* ``"lines"`` — stderr is a file, a pipe, CI or a notebook, where a redrawn bar leaves unreadable
  carriage returns: plain lines instead, when the caller has one to print (the trainer: every
  ``log_every`` optimizer steps), or, for a pass that prints none of its own (an evaluation), every
  :data:`LINE_SECONDS` seconds.
* ``"off"`` — nothing (``quiet``).

:func:`progress_mode` picks one: ``"auto"`` is a bar on a terminal and lines elsewhere.
"""
from __future__ import annotations

import math
import sys
import time

from tqdm import tqdm

PROGRESS_MODES = ("auto", "bar", "lines", "off")
LINE_SECONDS = 10.0           # "lines" mode: an evaluation's line at most this often
MOST_STEPS_BETWEEN_LOGS = 50  # the default log interval is about ten rows an epoch, but at least this often
LOGS_PER_EPOCH = 10


def progress_mode(mode="auto", quiet=False, stream=None) -> str:
    """``"bar"``, ``"lines"`` or ``"off"`` for ``mode`` (one of :data:`PROGRESS_MODES`): ``quiet`` is off,
    ``"auto"`` a bar when ``stream`` (default ``sys.stderr``) is a terminal, else lines."""
    if mode not in PROGRESS_MODES:
        raise ValueError(f"progress: expected one of {', '.join(PROGRESS_MODES)}, got {mode!r}")
    if quiet or mode == "off":
        return "off"
    if mode == "auto":
        isatty = getattr(stream or sys.stderr, "isatty", None)
        return "bar" if isatty is not None and isatty() else "lines"
    return mode


def default_log_every(batches_per_epoch=None) -> int:
    """Optimizer steps between two logs when none is asked: about :data:`LOGS_PER_EPOCH` an epoch, at most
    :data:`MOST_STEPS_BETWEEN_LOGS` apart (that many when the epoch's length is unknown); an epoch shorter
    than :data:`LOGS_PER_EPOCH` batches is logged whole, every ~:data:`LOGS_PER_EPOCH` steps."""
    if not batches_per_epoch:
        return MOST_STEPS_BETWEEN_LOGS
    if batches_per_epoch < LOGS_PER_EPOCH:      # short epochs (small data): whole epochs, every ~10 steps
        return batches_per_epoch * math.ceil(LOGS_PER_EPOCH / batches_per_epoch)
    return min(MOST_STEPS_BETWEEN_LOGS, batches_per_epoch // LOGS_PER_EPOCH)


def describe(metrics, tokens_per_second=None) -> str:
    """``"loss 0.6931  accuracy 51.2%  12,345 tok/s"``: a task's metrics (``loss`` and ``accuracy`` or
    ``perplexity``; anything else is left out) as the progress output shows them."""
    parts = []
    if "loss" in metrics:
        parts.append(f"loss {metrics['loss']:.4f}")
    if "accuracy" in metrics:
        parts.append(f"accuracy {100 * metrics['accuracy']:.1f}%")
    if "perplexity" in metrics:
        parts.append(f"perplexity {metrics['perplexity']:.2f}")
    if tokens_per_second is not None:
        parts.append(f"{tokens_per_second:,.0f} tok/s")
    return "  ".join(parts)


class Progress:
    """One pass's progress: ``update(stats, line)`` after each batch, ``close()`` at the end.

    Args:
        total: batches in the pass (None: unknown; the bar then has no ETA).
        desc: what the pass is (``"epoch 3"``, ``"validation"``), the bar's and every line's start.
        mode: ``"bar"``, ``"lines"`` or ``"off"`` (:func:`progress_mode`).
        initial: batches done already (an epoch resumed in its middle).
        timed_lines: ``"lines"`` mode: also print a line every :data:`LINE_SECONDS` (for a pass whose
            caller never passes one).
        stream: where to write (default ``sys.stderr``).
    """

    def __init__(self, total, desc, mode, *, initial=0, timed_lines=False, stream=None):
        self.total, self.desc, self.mode, self.count = total, desc, mode, initial
        self.initial, self.timed_lines, self.stream = initial, timed_lines, stream or sys.stderr
        self.start = self.last_line = time.perf_counter()
        self.bar = None
        if mode == "bar":
            self.bar = tqdm(total=total, initial=initial, desc=desc, unit="batch", leave=False, file=self.stream,
                            dynamic_ncols=True)

    def update(self, stats="", line=None):
        """One more batch done. ``stats``: the bar's postfix; ``line``: text for a plain line now (``"lines"``
        mode; the bar shows ``stats`` instead)."""
        self.count += 1
        if self.bar is not None:
            self.bar.set_postfix_str(stats, refresh=False)
            self.bar.update(1)
        elif self.mode == "lines":
            now = time.perf_counter()
            if line is None and self.timed_lines and now - self.last_line >= LINE_SECONDS:
                line = stats
            if line is not None:
                self.last_line = now
                print(f"{self.desc}  {self._position(now)}  {line}", file=self.stream, flush=True)

    def _position(self, now):
        """``"batch 50/105, 00:04 elapsed, 00:05 left"`` (the left time only when the total is known)."""
        elapsed = now - self.start
        of = f"/{self.total}" if self.total else ""
        text = f"batch {self.count}{of}, {tqdm.format_interval(elapsed)} elapsed"
        done = self.count - self.initial
        if self.total and done > 0:
            text += f", {tqdm.format_interval(elapsed / done * max(self.total - self.count, 0))} left"
        return text

    def close(self):
        if self.bar is not None:
            self.bar.close()
