r"""Backpropagation through time: full, and truncated with the (k1, k2) schedule of Williams & Peng (1990).

Truncated BPTT walks a long sequence and, every ``k1`` steps, updates the weights with gradients that
flow back ``k2`` steps. The hidden state is *carried* across the cut (its values) but the gradient
chain is *cut* (in PyTorch: ``h = h.detach()``)::

    steps        0 ........................................ T
    k1 = k2 = 4  [ 0  4)[ 4  8)[ 8 12) ...         disjoint chunks, loss on every step of each
    k1 = 2, k2 = 4        [ 0  4)                  every 2 steps, backprop 4 steps:
                              [ 2  6)              windows overlap; the loss covers the 2 new steps,
                                  [ 4  8)          the forward is re-run from the state stored at
                                                   the window's start, and its gradient flows back 4

Full BPTT is the one window ``[0, T)``. Here a window is ``(start, loss_start, end)``.

Two drivers, both calling ``update(loss)`` after each window's backward (check, clip, optimizer step):

* :func:`tbptt_stream` — many-to-many (language model, tagger): targets at every step; the state
  returned at the end is carried into the next batch of a continuous stream by the caller.
* :func:`tbptt_classify` — many-to-one (the IMDB tutorial): chunks of ``k`` steps; each chunk's loss is
  its last valid output against the sequence's label. Evaluation runs the whole sequence uncut.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy

from .. import backend
from ..functional.losses import IGNORE_INDEX, softmax_cross_entropy


@dataclass(frozen=True)
class TruncatedBPTT:
    """The (k1, k2) schedule: every ``k1`` steps, backpropagate ``k2 >= k1`` steps."""
    k1: int
    k2: int | None = None

    def __post_init__(self):
        if not isinstance(self.k1, int) or self.k1 < 1:
            raise ValueError(f"k1: expected a positive int, got {self.k1!r}")
        if self.k2 is None:
            object.__setattr__(self, "k2", self.k1)
        if not isinstance(self.k2, int) or self.k2 < self.k1:
            raise ValueError(f"k2: expected an int >= k1={self.k1}, got {self.k2!r}")

    def windows(self, T):
        """``[(start, loss_start, end), ...]`` covering ``[0, T)``; every step is in exactly one loss."""
        return [(max(0, loss_start + self.k1 - self.k2), loss_start, min(loss_start + self.k1, T))
                for loss_start in range(0, T, self.k1)]


def select_batch(state, rows):
    """The rows ``rows`` of a recurrent state ``(L*D, B, H)`` (or an LSTM ``(h, c)`` pair)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s[:, rows] for s in state)
    return state[:, rows]


def assign_batch(state, rows, values):
    """Write ``values`` into rows ``rows`` of ``state`` (in place) and return it."""
    if isinstance(state, tuple):
        for s, v in zip(state, values):
            s[:, rows] = v
    else:
        state[:, rows] = values
    return state


def copy_state(state):
    """A copy of a state's values: carrying it forward cannot alias the cache of the last forward."""
    if state is None:
        return None
    return tuple(s.copy() for s in state) if isinstance(state, tuple) else state.copy()


def tbptt_stream(model, ids, targets, state, schedule, update, ignore_index=IGNORE_INDEX):
    """Train a many-to-many model over one ``(T, B)`` batch of a stream with a (k1, k2) schedule.

    Args:
        model: a many-to-many model such as ``LanguageModel`` (``forward(ids, state) -> logits, state``).
        ids, targets: ``(T, B)`` int arrays; ``targets == ignore_index`` are not counted.
        state: the state carried in from the previous batch (None at the start of a stream).
        schedule: a :class:`TruncatedBPTT`.
        update: called with the window's loss after its backward; it checks, clips and steps the optimizer.

    Returns:
        ``(summed loss, counted targets, final state)``; the state's values only, its history cut.
    """
    T = ids.shape[0]
    stored = {0: state}                       # states (values) at the window starts still ahead
    total, counted = 0.0, 0
    windows = schedule.windows(T)
    for i, (start, loss_start, end) in enumerate(windows):
        next_start = windows[i + 1][0] if i + 1 < len(windows) else T
        if start < next_start < end:          # overlapping windows: remember the state there
            _, probe_state = model.forward(ids[start:next_start], stored[start])
            stored[next_start] = copy_state(probe_state)
        model.zero_grad()
        logits, final = model.forward(ids[start:end], stored[start])
        window_targets = targets[start:end].copy()
        window_targets[:loss_start - start] = ignore_index          # older steps were counted before
        loss, d_logits = model.loss(logits, window_targets, ignore_index)
        model.backward(d_logits)              # the gradient reaching stored[start] is dropped: the cut
        update(loss)
        n = int((window_targets != ignore_index).sum())
        total, counted = total + loss * n, counted + n
        stored[end] = copy_state(final)
        for k in [k for k in stored if k < next_start]:
            del stored[k]
    return total, counted, stored[T]


def chunk_steps(lengths, k):
    """How many steps each sequence has in each chunk of ``k`` steps: ``steps (C, B)`` ints.

    ``steps[c, b] = min(max(L_b - c k, 0), k)`` with ``C = ceil(max_b L_b / k)`` chunks; 0 means that
    sequence b ended before chunk c starts, so it sits out chunk c's update.
    """
    L = numpy.asarray(lengths)
    starts = numpy.arange(-(-int(L.max()) // k))[:, None] * k               # (C, 1): c * k
    return numpy.clip(L[None, :] - starts, 0, k)


def tbptt_classify(model, ids, lengths, labels, k, update):
    """Train a many-to-one ``SequenceClassifier`` on one padded batch in chunks of ``k`` steps.

    For each chunk, only the sequences that reach into it run; they start from their carried state,
    the loss is the chunk's last valid output against the label (mean over those sequences), the
    backward stays inside the chunk, ``update(loss)`` steps, and the final state is carried (values only).

    Args:
        ids: ``(T, B)``.
        lengths: ``(B,)`` (host or device ints).
        labels: ``(B,)``.
        k: the chunk length.

    Returns:
        ``(summed loss over chunks and sequences, number of terms, logits (B, C) of each sequence's
        final chunk)`` — the logits for training accuracy.
    """
    model.check_truncated_bptt()
    xp = backend.array_module(ids=ids)
    host_lengths = backend.to_numpy(lengths)
    state, final_logits = None, None
    total, terms = 0.0, 0
    for c, steps in enumerate(chunk_steps(host_lengths, k)):
        start = c * k
        rows_host = steps.nonzero()[0]                  # the sequences that reach into this chunk
        rows = xp.asarray(rows_host)
        chunk_lengths = xp.asarray(steps[rows_host])
        model.zero_grad()
        logits, final = model.forward_with_state(ids[start:start + k][:, rows], chunk_lengths,
                                                 select_batch(state, rows))
        loss, d_logits = softmax_cross_entropy(logits, labels[rows])
        model.backward(d_logits)
        update(loss)
        total, terms = total + loss * rows_host.size, terms + rows_host.size
        if state is None:                     # first chunk: every sequence is present
            state, final_logits = copy_state(final), logits.copy()
        else:
            assign_batch(state, rows, final)
            final_logits[rows] = logits
    return total, terms, final_logits
