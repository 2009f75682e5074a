"""Stopping training cleanly on Ctrl-C (SIGINT) or SIGTERM.

A signal does not stop the program where it lands (that could be half-way through an optimizer step,
or between two truncated-BPTT windows of a batch): the first one asks training to stop at the next
batch boundary, where the trainer saves a resumable checkpoint; a second one stops at once.
"""
from __future__ import annotations

import signal
import sys

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GracefulStop:
    """Signal handling for the duration of a ``with`` block (training's ``fit``).

    ``at_boundary`` is kept by the trainer: True when the weights match a position a checkpoint can
    describe (between batches), False while a batch or an epoch's bookkeeping is in flight.
    ``announce`` (a callable returning a bool) says whether to print the one-line notice.
    """

    def __init__(self, announce=lambda: True):
        self.announce = announce
        self.signal = None
        self.at_boundary = True
        self._previous = {}

    def __enter__(self):
        self.signal, self.at_boundary = None, True
        try:
            self._previous = {s: signal.signal(s, self._handle) for s in STOP_SIGNALS}
        except ValueError:          # only the main thread may set handlers (a notebook worker thread may not)
            self._previous = {}
        return self

    def __exit__(self, *exc):
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous, self.signal = {}, None
        return False

    def _handle(self, signum, frame):
        if self.signal is not None:
            raise KeyboardInterrupt(f"signal {signum}, again")
        self.signal = signum
        if self.announce():
            print(f"\n{signal.Signals(signum).name}: stopping after this batch (send it again to stop at once)",
                  file=sys.stderr, flush=True)

    def check(self):
        """At a boundary: raise ``KeyboardInterrupt`` if a stop was asked."""
        if self.signal is not None:
            raise KeyboardInterrupt(f"signal {self.signal}")
