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

from .. import backend
from .gru import gru_backward, gru_forward
from .lstm import lstm_backward, lstm_forward
from .rnn import rnn_backward, rnn_forward

_CELLS = {
    "rnn_tanh": (lambda x, s, p, ws: rnn_forward(x, s[0], *p, nonlinearity="tanh", workspace=ws), rnn_backward),
    "rnn_relu": (lambda x, s, p, ws: rnn_forward(x, s[0], *p, nonlinearity="relu", workspace=ws), rnn_backward),
    "gru": (lambda x, s, p, ws: gru_forward(x, s[0], *p, workspace=ws), gru_backward),
    "lstm": (lambda x, s, p, ws: lstm_forward(x, s[0], s[1], *p, workspace=ws), lstm_backward),
}


def checkpointed_forward(cell, x, state, params, segment, workspace=None):
    """Run a whole sequence keeping only the states at segment starts.

    Args:
        cell: ``"rnn_tanh"``, ``"rnn_relu"``, ``"gru"`` or ``"lstm"``.
        x: ``(T, B, I)``.  state: ``(h0,)`` or ``(h0, c0)`` for the LSTM (entries may be None).
        params: ``(W_ih, W_hh, b_ih, b_hh)``.  segment: steps per segment ``S``.

    Returns:
        ``out (T, B, H)``, the final state (a tuple like ``state``), and a cache holding only the
        segment-start states.
    """
    if cell not in _CELLS:
        raise ValueError(f"cell: expected one of {sorted(_CELLS)}, got {cell!r}")
    if not isinstance(segment, int) or segment < 1:
        raise ValueError(f"segment: expected a positive int, got {segment!r}")
    forward, _ = _CELLS[cell]
    xp = backend.array_module(x=x)
    T = x.shape[0]
    starts, outs = [], []
    for s in range(0, T, segment):
        starts.append(state)
        out, *final, _ = forward(x[s:s + segment], state, params, workspace)   # the cache is dropped here
        outs.append(out)
        state = tuple(f.copy() for f in final)
    cache = {"cell": cell, "x": x, "starts": starts, "params": params, "segment": segment, "workspace": workspace}
    return xp.concatenate(outs), state, cache


def checkpointed_backward(d_out, d_state, cache):
    """Backward of :func:`checkpointed_forward`: re-run each segment's forward, then its backward.

    ``d_out (T, B, H)`` or None; ``d_state`` a tuple like the state (entries may be None).
    Returns the same dict as the cell's sequence backward: x, h0 (, c0), W_ih, W_hh, b_ih, b_hh.
    """
    forward, backward = _CELLS[cache["cell"]]
    x, params, segment = cache["x"], cache["params"], cache["segment"]
    xp = backend.array_module(x=x)
    T = x.shape[0]
    totals, dx = None, xp.empty_like(x)
    for k in reversed(range(len(cache["starts"]))):
        s = k * segment
        e = min(s + segment, T)
        *_, seg_cache = forward(x[s:e], cache["starts"][k], params, cache["workspace"])   # recompute
        grads = backward(None if d_out is None else d_out[s:e], *d_state, seg_cache)
        dx[s:e] = grads["x"]
        if totals is None:
            totals = {name: grads[name].copy() for name in ("W_ih", "W_hh", "b_ih", "b_hh")}
        else:
            for name in totals:
                totals[name] += grads[name]
        d_state = (grads["h0"], grads["c0"]) if "c0" in grads else (grads["h0"],)
    totals["x"], totals["h0"] = dx, d_state[0]
    if len(d_state) == 2:
        totals["c0"] = d_state[1]
    return totals
