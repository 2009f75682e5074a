r"""Backpropagation through time in bounded memory: recompute activations segment by segment.

Plain BPTT keeps every step's gates and states for the backward: for an LSTM about ``10 * T * B * H``
numbers. Checkpointing through time keeps only the recurrent state at the start of every segment of
``S`` steps. The backward walks the segments last to first; for each it re-runs the forward from the
stored state (now keeping that segment's cache) and backpropagates through it, handing the gradient of
its initial state to the segment before::

    forward:   s_0 --[seg 1]--> s_S --[seg 2]--> s_2S ... (keep s_0, s_S, s_2S, ...; drop the caches)
    backward:  for seg = last..first: re-run seg from its s, backward with (d_out of seg, d_state)

The gradients are those of plain BPTT (the same operations in the same order within each segment);
the price is one more forward pass, and the memory for activations is one segment's instead of T steps'.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import backend
from .cells import get_cell


@dataclass
class CheckpointedCache:
    """What :func:`checkpointed_forward` keeps: the segment-start states, and what it needs to recompute.

    Attributes:
        cell: the registry name.  x: ``(T, B, I)``.  starts: one state tuple per segment.
        params: ``(W_ih, W_hh, b_ih, b_hh)``.  segment: steps per segment.  workspace: or None.
    """
    cell: str
    x: object
    starts: list
    params: tuple
    segment: int
    workspace: object

    def saved_arrays(self):
        """The arrays kept only for the backward: the segment-start states."""
        return [s for state in self.starts for s in state if s is not None]


def checkpointed_forward(cell, x, state, params, segment, workspace=None):
    """Run a whole sequence keeping only the states at segment starts.

    Args:
        cell: a registered cell name (:data:`~rnnscratch.functional.cells.CELL_NAMES`).
        x: ``(T, B, I)``.  state: ``(h0,)`` or ``(h0, c0)`` for a cell with a cell state (entries may be None).
        params: ``(W_ih, W_hh, b_ih, b_hh)``.  segment: steps per segment ``S``.

    Returns:
        ``out (T, B, H)``, the final state (a tuple like ``state``), and a :class:`CheckpointedCache`.
    """
    spec = get_cell(cell)
    if isinstance(segment, bool) or not isinstance(segment, int) or segment < 1:
        raise ValueError(f"segment: expected a positive int, got {segment!r}")
    xp = backend.array_module(x=x)
    T = x.shape[0]
    starts, outs = [], []
    for s in range(0, T, segment):
        starts.append(state)
        out, final, _ = spec.run(x[s:s + segment], state, params, workspace=workspace)   # the cache is dropped
        outs.append(out)
        state = tuple(f.copy() for f in final)
    return xp.concatenate(outs), state, CheckpointedCache(cell, x, starts, params, segment, workspace)


def checkpointed_backward(d_out, d_state, cache):
    """Backward of :func:`checkpointed_forward`: re-run each segment's forward, then its backward.

    ``d_out (T, B, H)`` or None; ``d_state`` a tuple like the state (entries may be None).
    Returns the same dict as the cell's sequence backward: x, h0 (, c0), W_ih, W_hh, b_ih, b_hh.
    """
    spec = get_cell(cache.cell)
    x, params, segment = cache.x, cache.params, cache.segment
    xp = backend.array_module(x=x)
    T = x.shape[0]
    totals, dx = None, xp.empty_like(x)
    for k in reversed(range(len(cache.starts))):
        s = k * segment
        e = min(s + segment, T)
        _, _, segment_cache = spec.run(x[s:e], cache.starts[k], params, workspace=cache.workspace)   # recompute
        grads = spec.run_backward(None if d_out is None else d_out[s:e], d_state, segment_cache)
        dx[s:e] = grads["x"]
        if totals is None:
            totals = {name: grads[name].copy() for name in ("W_ih", "W_hh", "b_ih", "b_hh")}
        else:
            for name in totals:
                totals[name] += grads[name]
        d_state = tuple(grads[name] for name in spec.initial_names)
    totals["x"] = dx
    totals.update(zip(spec.initial_names, d_state))
    return totals
