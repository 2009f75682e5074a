"""What the three recurrent cells' sequence functions share: argument checks, the cache's common
fields, the backward's prologue and the after-sweep weight gradients.

Kept apart from the equations so that ``rnn.py``, ``lstm.py`` and ``gru.py`` read as math.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from .. import backend
from .._checks import check_same_float_dtype, check_shape
from .masking import length_mask

NOT_SAVED = ("x", "W_ih", "W_hh", "workspace")
"""Cache fields that exist whether or not BPTT keeps anything: the input, the weights, the buffers."""


@dataclass
class SequenceCache:
    """What a sequence forward keeps for its backward; each cell's cache adds its own fields.

    Attributes:
        x: ``(T, B, I)`` the input.  hs: ``(T + 1, B, H)`` with ``hs[0] = h0`` and ``hs[t + 1] = h_t``.
        W_ih, W_hh: the weights (references, not copies).
        mask: ``(T, B, 1)`` bool length mask, or None when every sequence has all T steps.
        workspace: the :class:`~rnnscratch.functional.workspace.Workspace` whose buffers some fields
            live in (the cache is valid until the next forward with it), or None.
    """
    x: object
    hs: object
    W_ih: object
    W_hh: object
    mask: object
    workspace: object

    def saved_arrays(self):
        """The arrays kept only for the backward (states, gates, mask): not the input or the weights."""
        values = (getattr(self, f.name) for f in fields(self) if f.name not in NOT_SAVED)
        return [v for v in values if hasattr(v, "nbytes")]


def prepare_sequence(x, h0, W_ih, W_hh, b_ih, b_hh, num_gates, lengths=None, c0=None, has_cell_state=False):
    """Validate a sequence call and return ``(xp, T, B, H, h0, c0, mask)``.

    Shapes: ``x (T, B, I)``, ``h0, c0 (B, H)`` or None (zeros), ``W_ih (G*H, I)``, ``W_hh (G*H, H)``,
    ``b_ih, b_hh (G*H,)`` with G = ``num_gates`` (1 RNN, 4 LSTM, 3 GRU), ``lengths (B,)`` ints in [1, T].
    ``c0`` is only read when ``has_cell_state``. ``mask`` is :func:`~rnnscratch.functional.masking.length_mask`'s.
    """
    xp = backend.array_module(x=x, h0=h0, c0=c0, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh, lengths=lengths)
    check_shape("W_hh", W_hh, (None, None))
    H = W_hh.shape[1]
    check_shape("W_hh", W_hh, (num_gates * H, H))
    check_shape("x", x, (None, None, None))
    T, B, I = x.shape
    if T < 1:
        raise ValueError(f"x: expected at least one time step, got shape {tuple(x.shape)}")
    check_shape("W_ih", W_ih, (num_gates * H, I))
    check_shape("b_ih", b_ih, (num_gates * H,))
    check_shape("b_hh", b_hh, (num_gates * H,))
    check_same_float_dtype(x=x, h0=h0, c0=c0, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh)
    if h0 is None:
        h0 = xp.zeros((B, H), dtype=x.dtype)
    check_shape("h0", h0, (B, H))
    if has_cell_state:
        if c0 is None:
            c0 = xp.zeros((B, H), dtype=x.dtype)
        check_shape("c0", c0, (B, H))
    return xp, T, B, H, h0, c0, length_mask(lengths, T, B, xp)


def final_state_gradient(name, d_state, like, xp):
    """A private, writable copy of the gradient arriving at the final state (zeros when None).

    The backward sweep accumulates into this buffer, so it must never be the caller's array.
    """
    if d_state is None:
        return xp.zeros_like(like)
    check_shape(name, d_state, like.shape)
    return d_state.copy()


def start_backward(d_out, d_h_n, cache):
    """Common prologue of a sequence backward: ``(xp, d_out, dh)``.

    ``d_out`` is checked and zeroed at padded steps (their outputs are constant zeros); ``dh`` is a
    private copy of the final state's gradient that the sweep will accumulate into.
    """
    hs, mask = cache.hs, cache.mask
    xp = backend.array_module(hs=hs, d_out=d_out, d_h_n=d_h_n)
    if d_out is not None:
        check_shape("d_out", d_out, hs[1:].shape)
        if mask is not None:
            d_out = xp.where(mask, d_out, 0)
    return xp, d_out, final_state_gradient("d_h_n", d_h_n, hs[-1], xp)


def parameter_gradients(du, dv, x, h_prev, W_ih):
    """The gradients of the input, the weights and the biases from those of the pre-activations.

    ``du (..., G*H)``: gradients of the input-side pre-activations ``x W_ih^T + b_ih``; ``dv``: those of
    the hidden-side ``h W_hh^T + b_hh`` (the same array for RNN and LSTM, where both sides enter one
    sum). ``x (..., I)`` and ``h_prev (..., H)`` are the inputs and previous states; ``...`` is ``(B,)``
    for one step or ``(T, B)`` for a sequence, where each weight gradient (a sum over steps) is then
    one matrix product after the sweep. Returns x, W_ih, W_hh, b_ih, b_hh.
    """
    GH = du.shape[-1]
    du2, dv2 = du.reshape(-1, GH), dv.reshape(-1, GH)
    db_ih = du2.sum(axis=0)
    return {
        "x": (du2 @ W_ih).reshape(x.shape),                       # dx_t = du_t W_ih
        "W_ih": du2.T @ x.reshape(-1, x.shape[-1]),               # sum_t du_t^T x_t
        "W_hh": dv2.T @ h_prev.reshape(-1, h_prev.shape[-1]),     # sum_t dv_t^T h_{t-1}
        "b_ih": db_ih,
        "b_hh": db_ih.copy() if dv is du else dv2.sum(axis=0),
    }
